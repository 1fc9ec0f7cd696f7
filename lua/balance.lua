--[[ balance.lua: read a player's balance, currency and status in one step.

KEYS[1]  account hash   wallet:{sN}:player:<player>
KEYS[2]  session key    wallet:{sN}:session:<player>  (read only with flag S)
ARGV[1]  flags: S require an open game session

Returns {unit, outcome, balance, currency, status} (unit first: see _shared):
  OK          balance in minor units
  NO_SESSION  the player exists but has no open session (balance still returned)
  NO_PLAYER   {NO_PLAYER}
]]

local acct = load_account(KEYS[1])
if not acct then return {'NO_PLAYER'} end
local outcome = 'OK'
if string.find(ARGV[1], 'S', 1, true) and redis.call('EXISTS', KEYS[2]) == 0 then
  outcome = 'NO_SESSION'
end
return {outcome, fmt(acct.balance), acct.currency, acct.status}
