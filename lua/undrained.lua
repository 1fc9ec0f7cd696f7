--[[ undrained.lua: for reconciliation, read players' balances and what the snapshot job has not
drained yet, in one atomic step (so no callback can fall between the two reads).

KEYS[1]     ledger stream   wallet:{sN}:ledger
KEYS[2..n]  account hashes  wallet:{sN}:player:<player>   (players of shard N)
ARGV[1]     the shard's cursor: entries after this id are not in SQL yet ('0-0' for none)
ARGV[2..n]  the player ids of KEYS[2..n], in the same order

Returns, per player in order: balance (minor units, or false for no account), then the sum of
the player's ledger amounts after the cursor.
]]

local sums = {}
for i = 2, #ARGV do sums[ARGV[i]] = 0 end
local entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+')
for _, entry in ipairs(entries) do
  local fields, player, amount = entry[2], nil, nil
  for j = 1, #fields, 2 do
    if fields[j] == 'player' then player = fields[j + 1] end  -- open/status entries, older money entries
    if fields[j] == 'meta' then player = cjson.decode(fields[j + 1])[2] end  -- [provider, player, ...]
    if fields[j] == 'amount' then amount = fields[j + 1] end
  end
  if player and amount and sums[player] then sums[player] = sums[player] + tonumber(amount) end
end
local out = {}
for i = 2, #KEYS do
  out[#out + 1] = redis.call('HGET', KEYS[i], 'balance')
  out[#out + 1] = fmt(sums[ARGV[i]])
end
return out
