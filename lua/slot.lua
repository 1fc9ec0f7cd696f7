--[[ slot.lua: take one of a limited number of slots for a call to a provider (a semaphore shared
by every process), or release one.

KEYS[1]  slot set       wallet:platform:<provider>:slots   sorted set: token -> taken at (ms)
ARGV[1]  'take' or 'give'
ARGV[2]  token (random, per call)
ARGV[3]  now, unix ms                       (take)
ARGV[4]  slot lifetime in ms: a slot held longer is considered leaked (crashed caller) and freed
ARGV[5]  number of slots                    (take)

Returns 1 when the slot was taken (or given back), 0 when every slot is in use.
]]

if ARGV[1] == 'give' then
  redis.call('ZREM', KEYS[1], ARGV[2])
  return 1
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[3]) - tonumber(ARGV[4]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[5]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
