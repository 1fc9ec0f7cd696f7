#!lua flags=allow-oom
--[[ prune.lua: move transaction records that SQL holds and that are past their retention out of
the tx hash and into the aged-id filter (a replay of such an id is then answered from SQL, and is
never applied again).

A record leaves only while its state in Redis is the state SQL has: a reversal applied since
the snapshot (not drained yet) keeps the record in Redis until a later pass. A tombstone 'P' of
earlier versions, or an id already absent, is added to the filter as well (SQL holds it); an id
older than the aged-id horizon comes with an empty probe and only leaves the hash.

KEYS[1]  tx hash        wallet:{sN}:tx:<provider>:<player>
KEYS[2]  aged-id filter generation being written   wallet:{sN}:aged:<generation>
ARGV[1]  size of that generation in bits (a multiple of 8), used only when it does not exist yet
ARGV[2..] triples: transaction id, state SQL holds for it (A, R, C, X), its probe 'h1:h2'
          ('' = past the horizon: not added to the filter)

Returns the ids that are now in the filter and out of the hash; ids whose state differs are
left out and stay in full.

allow-oom (the first line): pruning frees memory (a record leaves for ~2 bytes of filter), so it
must run at maxmemory too. Its one allocation, a generation's bitmap, is sized from the memory
left (wallet/core/aged.py), so it cannot take a full Redis far past its limit.
]]

if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SETBIT', KEYS[2], tonumber(ARGV[1]) - 1, 0) end
local bits = redis.call('STRLEN', KEYS[2]) * 8
local done = {}
for i = 2, #ARGV, 3 do
  local txid, raw = ARGV[i], redis.call('HGET', KEYS[1], ARGV[i])
  local state = raw and string.sub(raw, 1, 1)
  if state == '{' then state = cjson.decode(raw).s end  -- a JSON record of an older version
  if not raw or raw == 'P' or state == ARGV[i + 1] then
    local h1, h2 = string.match(ARGV[i + 2], '^(%d+):(%d+)$')
    if h1 then
      h1, h2 = tonumber(h1), tonumber(h2)
      for j = 0, AGED_PROBES - 1 do redis.call('SETBIT', KEYS[2], (h1 + j * h2) % bits, 1) end
    end
    if raw then redis.call('HDEL', KEYS[1], txid) end
    done[#done + 1] = txid
  end
end
return done
