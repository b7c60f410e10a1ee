#!/usr/bin/env bash
# The CRM side by side with PostGraphile 5 over one PostgreSQL database of
# 1,000,000 customers (issue #17). One command, from the repository root:
#
#   bash bench/compare.sh               # both network sizes, then compare
#   KEEP_DATA=1 bash bench/compare.sh   # reuse the 1 M crm_bench database
#
# 1. generates a network of 10,000 customers and times ours, one request at
#    a time (the "small" column of the flatness table);
# 2. generates the network of 1,000,000 customers (`bench --phases
#    network`), starts ours (`dealer-crm serve`, the release build) and
#    PostGraphile 5 (bench/postgraphile, from npm) over it, checks both give
#    the same answers, counts SQL statements per request, runs wrk at 32 and
#    64 connections for each read, and times ours again.
# Prints markdown tables. Needs the local PostgreSQL (postgres@127.0.0.1,
# trust auth), Node.js and npm; installs wrk from Debian's packages when it
# is missing. Extra arguments go to the comparison (e.g. --seconds 10).
set -euo pipefail
cd "$(dirname "$0")/.."
ADMIN_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB_URL="${ADMIN_URL%/*}/crm_bench"
OURS_PORT=${OURS_PORT:-18080}
THEIRS_PORT=${THEIRS_PORT:-5678}
WORK=$(mktemp -d)

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
(cd bench/postgraphile && npm ci --no-audit --no-fund --loglevel=error)
cargo build --release -q -p dealer-crm -p bench

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
wait_for() {
  for _ in $(seq 1 120); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" != "000" ] && return 0
    sleep 0.5
  done
  echo "no answer from $1" >&2
  return 1
}
start_ours() {
  DATABASE_URL="$DB_URL" BIND="127.0.0.1:$OURS_PORT" SEED_DEMO=false SCHEDULER_INTERVAL_SECS=0 \
    RATE_LIMIT_PER_MINUTE=0 RUST_LOG=warn target/release/dealer-crm serve >"$WORK/ours.log" 2>&1 &
  OURS=$!
  pids+=("$OURS")
  wait_for "http://127.0.0.1:$OURS_PORT/readyz"
}
bench() {
  target/release/bench --database-url "$ADMIN_URL" --ours "http://127.0.0.1:$OURS_PORT/graphql" \
    --theirs "http://127.0.0.1:$THEIRS_PORT/graphql" --flat-baseline "$WORK/small.json" "$@"
}

if [ -z "${KEEP_DATA:-}" ]; then
  bench --phases network --customers 10000
  start_ours
  bench --phases latency --customers 10000
  kill "$OURS"
  wait "$OURS" 2>/dev/null || true
  bench --phases network
fi
start_ours
DATABASE_URL="$DB_URL" PORT="$THEIRS_PORT" NODE_ENV=production \
  node bench/postgraphile/server.mjs >"$WORK/theirs.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$THEIRS_PORT/graphql"
bench --phases compare "$@"
