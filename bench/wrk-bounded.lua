-- wrk script for npm run bench: stops a load after a number of answers as well as after wrk's
-- own -d duration, whichever comes first, and reports one JSON line.
-- Usage: wrk -t1 ... -s wrk-bounded.lua URL -- MAX_ANSWERS
local limit = 0
local answered = 0

function init(args)
  limit = tonumber(args[1]) or 0
end

function response(status, headers, body)
  answered = answered + 1
  if limit > 0 and answered >= limit then
    wrk.thread:stop()
  end
end

-- errors.status counts answers with a status above 399; the others are socket-level failures.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"durationUs":%d,"statusErrors":%d,"socketErrors":%d,"p99Us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout, latency:percentile(99.0)))
end
