-- POST /api/verify/{token}/ with the code, each pre-created login once.
-- Arguments: the file of "token code" lines, wrk's thread count, and a file
-- prefix to record the session tokens of the answers in (or "-"); those
-- become apply's pool. After the file runs out every request is counted in
-- `exhausted` and goes to a token that does not exist (a non-2xx answer).

local share, next_line = {}, 1
local record
exhausted, consumed = 0, 0

function init(args)
   share = read_share(args[1], tonumber(args[2]))
   record = open_record(args[3])
   wrk.headers["Content-Type"] = "application/json"
   if record == nil then
      response = nil
   end
end

function request()
   local line = share[next_line]
   if line == nil then
      exhausted = exhausted + 1
      return wrk.format("POST", "/api/verify/pool-ran-out/", nil, '{"confirm_code": "0000"}')
   end
   next_line, consumed = next_line + 1, consumed + 1
   local token, code = line:match("(%S+) (%S+)")
   local body = '{"confirm_code": "' .. code .. '"}'
   return wrk.format("POST", "/api/verify/" .. token .. "/", nil, body)
end

function response(status, headers, body)
   if status == 200 then
      local session = body:match('"access_token":%s*"([^"]+)"')
      if session then
         record:write(session, "\n")
      end
   end
end
