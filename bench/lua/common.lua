-- Shared by the bench/load.py scripts: per-thread status counts, a stop at LOAD_DEADLINE, and
-- a one-line JSON summary printed by done() for bench/load.py to read.
--
-- Environment (set by bench/load.py for each wrk process):
--   LOAD_DATA      a Lua file returning the request data (paths, headers, intake targets)
--   LOAD_DEADLINE  epoch seconds: a thread stops after the first response past it. With one
--                  connection per thread (wrk -t N -c N) no request is then left in flight,
--                  so every request the server handled was counted (wrk -d is set longer).

data = dofile(os.getenv("LOAD_DATA"))
deadline = tonumber(os.getenv("LOAD_DEADLINE") or "0")

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

statuses = {}
sent = 0

function count_response(status)
   statuses[status] = (statuses[status] or 0) + 1
   if deadline > 0 and os.time() >= deadline then
      wrk.thread:stop()
   end
end

local function json_counts(map)
   local parts = {}
   for key, value in pairs(map) do
      parts[#parts + 1] = string.format('"%s": %d', tostring(key), value)
   end
   return "{" .. table.concat(parts, ", ") .. "}"
end

extra_done = nil  -- a script may set a function(threads) run before the summary

function done(summary, latency, requests)
   local merged = {}
   for _, thread in ipairs(threads) do
      local counts = thread:get("statuses") or {}
      for status, n in pairs(counts) do
         merged[status] = (merged[status] or 0) + n
      end
   end
   if extra_done then
      extra_done(threads)
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p95": %d, ' ..
      '"p99": %d}, "statuses": %s}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.max,
      latency:percentile(50), latency:percentile(90), latency:percentile(95),
      latency:percentile(99), json_counts(merged)))
end
