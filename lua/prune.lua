--[[ prune.lua: replace transaction records that SQL holds and that are past their retention
by the tombstone 'P' (a replay of a pruned id is then answered from SQL, never applied again).

A record is pruned only while its state in Redis is the state SQL has: a reversal applied
since the snapshot (not drained yet) keeps the record in Redis until a later pass.

KEYS[1]  tx hash        wallet:{sN}:tx:<provider>:<player>
ARGV     pairs: transaction id, state SQL holds for it (A, R, C, X)

Returns the ids that are now tombstones or absent (pruned now, or earlier); ids whose state
differs are left out and stay in full.
]]

local done = {}
for i = 1, #ARGV, 2 do
  local raw = redis.call('HGET', KEYS[1], ARGV[i])
  if not raw or raw == 'P' then
    done[#done + 1] = ARGV[i]
  elseif cjson.decode(raw).s == ARGV[i + 1] then
    redis.call('HSET', KEYS[1], ARGV[i], 'P')
    done[#done + 1] = ARGV[i]
  end
end
return done
