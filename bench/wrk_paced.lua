-- wrk script for a paced (open-ish loop) load: each connection waits a random, exponentially distributed think
-- time before each request (mean: the first script argument, in ms), so the requests of many connections
-- arrive like independent clients' at a steady rate, instead of as fast as the answers come back.
-- The counting and the report are wrk_report.lua's (wrk runs from the repository root).
dofile("bench/wrk_report.lua")

local report_init = init
local mean_think_ms = 0

function init(args)
  report_init(args)
  mean_think_ms = tonumber(args[1])
  math.randomseed(os.time())
end

function delay()
  return -mean_think_ms * math.log(1 - math.random())
end
