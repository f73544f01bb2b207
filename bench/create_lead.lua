-- wrk: POST a new lead with a unique e-mail each time (per thread, per run), then report p95.
local counter = 0
local prefix = tostring(os.time()) .. tostring(math.random(1000000))

setup = function(thread)
  thread:set("tid", tostring(math.random(1000000000)))
end

local headers = nil

request = function()
  if headers == nil then  -- wrk.format replaces wrk.headers: keep the -H ones (Authorization)
    headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    headers["Content-Type"] = "application/json"
  end
  counter = counter + 1
  local body = string.format(
    '{"first_name":"Bench","last_name":"Lead","email":"b%s-%s-%d@bench.example","source":"web"}',
    prefix, tid, counter)
  return wrk.format("POST", nil, headers, body)
end

done = function(summary, latency, requests)
  io.write(string.format("p95_ms %.3f\n", latency:percentile(95) / 1000))
end
