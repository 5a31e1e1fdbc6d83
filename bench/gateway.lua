-- bench/gateway.lua: wrk script for the gateway benchmark. Env: BENCH_PATH (default
-- /v1/chat/completions), BENCH_BODY (JSON), BENCH_DELAY_MS (per-connection pause between
-- requests, to hold a target rate; 0 = as fast as possible), BENCH_HEADERS ("k: v|k: v").
-- Prints one machine-readable line: rps, p50/p90/p99 latency in microseconds, errors.
local path = os.getenv("BENCH_PATH") or "/v1/chat/completions"
local body = os.getenv("BENCH_BODY") or '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}'
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
wrk.method = "POST"
wrk.path = path
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-fake-key"
for kv in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^|]+") do
  local k, v = string.match(kv, "^%s*([^:]+):%s*(.*)$")
  if k then wrk.headers[k] = v end
end
if delay_ms > 0 then
  function delay() return delay_ms end
end
function done(summary, latency, requests)
  local errs = summary.errors.connect + summary.errors.read + summary.errors.write +
               summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT rps=%.1f p50=%d p90=%d p99=%d requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(90),
    latency:percentile(99), summary.requests, errs))
end
