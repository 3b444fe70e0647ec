-- POST /api/login/ with a new phone every request: +79[4-9] and 8 digits
-- (the seeded users live in +7900 and +791, so no login meets one of them).
-- The 8 digits walk from a random start in steps of a prime (all 10^8 numbers
-- before one repeats), not drawn at random: among the ~30,000 logins a pool
-- holds, random draws repeat a number 0.4 to 0.8 times a run (the birthday
-- bound, 20,000^2 to 30,000^2 / (2 * 6 * 10^8)); the second login replaces the
-- first one's code, and that verify failed with challenge_expired. Runs start at random places,
-- so two runs meet only if their walks overlap (about 10^-4 a pair).
-- Arguments: a random seed, and a file prefix to record "token code" lines
-- of the answers in (or "-"); the harness turns those into verify's pool.

local record
local number
local STEP = 7919 -- prime, so coprime to 10^8

function init(args)
   math.randomseed(tonumber(args[1]) + 7919 * id)
   number = math.random(0, 99999999)
   record = open_record(args[2])
   wrk.headers["Content-Type"] = "application/json"
   if record == nil then
      response = nil -- wrk then skips parsing the answers
   end
end

function request()
   number = (number + STEP) % 100000000
   local phone = string.format("+79%d%08d", math.random(4, 9), number)
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
