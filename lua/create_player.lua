--[[ create_player.lua: open a player's account with a zero balance, once.

KEYS[1]  account hash   wallet:{sN}:player:<player>
KEYS[2]  ledger stream  wallet:{sN}:ledger   (journal entry kind 'open', for the snapshot job)
ARGV[1]  currency, ISO 4217 code
ARGV[2]  player id (journaled)
ARGV[3]  unit: decimals of the player's amounts (the currency's exponent), kept for good

Returns {unit, outcome, balance, currency, status} (unit first: see _shared):
  OK      created (balance 0, status active)
  EXISTS  the player already exists; its current values are returned
]]

local acct = load_account(KEYS[1])
if acct then return {'EXISTS', fmt(acct.balance), acct.currency, acct.status} end
redis.call('HSET', KEYS[1], 'balance', '0', 'currency', ARGV[1], 'status', 'active', 'unit', ARGV[3])
UNIT = ARGV[3]
journal(KEYS[2], {'kind', 'open', 'amount', '0', 'balance', '0', 'currency', ARGV[1],
  'status', 'active', 'player', ARGV[2], 'unit', ARGV[3]}, '')
return {'OK', '0', ARGV[1], 'active'}
