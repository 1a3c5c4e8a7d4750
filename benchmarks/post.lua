-- wrk script: POST the request body in the file named by $WRK_BODY, with the headers of a
-- Messages API call. The URL (and so the path) is given to wrk on the command line.
local file = assert(io.open(os.getenv("WRK_BODY"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = "bench"
wrk.headers["anthropic-version"] = "2023-06-01"
