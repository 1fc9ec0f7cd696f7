-- wrk script: replay pre-signed requests from a file (one "path<TAB>body" per line, or
-- "path<TAB>body<TAB>signature" for Hub88, sent as X-Hub88-Signature); prints one JSON line of
-- figures at the end.
-- args: file, first slice, number of slices. The file is cut into that many equal slices and
-- thread t starts at slice (first + t), so consecutive runs can play requests never sent before.
local lines = {}
local next_index = 1
local threads = 0

function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

function init(args)
  for line in io.lines(args[1]) do
    local tab = string.find(line, "\t", 1, true)
    local rest = string.sub(line, tab + 1)
    local second = string.find(rest, "\t", 1, true)
    local headers = {["Content-Type"] = "application/json"}
    if second then
      headers["X-Hub88-Signature"] = string.sub(rest, second + 1)
      rest = string.sub(rest, 1, second - 1)
    end
    lines[#lines + 1] = {string.sub(line, 1, tab - 1), rest, headers}
  end
  local first, slices = tonumber(args[2] or 0), tonumber(args[3] or 4)
  next_index = ((first + offset) * math.floor(#lines / slices)) % #lines + 1
end

function request()
  local item = lines[next_index]
  next_index = next_index % #lines + 1
  return wrk.format("POST", item[1], item[3], item[2])
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "errors": %d, "non2xx": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
