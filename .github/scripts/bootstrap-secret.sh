#!/usr/bin/env bash
# Puts the run's bootstrap token into the cluster as Kubernetes' bootstrap-token Secret
# (kube-system/bootstrap-token-<id>, type bootstrap.kubernetes.io/token), waiting for the freshly
# published API server to answer. Node agents retry joining until it exists.
set -euo pipefail
: "${SERVER:?}" "${CORACLE_ADMIN_TOKEN:?}" "${CORACLE_BOOTSTRAP_TOKEN:?}"
id=${CORACLE_BOOTSTRAP_TOKEN%%.*}
secret=${CORACLE_BOOTSTRAP_TOKEN#*.}
k() { kubectl --server="$SERVER" --token="$CORACLE_ADMIN_TOKEN" "$@"; }
for _ in $(seq 1 30); do k get --raw /readyz >/dev/null 2>&1 && break; sleep 10; done
k create secret generic "bootstrap-token-$id" -n kube-system --type bootstrap.kubernetes.io/token \
  --from-literal=token-id="$id" --from-literal=token-secret="$secret" \
  --from-literal=usage-bootstrap-authentication=true --from-literal=auth-extra-groups=system:bootstrappers:coracle \
  --dry-run=client -o yaml | k apply -f -
