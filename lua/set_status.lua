--[[ set_status.lua: block or unblock an existing player.

KEYS[1]  account hash   wallet:{sN}:player:<player>
KEYS[2]  ledger stream  wallet:{sN}:ledger   (journal entry kind 'status', for the snapshot job)
ARGV[1]  new status: active | blocked
ARGV[2]  player id (journaled)

Returns {unit, outcome, balance, currency, status} (unit first: see _shared): OK (with the new status) or {NO_PLAYER}.
]]

local acct = load_account(KEYS[1])
if not acct then return {'NO_PLAYER'} end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
journal(KEYS[2], {'kind', 'status', 'amount', '0', 'balance', fmt(acct.balance),
  'currency', acct.currency, 'status', ARGV[1], 'player', ARGV[2]}, '')
return {'OK', fmt(acct.balance), acct.currency, ARGV[1]}
