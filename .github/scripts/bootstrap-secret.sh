#!/usr/bin/env bash
# Puts the run's bootstrap token into the cluster with `coracle token create` (stored hashed as
# kube-system/bootstrap-token-<id>, type bootstrap.kubernetes.io/token, not expiring: a scale set VM
# created or reimaged later, by a scale-out or a node upgrade, joins with the token in the model), replacing an
# earlier run's token of the same id, once the freshly published API server answers. Node agents
# retry joining until it exists. Run from the repository root after `npm run build`.
set -euo pipefail
: "${SERVER:?}" "${CORACLE_ADMIN_TOKEN:?}" "${CORACLE_BOOTSTRAP_TOKEN:?}"
id=${CORACLE_BOOTSTRAP_TOKEN%%.*}
KUBECONFIG=$(mktemp)
export KUBECONFIG
trap 'rm -f "$KUBECONFIG"' EXIT
kubectl config set-cluster coracle --server="$SERVER" >/dev/null
kubectl config set-credentials admin --token="$CORACLE_ADMIN_TOKEN" >/dev/null
kubectl config set-context coracle --cluster=coracle --user=admin >/dev/null
kubectl config use-context coracle >/dev/null
for _ in $(seq 1 30); do kubectl get --raw /readyz >/dev/null 2>&1 && break; sleep 10; done
node dist/cli/coracle.js token delete "$id" >/dev/null 2>&1 || true
node dist/cli/coracle.js token create "$CORACLE_BOOTSTRAP_TOKEN" --ttl 0 --description "node pools (deploy run; rotated by each deploy)" >/dev/null
