--[[ rehydrate.lua: put pruned transaction records back from SQL, so a late replay or rollback
of an old transaction is answered exactly as before its pruning.

KEYS[1]  tx hash        wallet:{sN}:tx:<provider>:<player>
ARGV     pairs: transaction id, record JSON (as lua/_shared.lua describes)

Only tombstones ('P') are replaced: a record present in full is never overwritten.
Returns the number of records restored.
]]

local restored = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == 'P' then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    restored = restored + 1
  end
end
return restored
