-- POST /api/profile/ {"used_referral_code": ...}: each pre-created user
-- (session) applies one code, once; the codes of a few referrers in turn.
-- Arguments: the file of session tokens, wrk's thread count, and the codes
-- separated by commas. After the file runs out every request is counted in
-- `exhausted` and goes without a session (a non-2xx answer).

local share, next_line = {}, 1
local codes = {}
exhausted, consumed = 0, 0

function init(args)
   share = read_share(args[1], tonumber(args[2]))
   for code in args[3]:gmatch("[^,]+") do
      table.insert(codes, code)
   end
end

function request()
   local session = share[next_line]
   local code = codes[(next_line + id) % #codes + 1]
   local body = '{"used_referral_code": "' .. code .. '"}'
   local headers = { ["Content-Type"] = "application/json" }
   if session == nil then
      exhausted = exhausted + 1
   else
      next_line, consumed = next_line + 1, consumed + 1
      headers["Authorization"] = "Bearer " .. session
   end
   return wrk.format("POST", "/api/profile/", headers, body)
end
