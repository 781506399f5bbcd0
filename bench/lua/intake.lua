-- Intake for bench/load.py: POST /api/v1/dossiers/ as a counter officer, each request a new
-- applicant (name, citizen ID, phone from a per-thread counter and the run's number) and its own
-- Idempotency-Key, units and
-- procedures taken in turn from data.targets. The codes answered with 201 are written to
-- LOAD_CODES (one a line) for the lost/duplicate check. See common.lua.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "common.lua")

local counter = 0
codes = {}

function init(args)
   counter = 0
end

function request()
   counter = counter + 1
   local t = tid or 0
   local target = data.targets[((counter + t) % #data.targets) + 1]
   local serial = t * 10000000 + counter
   local body = string.format(
      '{"procedure": "%s", "unit": "%s", "channel": "in_person", "documents": %s, ' ..
      '"applicant": {"full_name": "Nguyễn Thị Tải %d-%d", "id_number": "%03d%09d", ' ..
      '"phone": "09%08d", "address": "Tổ %d, phường Đồng Tâm"}, "note": "load %d"}',
      target.procedure, target.unit, target.documents, data.run, serial, data.run % 1000,
      serial, serial % 100000000, counter % 50, data.run)
   -- as a counter's software would: one key per submission, a resend would return the same
   data.headers["Idempotency-Key"] = string.format("load-%d-%d", data.run, serial)
   return wrk.format("POST", data.path, data.headers, body)
end

function response(status, headers, body)
   if status == 201 then
      local code = body:match('^{"code":%s*"([^"]+)"')
      codes[#codes + 1] = code or "?"
   end
   count_response(status)
end

extra_done = function(threads)
   local path = os.getenv("LOAD_CODES")
   if not path then return end
   local out = io.open(path, "w")
   for _, thread in ipairs(threads) do
      for _, code in ipairs(thread:get("codes") or {}) do
         out:write(code, "\n")
      end
   end
   out:close()
end
