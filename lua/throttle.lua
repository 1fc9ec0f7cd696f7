--[[ throttle.lua: reserve one sign-in or bearer-key attempt against each of its counters, before
any secret is checked, so that no burst of parallel attempts gets more tries than the limit.

KEYS     the counters, all in one slot: wallet:{auth}:<surface>:addr:<client address>,
         wallet:{auth}:<surface>:user:<name>
ARGV[1]  window in seconds: a counter expires this long after its first attempt (fixed window)
ARGV[2..] each counter's limit, in KEYS order

Returns {1, 0} when every counter is within its limit with this attempt (the caller checks the
secret, and gives the address's attempt back when it was right), or {0, seconds until the
window ends} when one is past it (the caller refuses with 429 without checking anything).
]]

local wait = 0
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, ARGV[1]) end
  if count > tonumber(ARGV[i + 1]) then wait = math.max(wait, redis.call('TTL', key), 1) end
end
if wait > 0 then return {0, wait} end
return {1, 0}
