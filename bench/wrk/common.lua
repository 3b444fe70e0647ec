-- Shared by every scenario (bench/benchlib.py puts it in front of the scenario's
-- script): numbers each thread, and prints one machine-readable summary line.
-- The counters a scenario may keep as globals: logins, verified, unexpected,
-- consumed (pre-created tokens used) and exhausted (requests sent after the
-- pre-created tokens ran out).

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

local function sum(name)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + (thread:get(name) or 0)
   end
   return total
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %.0f, "duration_us": %.0f, "bytes": %.0f, '
         .. '"status_errors": %.0f, "connect_errors": %.0f, "read_errors": %.0f, '
         .. '"write_errors": %.0f, "timeouts": %.0f, "p50_us": %.0f, "p90_us": %.0f, '
         .. '"p99_us": %.0f, "mean_us": %.1f, "max_us": %.0f, "logins": %.0f, '
         .. '"verified": %.0f, "unexpected": %.0f, "consumed": %.0f, "exhausted": %.0f}\n',
      summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read,
      e.write, e.timeout, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.mean, latency.max, sum("logins"), sum("verified"),
      sum("unexpected"), sum("consumed"), sum("exhausted")))
end

-- For the scenarios that use pre-created tokens (bench/pools.py): this thread's
-- share of a file's lines (line i goes to thread i mod threads).
function read_share(path, threads)
   local share, i = {}, 0
   for line in io.lines(path) do
      if i % threads == id then
         table.insert(share, line)
      end
      i = i + 1
   end
   return share
end

-- A line-buffered file of this thread's own ("<path>-<id>"), or nil for "-".
function open_record(path)
   if path == nil or path == "-" then
      return nil
   end
   local file = assert(io.open(path .. "-" .. id, "a"))
   file:setvbuf("line")
   return file
end
