--[[ debit.lua: take a bet (or a cashier withdrawal) from a player, exactly once.

KEYS[1]  account hash   wallet:{sN}:player:<player>   fields balance (minor units), currency, status
KEYS[2]  tx hash        wallet:{sN}:tx:<provider>:<player>   field <txid> -> record (see _shared)
KEYS[3]  ledger stream  wallet:{sN}:ledger
KEYS[4]  session key    wallet:{sN}:session:<player>  (read only with flag S)
KEYS[5]  round index    wallet:{sN}:round:<provider>:<player>:<round>   set of bet ids of the
         round, for a cancel that names only the round (read and written only when ARGV[9] > 0;
         holding '*': the round was cancelled before this bet, which is refused ROLLED_BACK)
KEYS[6]  limits hash    wallet:{sN}:limits:<player>   player protection (see _shared), for bets
KEYS[7]  aged-id directory  wallet:{sN}:aged   'gen:bits,...' newest first (see _shared)
KEYS[8..] its generations  wallet:{sN}:aged:<gen>, in the directory's order
ARGV[1]  the caller's aged-id directory (answered STALE when not current)
ARGV[2]  transaction id
ARGV[3]  aged-id probe of ARGV[2], 'h1:h2' ('' = do not check the filter)
ARGV[4]  fingerprint of the request (equal fingerprints = the same request)
ARGV[5]  amount, minor units at exponent ARGV[11], integer >= 0 (0 for a free spin: the provider pays)
ARGV[6]  flags: B refuse a blocked player, S require an open session
ARGV[7]  the caller's currency condition (see _shared): '', a digit, or a code
ARGV[8]  ledger kind (bet, withdrawal, adjustment)
ARGV[9]  lifetime of the round index in seconds; 0 = do not index
ARGV[10] journal metadata, one JSON array (see _shared and wallet/journal.py)
ARGV[11] exponent of ARGV[5] (converted to the account's unit, see _shared)
ARGV[12..15] now (unix ms) and the current day, week and month ids (player protection, see _shared)

Returns {unit, outcome, balance, ref, balance_after, currency, delta} (unit first: see _shared):
  OK           applied; ref = ledger entry id
  DUPLICATE    seen before with the same fingerprint; ref and balance_after are the first answer's
  CONFLICT     id seen before with other parameters; nothing applied
  ROLLED_BACK  the id, or its round (ARGV[9] > 0), was cancelled before it arrived; nothing applied
  PRUNED       {PRUNED, balance, txid, why}: the id's record left Redis after its retention
               (why 'record': a tombstone; 'filter': the aged-id filter knows it); the caller
               restores it from SQL (rehydrate.lua) and calls again
  NO_PLAYER    {NO_PLAYER}
  STALE        {STALE, directory}: ARGV[1] is not the current aged-id directory; nothing done
  BLOCKED | NO_SESSION | CURRENCY   refused, nothing applied
  NO_FUNDS     balance - amount would go below zero; the id stays unused
  BAD_AMOUNT   the amount has more decimals than the player's unit holds; nothing applied
  TOO_LARGE    the amount is past MAX_REQUEST (or, for credits, the balance would pass
               MAX_BALANCE: see _shared); nothing applied
  LIMIT | EXCLUDED  {outcome, balance, limit or exclusion kind, what is left}: a bet refused by
               the player's limits or exclusion (kind 'bet' only); nothing applied
]]

AGED, LIMITS, PROTECT = 7, 6, 12
local acct = load_account(KEYS[1])
if not acct then return {'NO_PLAYER'} end
local outdated = stale()
if outdated then return outdated end
local seen = replay(find_tx(KEYS[2], ARGV[2], ARGV[3]), ARGV[2], ARGV[4], acct.balance)
if seen then return seen end
local refused = refusal(acct, ARGV[6], KEYS[4], ARGV[7])
if refused then return {refused, fmt(acct.balance)} end
if tonumber(ARGV[9]) > 0 and redis.call('SISMEMBER', KEYS[5], '*') == 1 then
  return {'ROLLED_BACK', fmt(acct.balance)}
end
local amount, bad = in_unit(acct, ARGV[5], ARGV[11])
if not amount then return {bad, fmt(acct.balance)} end
if acct.balance - amount < 0 then return {'NO_FUNDS', fmt(acct.balance)} end
local p = ARGV[8] == 'bet' and protection() or nil
local limited = bet_refusal(p, amount, amount)
if limited then return {limited[1], fmt(acct.balance), limited[2], limited[3]} end
count(p, 'loss', amount)
if tonumber(ARGV[9]) > 0 then
  redis.call('SADD', KEYS[5], ARGV[2])
  redis.call('EXPIRE', KEYS[5], ARGV[9])
end
return apply(acct, ARGV[2], {s = 'A', d = -amount, f = ARGV[4], k = ARGV[8]}, ARGV[10], {amount, 0})
