-- wrk script: count responses by status in every thread and, when the run ends, print one line
-- `WRK_JSON {...}` with the totals, socket errors, status counts and latency percentiles (microseconds).
-- bench/wrk.py reads that line; wrk's own text report is not parsed.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

local function json_object(entries)
  return "{" .. table.concat(entries, ",") .. "}"
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local status_entries = {}
  for status, count in pairs(counts) do
    table.insert(status_entries, string.format('"%d":%d', status, count))
  end
  local percentile_entries = {}
  -- The grid of bench/load.py quantile_grid(): every 1 % up to 89 %, every 0.1 % from 90 %, then 99.95, 99.99.
  local grid = {}
  for p = 1, 89 do table.insert(grid, p) end
  for tenth = 900, 999 do table.insert(grid, tenth / 10) end
  table.insert(grid, 99.95)
  table.insert(grid, 99.99)
  for _, p in ipairs(grid) do
    table.insert(percentile_entries, string.format('"%s":%d', tostring(p), latency:percentile(p)))
  end
  local errors = summary.errors
  io.write("WRK_JSON " .. json_object({
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}',
      errors.connect, errors.read, errors.write, errors.timeout, errors.status),
    '"statuses":' .. json_object(status_entries),
    string.format('"latency_us":{"min":%d,"max":%d,"mean":%.1f,"stdev":%.1f,"percentiles":%s}',
      latency.min, latency.max, latency.mean, latency.stdev, json_object(percentile_entries)),
  }) .. "\n")
end
