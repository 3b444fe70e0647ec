-- (b) POST /api/login/ with a new phone every time.
-- Argument: a run tag 10..99, so phones never repeat within one server's life:
-- +79 TT I NNNNNN (tag, thread id, counter).

local prefix
local counter = 0

function init(args)
   prefix = string.format("%02d%d", tonumber(args[1]), id % 10)
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   counter = counter + 1
   local body = string.format('{"phone": "+79%s%06d"}', prefix, counter)
   return wrk.format("POST", "/api/login/", nil, body)
end
