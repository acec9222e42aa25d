-- wrk script for bench/load.ts: POSTs JSON bodies (one per line of the file given as the first
-- argument, sent in turn) with the Basic credential given as the second, and prints the figures
-- as one JSON line prefixed "WRK_JSON " in done(). Latencies are in microseconds.
--
-- Per-status counts need the response() hook, which makes wrk parse every response's headers
-- and body in Lua and costs it throughput; it is only defined when WRK_COUNT_STATUSES=1. Without
-- it, non-2xx/3xx responses are still counted by wrk itself (summary.errors.status, the figure
-- of its "Non-2xx or 3xx responses" line).

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local requests = {}
local next_request = 1

function init(args)
  wrk.headers["Authorization"] = args[2]
  for line in io.lines(args[1]) do
    if line ~= "" then
      requests[#requests + 1] = wrk.format(nil, nil, nil, line)
    end
  end
  if #requests == 0 then
    error("no request bodies in " .. tostring(args[1]))
  end
end

function request()
  local r = requests[next_request]
  next_request = next_request % #requests + 1
  return r
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

if os.getenv("WRK_COUNT_STATUSES") == "1" then
  statuses = {}
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    if type(s) == "table" then
      for status, n in pairs(s) do
        counts[#counts + 1] = string.format('"%d":%d', status, n)
      end
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"non2xx3xx":%d,"connectErrors":%d,"readErrors":%d,' ..
      '"writeErrors":%d,"timeouts":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"meanUs":%.1f,"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    table.concat(counts, ",")))
end
