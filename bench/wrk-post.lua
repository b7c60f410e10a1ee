-- wrk script for bench/compare.sh: POSTs one GraphQL body.
-- wrk ... -s bench/wrk-post.lua <url> -- <body file> [bearer token]
-- Prints one JSON line at the end: requests, seconds, non-2xx, socket
-- errors and latency percentiles in microseconds.
function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[2] and args[2] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[2]
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"micros":%d,"non2xx":%d,"errors":%d,"p50":%d,"p99":%d}\n',
    summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
