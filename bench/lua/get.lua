-- GET requests for bench/load.py: data.paths taken in turn (each thread starting elsewhere),
-- with data.headers (a session cookie or an API token); with data.vary_client, each request
-- from another client address (X-Forwarded-For). See common.lua.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "common.lua")

local index = 0

function init(args)
   index = (tid or 0) * 7919
end

local serial = 0

function request()
   index = index + 1
   local path = data.paths[(index % #data.paths) + 1]
   if data.vary_client then
      -- Each request from its own citizen behind the reverse proxy (NUM_PROXIES=1): the
      -- per-address rate limit keeps the state it has in production, one count per address.
      serial = serial + 1
      local n = (tid or 0) * 1048576 + serial
      data.headers["X-Forwarded-For"] = string.format(
         "10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
   end
   return wrk.format("GET", path, data.headers)
end

function response(status, headers, body)
   count_response(status)
end
