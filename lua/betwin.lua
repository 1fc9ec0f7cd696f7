--[[ betwin.lua: take a bet and pay its win in one step, exactly once.

Funds are checked against the bet alone; the net (win - bet) is applied as one ledger entry.

KEYS[1]  account hash   wallet:{sN}:player:<player>
KEYS[2]  tx hash        wallet:{sN}:tx:<provider>:<player>
KEYS[3]  ledger stream  wallet:{sN}:ledger
KEYS[4]  session key    wallet:{sN}:session:<player>  (read only with flag S)
KEYS[5..8] aged-id filter  wallet:{sN}:aged:<generation>, newest first (see _shared)
ARGV[1]  transaction id
ARGV[2]  aged-id probe of ARGV[1], 'h1:h2' ('' = do not check the filter)
ARGV[3]  fingerprint of the request
ARGV[4]  bet, minor units, integer >= 0
ARGV[5]  win, minor units, integer >= 0
ARGV[6]  flags: B refuse a blocked player, S require an open session
ARGV[7]  currency the caller expects, '' for any
ARGV[8..] ledger field/value pairs (provider, player, round, game, bet, win)

Returns {outcome, balance, ref, balance_after, currency, delta}: as debit.lua.
]]

local acct = load_account(KEYS[1])
if not acct then return {'NO_PLAYER'} end
local seen = replay(find_tx(KEYS[2], ARGV[1], ARGV[2]), ARGV[1], ARGV[3], acct.balance)
if seen then return seen end
local refused = refusal(acct, ARGV[6], KEYS[4], ARGV[7])
if refused then return {refused, fmt(acct.balance)} end
local bet = tonumber(ARGV[4])
if acct.balance - bet < 0 then return {'NO_FUNDS', fmt(acct.balance)} end
local delta = tonumber(ARGV[5]) - bet
return apply(acct, ARGV[1], {s = 'A', d = delta, f = ARGV[3], k = 'betwin'}, 8)
