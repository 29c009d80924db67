#!/usr/bin/env bash
# Sets CORACLE_ADMIN_TOKEN, CORACLE_BOOTSTRAP_TOKEN and CORACLE_NODE_SSH_KEY for the later steps
# of .github/workflows/deploy.yml (through $GITHUB_ENV, masked in the log). Each is read back from
# the deployment when it exists (the Function App's settings, the scale set's model), so a
# redeploy keeps the admin's kubeconfig valid; the first run generates them.
set -euo pipefail
: "${RESOURCE_GROUP:?}"

app=$(az functionapp list -g "$RESOURCE_GROUP" --query "[?ends_with(name, '-api')].name | [0]" -o tsv 2>/dev/null || true)
admin=""
if [ -n "$app" ]; then
  admin=$(az functionapp config appsettings list -g "$RESOURCE_GROUP" -n "$app" --query "[?name=='CORACLE_ADMIN_TOKEN'].value | [0]" -o tsv)
fi
[ -n "$admin" ] || admin=$(openssl rand -hex 32)

# A bootstrap token (kubeadm's format, <6>.<16> of [a-z0-9]) with a fixed id per resource group and
# a fresh secret each run: the same run puts it in the scale set's model and in the cluster.
id=$(printf '%s' "$RESOURCE_GROUP" | sha256sum | cut -c1-6)
bootstrap="$id.$(openssl rand -hex 8)"

key=$(az vmss list -g "$RESOURCE_GROUP" --query "[0].virtualMachineProfile.osProfile.linuxConfiguration.ssh.publicKeys[0].keyData" -o tsv 2>/dev/null || true)
if [ -z "$key" ]; then
  # Nobody logs in over SSH (no public IP); the private key is thrown away.
  ssh-keygen -q -t rsa -b 4096 -N '' -f "$RUNNER_TEMP/node-key"
  key=$(cat "$RUNNER_TEMP/node-key.pub")
fi

echo "::add-mask::$admin"
echo "::add-mask::$bootstrap"
{
  echo "CORACLE_ADMIN_TOKEN=$admin"
  echo "CORACLE_BOOTSTRAP_TOKEN=$bootstrap"
  echo "CORACLE_NODE_SSH_KEY=$key"
} >> "$GITHUB_ENV"
