-- wrk script for bench/webhook_throughput.py: cycles through pre-made requests, counts non-2xx answers, and
-- prints one machine-readable line at the end.
--
--   wrk -t2 -c32 -d10s -s bench/webhook_throughput.lua http://127.0.0.1:PORT -- REQUESTS_FILE HOST
--
-- REQUESTS_FILE has one request a line: METHOD <tab> PATH <tab> X-Twilio-Signature (may be empty) <tab> BODY.
-- Thread k of n takes lines k, k+n, k+2n … so no two threads send the same request; a thread that runs out
-- starts again from its first line and counts the repeat in "wrapped".

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

local prepared = {}
local index = 0
bad = 0
wrapped = 0
statuses = {}

function init(args)
   local file, host, nthreads = args[1], args[2], tonumber(args[3])
   local n = 0
   for line in io.lines(file) do
      if n % nthreads == id then
         local method, path, signature, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
         local headers = { Host = host }
         if method == "POST" then
            headers["Content-Type"] = "application/x-www-form-urlencoded"
         end
         if signature ~= "" then
            headers["X-Twilio-Signature"] = signature
         end
         if body == "" then
            body = nil
         end
         table.insert(prepared, wrk.format(method, path, headers, body))
      end
      n = n + 1
   end
   if #prepared == 0 then
      error("no requests for thread " .. id .. " in " .. file)
   end
end

function request()
   index = index + 1
   if index > #prepared then
      index = 1
      wrapped = wrapped + 1
   end
   return prepared[index]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      bad = bad + 1
      statuses[status] = (statuses[status] or 0) + 1
   end
end

function done(summary, latency, requests)
   local non2xx, wraps = 0, 0
   local codes = {}
   for _, thread in ipairs(threads) do
      non2xx = non2xx + thread:get("bad")
      wraps = wraps + thread:get("wrapped")
      for status, count in pairs(thread:get("statuses")) do
         codes[#codes + 1] = string.format('"%d":%d', status, count)
      end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,"errors_read":%d,' ..
      '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"latency_mean_us":%.1f,"p50_us":%d,' ..
      '"p90_us":%d,"p99_us":%d,"max_us":%d,"non2xx":%d,"wrapped":%d,"statuses":{%s}}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      non2xx, wraps, table.concat(codes, ",")))
end
