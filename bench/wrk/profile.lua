-- (a) GET /api/profile/ as one signed-in user. Argument: the session token.
-- No request() function: wrk builds the request once and reuses it.

function init(args)
   wrk.headers["Authorization"] = "Bearer " .. args[1]
end
