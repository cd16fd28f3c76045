-- POST a GraphQL request whose body ($WRK_BODY) has __ID__ replaced by a random integer in
-- [1, $WRK_MAX_ID] on every request (as real clients send variables); prints a JSON summary.
-- Used by bench/executor_bench.py: wrk -t1 -cN -dT -s bench/wrk/random.lua URL
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local template = os.getenv("WRK_BODY")
local max_id = tonumber(os.getenv("WRK_MAX_ID") or "1000")
local auth = os.getenv("WRK_AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed or os.time())
end

function request()
  local id = tostring(math.random(1, max_id))
  return wrk.format(nil, nil, nil, (template:gsub("__ID__", id)))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "errors": %d, ' ..
    '"p50_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
