-- (c) The full login: POST /api/login/ with a new phone, then
-- POST /api/verify/{token}/ with the code from the answer (codes are exposed).
-- Each connection takes a pending verification if there is one, else logs in
-- a new phone, so about half the requests are logins and half verifications.
-- Argument: a run tag 10..99 (see login.lua).

local prefix
local counter = 0
local queue, head, tail = {}, 1, 0
logins, verified, unexpected = 0, 0, 0

function init(args)
   prefix = string.format("%02d%d", tonumber(args[1]), id % 10)
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   if head <= tail then
      local pending = queue[head]
      queue[head] = nil
      head = head + 1
      local body = string.format('{"confirm_code": "%s"}', pending[2])
      return wrk.format("POST", "/api/verify/" .. pending[1] .. "/", nil, body)
   end
   counter = counter + 1
   local body = string.format('{"phone": "+79%s%06d"}', prefix, counter)
   return wrk.format("POST", "/api/login/", nil, body)
end

function response(status, headers, body)
   if status ~= 200 then
      unexpected = unexpected + 1
      return
   end
   local code = body:match('"confirm_code":%s*"(%d+)"')
   if code then
      local token = body:match('"token":%s*"([^"]+)"')
      tail = tail + 1
      queue[tail] = { token, code }
      logins = logins + 1
   elseif body:find('"access_token"', 1, true) then
      verified = verified + 1
   else
      unexpected = unexpected + 1
   end
end
