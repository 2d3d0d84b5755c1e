-- wrk script for the mixed scenarios: TOKENS is a file of "class<TAB>token" lines, sent round robin
-- (one thread, -t1). Counts requests sent per class and responses per status code and per
-- (status, X-Auth-Subject present); done() prints them as "sent <class> N" / "status <code> N"
-- lines and "ok-with-subject N" for the run-script to parse.
local tokens, classes, i = {}, {}, 0
for line in io.lines(os.getenv("TOKENS")) do
  local class, token = line:match("^([^\t]+)\t(.+)$")
  if not class then class, token = "valid", line end
  tokens[#tokens + 1] = token
  classes[#classes + 1] = class
end
sent, status, subject = {}, {}, 0

request = function()
  i = i % #tokens + 1
  local class = classes[i]
  sent[class] = (sent[class] or 0) + 1
  return wrk.format("GET", "/verify", { ["Authorization"] = "Bearer " .. tokens[i] })
end

response = function(code, headers, body)
  status[code] = (status[code] or 0) + 1
  if code == 200 and (headers["X-Auth-Subject"] or headers["x-auth-subject"]) then subject = subject + 1 end
end

local threads = {}
setup = function(thread) threads[#threads + 1] = thread end

done = function(summary, latency, requests)
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("sent")) do io.write(string.format("sent %s %d\n", k, v)) end
    for k, v in pairs(t:get("status")) do io.write(string.format("status %d %d\n", k, v)) end
    io.write(string.format("ok-with-subject %d\n", t:get("subject")))
  end
end
