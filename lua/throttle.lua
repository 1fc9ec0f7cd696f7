--[[ throttle.lua: reserve one sign-in or bearer-key attempt against each of its counters, before
any secret is checked, so that no burst of parallel attempts gets more tries than the limit; or
give a reserved attempt back (a right secret).

KEYS     the counters, all in one slot: wallet:{auth}:<surface>:addr:<client address>,
         wallet:{auth}:<surface>:user:<name>
ARGV[1]  'reserve' or 'give'
ARGV[2]  window in seconds ('reserve'): a counter expires this long after its first attempt
ARGV[3..] each counter's limit, in KEYS order ('reserve')

Returns, for 'reserve', {1, 0} when every counter is within its limit with this attempt (the
caller checks the secret), or {0, seconds until the window ends} when one is past it (the caller
refuses with 429 without checking anything). For 'give', {1, 0}: each counter that still exists
is lowered by one, never below zero and keeping its expiry (a counter that expired meanwhile is
not created again without one).
]]

if ARGV[1] == 'give' then
  for _, key in ipairs(KEYS) do
    if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
  end
  return {1, 0}
end
local wait = 0
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, ARGV[2]) end
  if count > tonumber(ARGV[i + 2]) then wait = math.max(wait, redis.call('TTL', key), 1) end
end
if wait > 0 then return {0, wait} end
return {1, 0}
