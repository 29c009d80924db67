#!/usr/bin/env bash
# The deploy workflow's smoke test: kubectl reaches the API server with the admin token, and
# every node the templates ask for ($NODES, the deployment's nodeCount output) registers and is
# Ready within 20 minutes (cloud-init installs Moby and Node.js, then the agent joins with the
# bootstrap token). Fails, printing the nodes it saw, when they do not.
set -euo pipefail
: "${SERVER:?}" "${CORACLE_ADMIN_TOKEN:?}" "${NODES:?}"
kubectl config set-cluster coracle --server="$SERVER" >/dev/null
kubectl config set-credentials admin --token="$CORACLE_ADMIN_TOKEN" >/dev/null
kubectl config set-context coracle --cluster=coracle --user=admin >/dev/null
kubectl config use-context coracle >/dev/null
for _ in $(seq 1 30); do kubectl version >/dev/null 2>&1 && break; sleep 10; done
kubectl version
ready=0
for _ in $(seq 1 120); do
  ready=$(kubectl get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$' || true)
  [ "$ready" -ge "$NODES" ] && break
  sleep 10
done
kubectl get nodes -o wide
if [ "$ready" -lt "$NODES" ]; then
  echo "smoke test: $ready of $NODES nodes Ready after 20 minutes" >&2
  exit 1
fi
echo "smoke test: $ready of $NODES nodes Ready"
