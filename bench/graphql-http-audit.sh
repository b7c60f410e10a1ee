#!/usr/bin/env bash
# The GraphQL-over-HTTP audit (graphql-http's 61 server audits) against the
# release server on a scratch SQLite demo. Needs node and npm; installs
# graphql-http into a temporary folder.
#   bash bench/graphql-http-audit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/scratch-server.sh
scratch_server 18081 5
(cd "$dir" && npm init -y >/dev/null && npm i -s graphql-http graphql >/dev/null)
cat >"$dir/audit.mjs" <<'JS'
import { auditServer } from 'graphql-http';
const results = await auditServer({ url: 'http://127.0.0.1:18081/graphql' });
const count = {};
for (const r of results) {
  count[r.status] = (count[r.status] || 0) + 1;
  if (r.status !== 'ok') console.log(`${r.status} ${r.id} ${r.name}: ${r.reason}`);
}
console.log(JSON.stringify(count), 'of', results.length, 'audits');
JS
(cd "$dir" && node audit.mjs)
