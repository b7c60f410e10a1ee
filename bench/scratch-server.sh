# Sourced by the bench scripts: `scratch_server PORT CUSTOMERS` builds the
# release server and starts it on 127.0.0.1:PORT with a fresh SQLite demo
# in $dir (made here), waits until it answers, and sets $pid. The caller's
# EXIT trap stops it and removes $dir.
dir="$(mktemp -d)"
pid=""
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT

scratch_server() {
  local port="$1" customers="$2"
  cargo build --release -q
  BIND="127.0.0.1:$port" DATABASE_URL="sqlite://$dir/scratch.db?mode=rwc" JWT_SECRET_FILE="$dir/secret" \
    SCHEDULER_INTERVAL_SECS=0 SEED_CUSTOMERS_PER_STORE="$customers" ./target/release/dealer-crm serve >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0; sleep 0.2; done
  echo "the server did not start; its log:" >&2
  cat "$dir/log" >&2
  return 1
}
