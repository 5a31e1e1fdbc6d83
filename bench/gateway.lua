-- bench/gateway.lua: wrk script for the gateway benchmark. Env: BENCH_PATH (default
-- /v1/chat/completions), BENCH_BODY (JSON), BENCH_RATE (requests per second to hold, per wrk
-- thread; 0 = as fast as possible), BENCH_DELAY_MS (the older fixed per-connection pause, used
-- only without BENCH_RATE), BENCH_HEADERS ("k: v|k: v").
-- Pacing: each request reserves the next slot of a schedule spaced 1/BENCH_RATE apart (on the
-- monotonic clock, through LuaJIT's ffi) and waits for it, so the rate holds whatever the
-- latency, as long as enough connections are idle; a slot already past is taken at once.
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
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
if rate > 0 then
  local ffi = require("ffi")
  ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_ts; int clock_gettime(int, bench_ts *); ]]
  local ts = ffi.new("bench_ts")
  local function now_ms()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local interval = 1000 / rate
  local slot = nil
  function delay()
    local t = now_ms()
    if slot == nil or slot < t - 5 * interval then slot = t end -- behind: no catch-up burst
    slot = slot + interval
    local d = slot - t
    return d > 0 and math.floor(d + 0.5) or 0
  end
elseif delay_ms > 0 then
  function delay() return delay_ms end
end
function done(summary, latency, requests)
  local errs = summary.errors.connect + summary.errors.read + summary.errors.write +
               summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT rps=%.1f p50=%d p90=%d p99=%d requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(90),
    latency:percentile(99), summary.requests, errs))
end
