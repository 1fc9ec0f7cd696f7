--[[ _shared.lua: helpers prepended to every script at load time (wallet/store.py).

Not a script on its own. Conventions shared by every script:
  * money is an integer number of minor units, carried as a decimal string in ARGV and
    formatted back with '%d' (never tostring: it rounds past 14 digits);
  * a transaction record is a cjson object in the player's per-provider tx hash:
      s  state: 'A' applied, 'R' rolled back, 'C' cancelled before it arrived,
                'X' a reversal's own record (its outcome in o)
      r  ledger entry id (our reference)    d  signed balance delta
      f  fingerprint of the request         b  balance right after it
      k  kind (bet, win, betwin, deposit, withdrawal, rollback, cancel)   rd  round id
      t  (reversals) the transaction undone    rb  (reversed originals) the reversal's entry id
    or the tombstone 'P': a record pruned after its retention, kept in SQL (answer PRUNED);
  * the ledger stream is the shard's journal, drained into SQL by the snapshot job: every
    record written and every balance change appends exactly one entry (kind, amount, balance,
    currency, tx, fp, target; marker entries carry state and outcome instead of money);
  * every reply is a flat array whose first element is an outcome name; an applied change
    answers {OK, balance, ref, balance_after, currency, delta}.
]]

local function fmt(n)
  return string.format('%d', n)
end

local function load_account(key)
  local v = redis.call('HMGET', key, 'balance', 'currency', 'status')
  if not v[1] then return nil end
  return {balance = tonumber(v[1]), currency = v[2], status = v[3]}
end

local function find_tx(txs, txid)
  local raw = redis.call('HGET', txs, txid)
  if not raw then return nil end
  if raw == 'P' then return {s = 'P'} end
  return cjson.decode(raw)
end

-- Answer for a transaction id seen before, or nil when it is new.
local function replay(rec, txid, fingerprint, balance)
  if not rec then return nil end
  if rec.s == 'P' then return {'PRUNED', fmt(balance), txid} end
  if rec.s == 'C' then return {'ROLLED_BACK', fmt(balance)} end
  if rec.f ~= fingerprint then return {'CONFLICT', fmt(balance)} end
  return {'DUPLICATE', fmt(balance), rec.r, rec.b}
end

-- Refusal that applies before any money moves, or nil. flags: B = refuse a blocked player,
-- S = require an open game session; currency '' accepts any.
local function refusal(acct, flags, session_key, currency)
  if string.find(flags, 'B', 1, true) and acct.status == 'blocked' then return 'BLOCKED' end
  if string.find(flags, 'S', 1, true) and redis.call('EXISTS', session_key) == 0 then
    return 'NO_SESSION'
  end
  if currency ~= '' and currency ~= acct.currency then return 'CURRENCY' end
  return nil
end

-- Append a journal entry to the ledger stream: the given field/value pairs, then
-- ARGV[meta_from..] (the caller's provider, player, round...). Returns the entry id.
local function journal(stream, entry, meta_from)
  for i = meta_from, #ARGV - 1, 2 do
    if ARGV[i + 1] ~= '' then  -- empty fields (no game, no bonus...) are left out
      entry[#entry + 1] = ARGV[i]
      entry[#entry + 1] = ARGV[i + 1]
    end
  end
  return redis.call('XADD', stream, '*', unpack(entry))
end

local function save(txid, rec)
  redis.call('HSET', KEYS[2], txid, cjson.encode(rec))
end

-- Change the balance by rec.d and journal it; fills rec.r, rec.b. The only path that moves
-- money. txid: the record this entry creates ('' for none); rec.t: the transaction undone.
local function move(acct, txid, rec, meta_from)
  local balance = redis.call('HINCRBY', KEYS[1], 'balance', fmt(rec.d))
  rec.d = fmt(rec.d)
  rec.b = fmt(balance)
  local entry = {'kind', rec.k, 'amount', rec.d, 'balance', rec.b, 'currency', acct.currency, 'tx', txid,
    'fp', rec.f}
  if rec.t then
    entry[#entry + 1] = 'target'
    entry[#entry + 1] = rec.t
  end
  rec.r = journal(KEYS[3], entry, meta_from)
  return {'OK', rec.b, rec.r, rec.b, acct.currency, rec.d}
end

-- move() then save(): a new transaction applied.
local function apply(acct, txid, rec, meta_from)
  local reply = move(acct, txid, rec, meta_from)
  save(txid, rec)
  return reply
end

-- Save a record that moves no money (cancelled marker, failed reversal) and journal it.
local function mark(txid, rec, meta_from)
  save(txid, rec)
  journal(KEYS[3], {'kind', 'marker', 'tx', txid, 'state', rec.s, 'outcome', rec.o or '', 'fp', rec.f or ''},
    meta_from)
end
