--[[ credit.lua: pay a win (or a cashier deposit) to a player, exactly once.

Wins are never refused for funds, a blocked status or a closed session; only for a player of
another currency than the caller's account serves (CURRENCY).

KEYS[1]  account hash   wallet:{sN}:player:<player>
KEYS[2]  tx hash        wallet:{sN}:tx:<provider>:<player>
KEYS[3]  ledger stream  wallet:{sN}:ledger
KEYS[4]  limits hash    wallet:{sN}:limits:<player>   player protection (see _shared)
KEYS[5]  aged-id directory  wallet:{sN}:aged   'gen:bits,...' newest first (see _shared)
KEYS[6..] its generations  wallet:{sN}:aged:<gen>, in the directory's order
ARGV[1]  the caller's aged-id directory (answered STALE when not current)
ARGV[2]  transaction id
ARGV[3]  aged-id probe of ARGV[2], 'h1:h2' ('' = do not check the filter)
ARGV[4]  fingerprint of the request
ARGV[5]  amount, minor units at exponent ARGV[9], integer >= 0
ARGV[6]  ledger kind (win, deposit, adjustment)
ARGV[7]  journal metadata, one JSON array (see _shared and wallet/journal.py)
ARGV[8]  the caller's currency condition (see _shared): '', a digit, or a code
ARGV[9]  exponent of ARGV[5] (converted to the account's unit, see _shared)
ARGV[10] the bet this win pays ('' = none needed): it must be applied and not reversed, else
         NOT_FOUND and nothing moves (Hub88: a win names its bet)
ARGV[11] aged-id probe of ARGV[10] ('' = do not check the filter)
ARGV[12..15] now (unix ms) and the current day, week and month ids (player protection, see _shared):
         a deposit is refused past a deposit limit or during an exclusion (LIMIT, EXCLUDED, as
         debit.lua); a win gives back to the loss counters

Returns {unit, outcome, balance, ref, balance_after, currency, delta}: OK, DUPLICATE, CONFLICT,
ROLLED_BACK, NO_PLAYER, PRUNED, STALE, CURRENCY, BAD_AMOUNT, TOO_LARGE (meanings as in debit.lua;
TOO_LARGE here also when the balance would pass MAX_BALANCE), NOT_FOUND (ARGV[10]'s bet is not there).
]]

AGED, LIMITS, PROTECT = 5, 4, 12
local acct = load_account(KEYS[1])
if not acct then return {'NO_PLAYER'} end
local outdated = stale()
if outdated then return outdated end
local seen = replay(find_tx(KEYS[2], ARGV[2], ARGV[3]), ARGV[2], ARGV[4], acct.balance)
if seen then return seen end
if wrong_currency(acct, ARGV[8]) then return {'CURRENCY', fmt(acct.balance)} end
if ARGV[10] and ARGV[10] ~= '' then
  local bet = find_tx(KEYS[2], ARGV[10], ARGV[11])
  if bet and bet.s == 'P' then return {'PRUNED', fmt(acct.balance), ARGV[10], bet.why} end
  if not bet or bet.s ~= 'A' or tonumber(bet.d) > 0 then return {'NOT_FOUND', fmt(acct.balance)} end
end
local amount, bad = in_unit(acct, ARGV[5], ARGV[9])
if not amount then return {bad, fmt(acct.balance)} end
local over = past_max(acct, amount)
if over then return over end
local p = (ARGV[6] == 'win' or ARGV[6] == 'deposit') and protection() or nil
if ARGV[6] == 'deposit' then
  local limited = deposit_refusal(p, amount)
  if limited then return {limited[1], fmt(acct.balance), limited[2], limited[3]} end
  count(p, 'deposit', amount)
else
  count(p, 'loss', -amount)
end
return apply(acct, ARGV[2], {s = 'A', d = amount, f = ARGV[4], k = ARGV[6]}, ARGV[7], {0, amount})
