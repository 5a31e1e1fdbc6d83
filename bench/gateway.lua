-- bench/gateway.lua: wrk script for the gateway benchmark. Env: BENCH_PATH (default
-- /v1/chat/completions), BENCH_BODY (JSON), BENCH_RATE (requests per second to hold, over ALL wrk
-- threads; 0 = as fast as possible), BENCH_THREADS (the -t given to wrk, default 1: the rate is
-- shared among them), BENCH_DELAY_MS (the older fixed per-connection pause, used only without
-- BENCH_RATE), BENCH_HEADERS ("k: v|k: v"), BENCH_NKEYS and BENCH_KEY_PREFIX (each request with
-- the virtual key PREFIX<i>, i going round 0..NKEYS-1: bench/budget_sync.sh).
-- Pacing: each wrk thread holds BENCH_RATE / BENCH_THREADS on its own schedule, slots spaced
-- BENCH_THREADS / BENCH_RATE apart on CLOCK_MONOTONIC (through LuaJIT's ffi), thread k's grid
-- offset by k / BENCH_RATE, so the threads' requests interleave; each request reserves the next
-- slot of its thread and waits for it, so the rate holds whatever the latency as long as enough
-- connections are idle; a slot already past is taken at once (at most 2.5 ms of backlog: a
-- client further behind starts a fresh schedule instead of bursting).
-- Why several threads: wrk's timers have whole-millisecond resolution and one wrk thread wakes
-- about every 1.1-1.4 ms, sending everything due at once: at 2,000 RPS on one thread 54% of
-- requests left less than 50 us after the previous one (clumps of 3 to 10), where a client
-- sending every 0.5 ms has none and a Poisson one about 10%. With 4 threads on their own phases:
-- 16% (bench measurement in BENCHMARKS.md, gateway, session 3). A clump of k requests makes the
-- k-th wait for the k-1 before it in any single-threaded server, so the clumps were a tail-latency
-- source of the harness, not of the server.
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
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local setup_count = 0
function setup(thread) -- runs in the main state, once per thread: number them for their phases
  thread:set("bench_thread_id", setup_count)
  setup_count = setup_count + 1
end
if rate > 0 then
  local ffi = require("ffi")
  ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_ts; int clock_gettime(int, bench_ts *); ]]
  local ts = ffi.new("bench_ts")
  local function now_ms()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local interval = 1000 * nthreads / rate -- this thread's spacing
  local behind = 5 * 1000 / rate          -- 2.5 ms at 2,000 RPS
  local slot = nil
  function delay()
    local t = now_ms()
    if slot == nil or slot < t - behind then -- start (or restart) on this thread's grid
      local off = (bench_thread_id or 0) % nthreads * interval / nthreads
      slot = math.floor((t - off) / interval) * interval + off
    end
    slot = slot + interval
    local d = slot - t
    return d > 0 and math.floor(d + 0.5) or 0
  end
elseif delay_ms > 0 then
  function delay() return delay_ms end
end
local nkeys = tonumber(os.getenv("BENCH_NKEYS") or "0")
if nkeys > 0 then
  local prefix, n = os.getenv("BENCH_KEY_PREFIX") or "", nil
  function request()
    n = ((n or (bench_thread_id or 0) * 7919) + 1) % nkeys -- the threads start apart
    wrk.headers["Authorization"] = "Bearer " .. prefix .. n
    return wrk.format()
  end
end
function done(summary, latency, requests)
  local errs = summary.errors.connect + summary.errors.read + summary.errors.write +
               summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT rps=%.1f p50=%d p90=%d p99=%d requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(90),
    latency:percentile(99), summary.requests, errs))
end
