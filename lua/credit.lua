--[[ credit.lua: pay a win (or a cashier deposit) to a player, exactly once.

Wins are never refused for funds, a blocked status or a closed session.

KEYS[1]  account hash   wallet:{sN}:player:<player>
KEYS[2]  tx hash        wallet:{sN}:tx:<provider>:<player>
KEYS[3]  ledger stream  wallet:{sN}:ledger
KEYS[4..7] aged-id filter  wallet:{sN}:aged:<generation>, newest first (see _shared)
ARGV[1]  transaction id
ARGV[2]  aged-id probe of ARGV[1], 'h1:h2' ('' = do not check the filter)
ARGV[3]  fingerprint of the request
ARGV[4]  amount, minor units, integer >= 0
ARGV[5]  ledger kind (win, deposit)
ARGV[6..] ledger field/value pairs (provider, player, round, game, bet, win)

Returns {outcome, balance, ref, balance_after, currency, delta}: OK, DUPLICATE, CONFLICT, ROLLED_BACK, NO_PLAYER
PRUNED (meanings as in debit.lua).
]]

local acct = load_account(KEYS[1])
if not acct then return {'NO_PLAYER'} end
local seen = replay(find_tx(KEYS[2], ARGV[1], ARGV[2]), ARGV[1], ARGV[3], acct.balance)
if seen then return seen end
return apply(acct, ARGV[1], {s = 'A', d = tonumber(ARGV[4]), f = ARGV[3], k = ARGV[5]}, 6)
