--[[ totp_step.lua: accept a staff user's TOTP code once: its time step must be later than the
last one accepted for that user (RFC 6238 section 5.2), so a code seen or replayed within its
window is refused.

KEYS[1]  last step      wallet:{auth}:totp:<user name>   string: the last accepted time step
ARGV[1]  the time step of the code given (unix seconds / 30)
ARGV[2]  lifetime of the key in seconds (longer than the codes' window)

Returns 1 when the step is accepted (and recorded), 0 when it is not later than the last one.
]]

local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
