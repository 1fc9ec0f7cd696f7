--[[ token.lua: is a game-session token valid for this player? (read only)

A token is valid while the session it was issued in (session.lua) is open: issued at or after
the session's opening time. Tokens live in the player's own set, so another player's token is
simply unknown here.

KEYS[1]  token set      wallet:{sN}:tokens:<player>
KEYS[2]  session key    wallet:{sN}:session:<player>
ARGV[1]  the token's digest

Returns {outcome}: OK; NOT_FOUND (never issued to this player, or forgotten after the grace);
NO_SESSION (its session expired or was closed: the token has expired).
]]

local issued = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not issued then return {'NOT_FOUND'} end
local opened = redis.call('GET', KEYS[2])
if not opened or tonumber(issued) < tonumber(opened) then return {'NO_SESSION'} end
return {'OK'}
