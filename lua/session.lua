--[[ session.lua: open or close a player's game session.

A session is what iGamingAce's balance, bet and betwin need (debit.lua, betwin.lua and
balance.lua read it with flag S). Opening again restarts its lifetime.

KEYS[1]  account hash   wallet:{sN}:player:<player>
KEYS[2]  session key    wallet:{sN}:session:<player>   string: opening time (unix ms), with a TTL
ARGV[1]  lifetime in milliseconds; 0 = close the session
ARGV[2]  now, unix milliseconds

Returns {outcome, expiry}: OK with the expiry in unix ms (0 when closed), or {NO_PLAYER}.
]]

if redis.call('EXISTS', KEYS[1]) == 0 then return {'NO_PLAYER'} end
local lifetime = tonumber(ARGV[1])
if lifetime == 0 then
  redis.call('DEL', KEYS[2])
  return {'OK', '0'}
end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[1])
return {'OK', fmt(tonumber(ARGV[2]) + lifetime)}
