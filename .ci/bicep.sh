#!/usr/bin/env bash
# Bicep in CI: installs the compiler from NuGet (the Azure.Bicep.CommandLine.linux-x64 package,
# restored by .ci/bicep/bicep.csproj into the NuGet cache; a second run finds it there and
# restores nothing), then builds and lints every template and parameters file under infra/.
# Fails on any error and on any warning: infra/bicepconfig.json makes each rule an error or turns
# it off with its reason.
#
#   .ci/bicep.sh          install, build, lint
#   .ci/bicep.sh --path   install, then print the `bicep` executable's path (tests use it)
set -euo pipefail
cd "$(dirname "$0")/.."

project=.ci/bicep/bicep.csproj
version=$(sed -n 's:.*<BicepVersion>\(.*\)</BicepVersion>.*:\1:p' "$project")
packages=${NUGET_PACKAGES:-$HOME/.nuget/packages}
bicep="$packages/azure.bicep.commandline.linux-x64/$version/tools/bicep"

if [ ! -x "$bicep" ]; then
  if ! command -v dotnet >/dev/null; then
    echo "bicep: dotnet is not installed; it restores the compiler from NuGet (Azure.Bicep.CommandLine.linux-x64 $version)" >&2
    exit 1
  fi
  dotnet restore "$project" --nologo -v quiet >&2
  chmod u+x "$bicep" # NuGet does not always keep the executable bit
fi
# The cloud-init check (test/infra/cloud-init.test.ts) uses Debian's cloud-init and shellcheck.
if ! command -v cloud-init >/dev/null || ! command -v shellcheck >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cloud-init shellcheck >/dev/null 2>&1 ||
      echo "bicep.sh: cloud-init/shellcheck could not be installed; the cloud-init test will fail" >&2
  fi
fi
if [ "${1:-}" = --path ]; then
  echo "$bicep"
  exit 0
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The parameters file reads its secrets from the environment: placeholders of the right shape.
export CORACLE_ADMIN_TOKEN=${CORACLE_ADMIN_TOKEN:-$(printf '0%.0s' {1..64})}
export CORACLE_NODE_SSH_KEY=${CORACLE_NODE_SSH_KEY:-ssh-rsa AAAA placeholder}

log="$out/diagnostics.txt"
status=0
# One compiler process per step (each start costs seconds): --pattern takes every file at once.
"$bicep" build --pattern 'infra/**/*.bicep' --outdir "$out" >>"$log" 2>&1 || status=1
"$bicep" lint --pattern 'infra/**/*.bicep' >>"$log" 2>&1 || status=1
"$bicep" lint --pattern 'infra/**/*.bicepparam' >>"$log" 2>&1 || status=1
for params in infra/*.bicepparam; do
  "$bicep" build-params "$params" --outfile "$out/$(basename "$params").json" >>"$log" 2>&1 || status=1
done
# Each template is reported once per file that includes it: show each diagnostic once.
sort -u "$log" | sed '/^$/d'
if [ "$status" != 0 ] || grep -qE ': (Error|Warning) ' "$log"; then
  echo "bicep: errors or warnings above (warnings must be fixed or justified in infra/bicepconfig.json)" >&2
  exit 1
fi
echo "bicep $version: $(find infra -name "*.bicep*" -not -name bicepconfig.json | wc -l) files build and lint clean"
