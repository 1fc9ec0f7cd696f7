--[[ session.lua: open or close a player's game session, and issue its tokens.

A session is what iGamingAce's balance, bet and betwin need (debit.lua, betwin.lua and
balance.lua read it with flag S). Opening again restarts its lifetime and keeps its opening
time. Each opening may issue a token (Hub88 sends it back on every call; token.lua checks it):
a token is valid while the session it was issued in is open, so closing the session ends its
tokens. The token set keeps the newest MAX tokens and outlives the session by a grace period,
so that a late call with an ended token is told "expired" rather than "unknown".

KEYS[1]  account hash   wallet:{sN}:player:<player>
KEYS[2]  session key    wallet:{sN}:session:<player>   string: opening time (unix ms), with a TTL
KEYS[3]  token set      wallet:{sN}:tokens:<player>    sorted set: token digest -> issue time (ms)
ARGV[1]  lifetime in milliseconds; 0 = close the session
ARGV[2]  now, unix milliseconds
ARGV[3]  digest of the token issued with this opening ('' = none)
ARGV[4]  tokens kept per player (the newest)
ARGV[5]  grace in milliseconds the token set outlives the session

Returns {outcome, expiry}: OK with the expiry in unix ms (0 when closed), or {NO_PLAYER}.
]]

if redis.call('EXISTS', KEYS[1]) == 0 then return {'NO_PLAYER'} end
local lifetime = tonumber(ARGV[1])
if lifetime == 0 then
  redis.call('DEL', KEYS[2])
  return {'OK', '0'}
end
local opened = redis.call('GET', KEYS[2]) or ARGV[2]
redis.call('SET', KEYS[2], opened, 'PX', ARGV[1])
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -1 - tonumber(ARGV[4]))
  redis.call('PEXPIRE', KEYS[3], lifetime + tonumber(ARGV[5]))
end
return {'OK', fmt(tonumber(ARGV[2]) + lifetime)}
