--[[ throttle.lua: count one failed sign-in or bearer key against each of its counters.

KEYS     the counters, all in one slot: wallet:{auth}:addr:<client address>, wallet:{auth}:user:<name>
ARGV[1]  window in seconds: a counter expires this long after its first failure (fixed window)

Returns the counts after this failure, in KEYS order.
]]

local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if counts[i] == 1 then redis.call('EXPIRE', key, ARGV[1]) end
end
return counts
