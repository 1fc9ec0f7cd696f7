--[[ rollback.lua: reverse applied transactions (a rollback or a cancel), exactly once.

The amount comes from the stored record, never from the request. A reversal may take the
balance below zero (undoing a win the player already had). A named target that was never
applied is remembered as cancelled, so an original arriving late is refused (replay() answers
ROLLED_BACK); so is every late bet of a round cancelled by round (before its bets or after):
the round index then holds the marker '*' and debit.lua refuses them. A cancel (ARGV[10] = '1') reverses
bets only: a target that paid money (a win) is answered NOT_A_BET and left as it is.

KEYS[1]  account hash   wallet:{sN}:player:<player>
KEYS[2]  tx hash        wallet:{sN}:tx:<provider>:<player>
KEYS[3]  ledger stream  wallet:{sN}:ledger
KEYS[4]  round index    wallet:{sN}:round:<provider>:<player>:<round>  (read, and marked '*', only
         when ARGV[2] is '')
KEYS[5]  limits hash    wallet:{sN}:limits:<player>   player protection: a reversed bet gives its
         stake back to the loss counters, a reversed win takes it again (see _shared)
KEYS[6]  aged-id directory  wallet:{sN}:aged   'gen:bits,...' newest first (see _shared)
KEYS[7..] its generations  wallet:{sN}:aged:<gen>, in the directory's order
ARGV[1]  the caller's aged-id directory (answered STALE when not current)
ARGV[2]  transaction id to reverse; '' = every bet of the round index KEYS[4] not yet reversed
         (a bet of the index absent from the tx hash has aged: answered PRUNED)
ARGV[3]  aged-id probe of ARGV[2] ('' = do not check the filter)
ARGV[4]  the reversal's own transaction id, '' when the protocol gives none (then a repeat
         answers ROLLED_BACK); with one, a repeat answers the first outcome again
ARGV[5]  aged-id probe of ARGV[4] ('' = do not check the filter)
ARGV[6]  fingerprint of the reversal request (compared only with an own id)
ARGV[7]  ledger kind (rollback, cancel)
ARGV[8]  journal metadata, one JSON array [provider, player, round] (see _shared)
ARGV[9]  the caller's currency condition (see _shared): '', a digit, or a code
ARGV[10] '1': reverse bets only (a cancel); '' reverses whatever the target was (a rollback)
ARGV[11] lifetime in seconds of the '*' marker of a round cancelled before its bets
ARGV[12..15] now (unix ms) and the current day, week and month ids (player protection, see _shared)

Returns {unit, outcome, balance, ref, balance_after} (unit first: see _shared):
  OK           reversed (one ledger entry per transaction); ref = the last entry's id,
               then currency and the total delta
  DUPLICATE    the own id was seen before and its first outcome was OK
  CONFLICT     the own id was seen before with other parameters
  NOT_FOUND    nothing to reverse was ever applied (a named target is now remembered as cancelled)
  NOT_A_BET    a cancel (ARGV[10]) named a win: nothing done
  ROLLED_BACK  everything named was already reversed or cancelled
  PRUNED       {PRUNED, balance, txid, why}: a record involved left Redis after its retention;
               the caller restores it from SQL (rehydrate.lua) and calls again
  NO_PLAYER    {NO_PLAYER}
  CURRENCY     the player's currency does not meet ARGV[9]; nothing done
  STALE        {STALE, directory}: ARGV[1] is not the current aged-id directory; nothing done
  TOO_LARGE    the reversals would take the balance past MAX_BALANCE (see _shared); nothing done
]]

AGED, LIMITS, PROTECT = 6, 5, 12
local acct = load_account(KEYS[1])
if not acct then return {'NO_PLAYER'} end
local outdated = stale()
if outdated then return outdated end
if wrong_currency(acct, ARGV[9]) then return {'CURRENCY', fmt(acct.balance)} end
local own = ARGV[4]
if own ~= '' then
  local mine = find_tx(KEYS[2], own, ARGV[5])
  if mine then
    if mine.s == 'P' then return {'PRUNED', fmt(acct.balance), own, mine.why} end
    if mine.f ~= ARGV[6] then return {'CONFLICT', fmt(acct.balance)} end
    if mine.o == 'OK' then return {'DUPLICATE', fmt(acct.balance), mine.r, mine.b} end
    return {mine.o, fmt(acct.balance)}
  end
end

local targets = {ARGV[2]}
if ARGV[2] == '' then
  targets = {}
  for _, txid in ipairs(redis.call('SMEMBERS', KEYS[4])) do
    if txid ~= '*' then targets[#targets + 1] = txid end
  end
  table.sort(targets)
end
local originals = {}
for i, txid in ipairs(targets) do
  originals[i] = find_tx(KEYS[2], txid, ARGV[2] == '' and '' or ARGV[3])
  if ARGV[2] == '' and not originals[i] then originals[i] = {s = 'P', why = 'record'} end
  if originals[i] and originals[i].s == 'P' then return {'PRUNED', fmt(acct.balance), txid, originals[i].why} end
end

local named = originals[1]
if ARGV[10] == '1' and ARGV[2] ~= '' and named and named.s == 'A' and tonumber(named.d) > 0 then
  if own ~= '' then mark(own, {s = 'X', o = 'NOT_A_BET', f = ARGV[6]}, ARGV[8]) end
  return {'NOT_A_BET', fmt(acct.balance)}  -- a cancel names a win: wins are never cancelled
end
local undone = 0
for i, txid in ipairs(targets) do
  if originals[i] and originals[i].s == 'A' then undone = undone - tonumber(originals[i].d) end
end
local over = past_max(acct, undone)
if over then return over end
if ARGV[2] == '' then
  redis.call('SADD', KEYS[4], '*')  -- the round is cancelled: its late bets are refused
  redis.call('EXPIRE', KEYS[4], ARGV[11])
end

local reply, seen, total = nil, false, 0
local p = protection()
for i, txid in ipairs(targets) do
  local original = originals[i]
  seen = seen or original ~= nil
  if original and original.s == 'A' then
    local reversal = {s = 'X', o = 'OK', d = -tonumber(original.d), f = ARGV[6], k = ARGV[7], t = txid}
    reply = move(acct, own, reversal, ARGV[8])
    total = total + tonumber(reversal.d)
    count(p, 'loss', tonumber(original.d))  -- a provider's transactions are all game play
    acct.balance = tonumber(reversal.b)
    original.s = 'R'
    save(txid, original)
    if own ~= '' then save(own, reversal) end
  end
end
if reply then
  reply[6] = fmt(total)  -- what all the reversals moved together
  return reply
end

if seen then
  reply = {'ROLLED_BACK', fmt(acct.balance)}
else
  if ARGV[2] ~= '' then mark(ARGV[2], {s = 'C'}, ARGV[8]) end
  reply = {'NOT_FOUND', fmt(acct.balance)}
end
if own ~= '' then mark(own, {s = 'X', o = reply[1], f = ARGV[6]}, ARGV[8]) end
return reply
