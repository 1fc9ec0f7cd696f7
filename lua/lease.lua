#!lua flags=allow-oom
--[[ lease.lua: one snapshot worker drains at a time; another waits its turn (a PaaS deploy
overlaps the old worker and the new one).

KEYS[1]  lease key   wallet:snapshot:lease   string: the holder's token, with a TTL
ARGV[1]  'take' (take it when free, or renew it when ours) or 'give' (release it when ours)
ARGV[2]  the worker's token (random, per process)
ARGV[3]  lifetime in milliseconds ('take' only): a worker that dies is replaced after it

Returns 1 when the caller holds the lease (take) or released it (give), else 0.

allow-oom (the first line): the worker must keep its lease at maxmemory, where it is the only
one that can free memory (drain and trim the streams, prune records).
]]

local holder = redis.call('GET', KEYS[1])
if ARGV[1] == 'give' then
  if holder == ARGV[2] then redis.call('DEL', KEYS[1]) return 1 end
  return 0
end
if holder and holder ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
