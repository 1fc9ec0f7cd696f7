--[[ limits.lua: change a player's limits or exclusion: tighter at once, looser after a cooling-off.

A new limit, or a lower one, applies now and cancels a pending raise of it; a higher one, or its
removal, is kept as pending (next:<limit>) until now + the cooling-off, and applied by the first
script that reads the limits after that (_shared protection()). An exclusion may be started or
lengthened, never shortened or lifted: one ending earlier than the current is refused.
The change is journalled (kind 'limits', with the limits after it and the audit row as metadata),
so SQL keeps the limits and the audit row with the change itself (the snapshot job).

KEYS[1]  account hash   wallet:{sN}:player:<player>
KEYS[2]  limits hash    wallet:{sN}:limits:<player>   (see _shared: Player protection)
KEYS[3]  ledger stream  wallet:{sN}:ledger
ARGV[1..4] now (unix ms) and the current day, week and month ids (as the money scripts)
ARGV[5]  the cooling-off of a raise, ms
ARGV[6]  changes: 'name=value;name=;...' (value in minor units of the player's unit, '' = remove)
ARGV[7]  exclusion to start: 'kind|until unix ms' (0 = indefinite), or ''
ARGV[8]  journal metadata, one JSON array (see wallet/core/journal.py; its audit row)
ARGV[9]  the counters to start from when the player has no limits hash yet: 'used:...=period|n;...'
         (the current periods' play summed from SQL's ledger), else ignored
ARGV[10] player facts to set at once: 'country=DE;birth_date=2001-02-03;agecap=<bands>' ('' value
         removes one); agecap: 'cap|from ms|to ms,...', the stake cap of each age band (see _shared)

Returns {unit, outcome, ...}: {OK, the limits hash as field, value, ...}; {EXCLUDED, current
exclusion} when ARGV[7] would shorten it; {NO_PLAYER}.
]]

LIMITS, PROTECT = 2, 1
local acct = load_account(KEYS[1])
if not acct then return {'NO_PLAYER'} end
local p = protection()
if not p then
  p = {h = {}, now = tonumber(ARGV[1])}
  for name, value in string.gmatch(ARGV[9] or '', '([^;=]+)=([^;]*)') do redis.call('HSET', KEYS[2], name, value) end
end
local now = tonumber(ARGV[1])
if ARGV[7] ~= '' then
  local current = excluded(p) and p.h.exclusion
  local till = tonumber(string.match(ARGV[7], '|(%d+)$'))
  local held = current and tonumber(string.match(current, '|(%d+)$'))
  if held and (held == 0 or (till ~= 0 and till < held)) then return {'EXCLUDED', current} end
  redis.call('HSET', KEYS[2], 'exclusion', ARGV[7])
end
for name, value in string.gmatch(ARGV[10] or '', '([^;=]+)=([^;]*)') do
  if value == '' then redis.call('HDEL', KEYS[2], name) else redis.call('HSET', KEYS[2], name, value) end
end
for name, value in string.gmatch(ARGV[6], '([^;=]+)=([^;]*)') do
  local current = p.h[name]
  if current and (value == '' or tonumber(value) > tonumber(current)) then
    redis.call('HSET', KEYS[2], 'next:' .. name, value .. '|' .. fmt(now + tonumber(ARGV[5])))
  else
    if value ~= '' then redis.call('HSET', KEYS[2], name, value) end
    redis.call('HDEL', KEYS[2], 'next:' .. name)
  end
end
local state = redis.call('HGETALL', KEYS[2])
local kept = {}
for i = 1, #state, 2 do
  if string.sub(state[i], 1, 5) ~= 'used:' then kept[state[i]] = state[i + 1] end
end
journal(KEYS[3], {'kind', 'limits', 'amount', '0', 'balance', fmt(acct.balance), 'currency', acct.currency,
  'limits', cjson.encode(kept)}, ARGV[8])
local reply = {'OK'}
for _, v in ipairs(state) do reply[#reply + 1] = v end
return reply
