--[[ betwin.lua: take a bet and pay its win in one step, exactly once.

Funds are checked against the bet alone; the net (win - bet) is applied as one ledger entry.

KEYS[1]  account hash   wallet:{sN}:player:<player>
KEYS[2]  tx hash        wallet:{sN}:tx:<provider>:<player>
KEYS[3]  ledger stream  wallet:{sN}:ledger
KEYS[4]  session key    wallet:{sN}:session:<player>  (read only with flag S)
KEYS[5]  limits hash    wallet:{sN}:limits:<player>   player protection (see _shared)
KEYS[6]  aged-id directory  wallet:{sN}:aged   'gen:bits,...' newest first (see _shared)
KEYS[7..] its generations  wallet:{sN}:aged:<gen>, in the directory's order
ARGV[1]  the caller's aged-id directory (answered STALE when not current)
ARGV[2]  transaction id
ARGV[3]  aged-id probe of ARGV[2], 'h1:h2' ('' = do not check the filter)
ARGV[4]  fingerprint of the request
ARGV[5]  bet, minor units at exponent ARGV[10], integer >= 0
ARGV[6]  win, likewise
ARGV[7]  flags: B refuse a blocked player, S require an open session
ARGV[8]  the caller's currency condition (see _shared): '', a digit, or a code
ARGV[9]  journal metadata, one JSON array (see _shared and wallet/journal.py)
ARGV[10] exponent of ARGV[5] and ARGV[6] (converted to the account's unit, see _shared)
ARGV[11..14] now (unix ms) and the current day, week and month ids (player protection, see _shared)

Returns {unit, outcome, balance, ref, balance_after, currency, delta}: as debit.lua (STALE and
BAD_AMOUNT, TOO_LARGE, LIMIT and EXCLUDED included; the loss limits count the net, bet - win).
]]

AGED, LIMITS, PROTECT = 6, 5, 11
local acct = load_account(KEYS[1])
if not acct then return {'NO_PLAYER'} end
local outdated = stale()
if outdated then return outdated end
local seen = replay(find_tx(KEYS[2], ARGV[2], ARGV[3]), ARGV[2], ARGV[4], acct.balance)
if seen then return seen end
local refused = refusal(acct, ARGV[7], KEYS[4], ARGV[8])
if refused then return {refused, fmt(acct.balance)} end
local bet, bad_bet = in_unit(acct, ARGV[5], ARGV[10])
local win, bad_win = in_unit(acct, ARGV[6], ARGV[10])
if not (bet and win) then return {bad_bet or bad_win, fmt(acct.balance)} end
if acct.balance - bet < 0 then return {'NO_FUNDS', fmt(acct.balance)} end
local delta = win - bet
local over = past_max(acct, delta)
if over then return over end
local p = protection()
local limited = bet_refusal(p, bet, -delta)
if limited then return {limited[1], fmt(acct.balance), limited[2], limited[3]} end
count(p, 'loss', -delta)
return apply(acct, ARGV[2], {s = 'A', d = delta, f = ARGV[4], k = 'betwin'}, ARGV[9], {bet, win})
