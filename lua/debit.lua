--[[ debit.lua: take a bet (or a cashier withdrawal) from a player, exactly once.

KEYS[1]  account hash   wallet:{sN}:player:<player>   fields balance (minor units), currency, status
KEYS[2]  tx hash        wallet:{sN}:tx:<provider>:<player>   field <txid> -> record (see _shared)
KEYS[3]  ledger stream  wallet:{sN}:ledger
KEYS[4]  session key    wallet:{sN}:session:<player>  (read only with flag S)
KEYS[5]  round index    wallet:{sN}:round:<provider>:<player>:<round>   set of bet ids of the
         round, for a cancel that names only the round (written only when ARGV[8] > 0)
ARGV[1]  transaction id
ARGV[2]  fingerprint of the request (equal fingerprints = the same request)
ARGV[3]  amount, minor units, integer >= 0 (0 for a free spin: the provider pays)
ARGV[4]  flags: B refuse a blocked player, S require an open session
ARGV[5]  currency the caller expects, '' for any
ARGV[6]  ledger kind (bet, withdrawal)
ARGV[7]  round id
ARGV[8]  lifetime of the round index in seconds; 0 = do not index
ARGV[9..] ledger field/value pairs (provider, player, round, game, bet, win)

Returns {outcome, balance, ref, balance_after, currency, delta}:
  OK           applied; ref = ledger entry id
  DUPLICATE    seen before with the same fingerprint; ref and balance_after are the first answer's
  CONFLICT     id seen before with other parameters; nothing applied
  ROLLED_BACK  the id was cancelled before it arrived; nothing applied
  PRUNED       {PRUNED, balance, txid}: the id's record left Redis after its retention; the
               caller restores it from SQL (rehydrate.lua) and calls again
  NO_PLAYER    {NO_PLAYER}
  BLOCKED | NO_SESSION | CURRENCY   refused, nothing applied
  NO_FUNDS     balance - amount would go below zero; the id stays unused
]]

local acct = load_account(KEYS[1])
if not acct then return {'NO_PLAYER'} end
local seen = replay(find_tx(KEYS[2], ARGV[1]), ARGV[1], ARGV[2], acct.balance)
if seen then return seen end
local refused = refusal(acct, ARGV[4], KEYS[4], ARGV[5])
if refused then return {refused, fmt(acct.balance)} end
local amount = tonumber(ARGV[3])
if acct.balance - amount < 0 then return {'NO_FUNDS', fmt(acct.balance)} end
if tonumber(ARGV[8]) > 0 then
  redis.call('SADD', KEYS[5], ARGV[1])
  redis.call('EXPIRE', KEYS[5], ARGV[8])
end
return apply(acct, ARGV[1], {s = 'A', d = -amount, f = ARGV[2], k = ARGV[6], rd = ARGV[7]}, 9)
