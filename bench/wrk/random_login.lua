-- POST /api/login/ with a random phone every request: +79[4-9] and 8 digits
-- (the seeded users live in +7900 and +791, so no login meets one of them).
-- Arguments: a random seed, and a file prefix to record "token code" lines
-- of the answers in (or "-"); the harness turns those into verify's pool.

local record

function init(args)
   math.randomseed(tonumber(args[1]) + 7919 * id)
   record = open_record(args[2])
   wrk.headers["Content-Type"] = "application/json"
   if record == nil then
      response = nil -- wrk then skips parsing the answers
   end
end

function request()
   local phone = string.format("+79%d%08d", math.random(4, 9), math.random(0, 99999999))
   return wrk.format("POST", "/api/login/", nil, '{"phone": "' .. phone .. '"}')
end

function response(status, headers, body)
   if status == 200 then
      local token = body:match('"token":%s*"([^"]+)"')
      local code = body:match('"confirm_code":%s*"(%d+)"')
      if token and code then
         record:write(token, " ", code, "\n")
      end
   end
end
