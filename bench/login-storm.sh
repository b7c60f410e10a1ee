#!/usr/bin/env bash
# 500 concurrent wrong logins against the release server on a fresh SQLite
# demo database; prints the answers by code and the server's peak memory.
#   bash bench/login-storm.sh [concurrency]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-500}"
. bench/scratch-server.sh
scratch_server 18080 10
rss() { awk "/^$1:/ {print int(\$2/1024)}" "/proc/$pid/status"; }
echo "server RSS before: $(rss VmRSS) MiB"
body='{"query":"mutation($l:String!){login(input:{login:$l,password:\"wrong-guess\"}){userErrors{code}}}","variables":{"l":"LOGIN"}}'
start=$(date +%s.%N)
seq 1 "$N" | xargs -P "$N" -I{} sh -c "curl -s -H 'content-type: application/json' \
  -d '$(echo "$body" | sed 's/LOGIN/cq.sales{}/')' http://127.0.0.1:18080/graphql; echo" >"$dir/answers"
end=$(date +%s.%N)
echo "$N answers in $(echo "$end - $start" | bc) s:"
grep -o '"code":"[A-Z_]*"' "$dir/answers" | sort | uniq -c
echo "server peak RSS (VmHWM): $(rss VmHWM) MiB, now $(rss VmRSS) MiB"
curl -sf http://127.0.0.1:18080/healthz >/dev/null && echo "healthz: ok"
