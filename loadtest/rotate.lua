-- wrk script (copied from the shared peers harness): one token per request, round robin over the file in TOKENS.
local tokens, i = {}, 0
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", "/verify", { ["Authorization"] = "Bearer " .. tokens[i] })
end
