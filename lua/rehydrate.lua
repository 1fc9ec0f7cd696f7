--[[ rehydrate.lua: put an aged transaction record back from SQL, so a late replay or rollback
of an old transaction is answered exactly as before it left Redis (the prune job moves it out
again at its next pass).

KEYS[1]  tx hash        wallet:{sN}:tx:<provider>:<player>
ARGV[1]  transaction id
ARGV[2]  record, compact form (lua/_shared.lua), built from SQL by wallet/records.py

Only an absent id, a tombstone 'P' or an older JSON record is replaced: a record present in
the compact form is never overwritten. Returns 1 when the record was written, else 0.
]]

local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw and decode(raw).s ~= 'P' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
