--[[ _shared.lua: helpers prepended to every script at load time (wallet/core/store.py), after
the script's flags line when it has one ('#!lua flags=allow-oom': the worker's scripts).

Not a script on its own. Conventions shared by every script:
  * money is an integer number of minor units, carried as a decimal string in ARGV and
    formatted back with '%d' (never tostring: it rounds past 14 digits);
  * a transaction record is a compact string in the player's per-provider tx hash (it stays
    under hash-max-listpack-value, 64 bytes, so small hashes keep the listpack encoding):
      's|r|d|b|f|o'
      s  state: 'A' applied, 'R' rolled back, 'C' cancelled before it arrived,
                'X' a reversal's own record (its outcome in o)
      r  ledger entry id (our reference)    d  signed balance delta    b  balance right after it
      f  fingerprint of the request (a short hash made by wallet/records.py)
      o  (reversals) the outcome answered
    Anything else (the tombstone 'P' or a JSON record of older versions) is answered PRUNED:
    SQL holds it;
  * records older than the retention leave the hash; their ids go into the aged-id filter
    (Bloom-filter generations in bitmaps, wallet/aged.py). KEYS[AGED] is the shard's aged-id
    directory, 'gen:bits,gen:bits' newest first, and the generations' bitmaps follow it in
    KEYS, in that order; ARGV[1] is the directory as the caller knows it: when it is not the
    current one the script answers {'STALE', current} before anything else and the caller
    calls again with the right keys. An id absent from the hash whose probe 'h1:h2' hits a
    generation is answered PRUNED (its record is fetched from SQL); an empty probe skips the
    filter (SQL said the hit was a false positive);
  * the ledger stream is the shard's journal, drained into SQL by the snapshot job: every
    record written and every balance change appends exactly one entry (kind, amount, balance,
    currency, tx, fp, target, and bet and win in the account's unit for bets and wins; marker
    entries carry state and outcome instead of money), plus 'meta': the caller's metadata
    pre-joined as one JSON array [provider, player, round, game, '', '', bonus, audit]
    (wallet/journal.py), passed through as one ARGV and never parsed here;
  * every reply is a flat array whose first element is an outcome name; an applied change
    answers {OK, balance, ref, balance_after, currency, delta};
  * a player's amounts are kept in minor units of the account's 'unit' field: the decimals it
    was created with (its currency's exponent; absent = 2, players of earlier versions). A
    script that reads an account is wrapped by wallet/store.py so that its reply starts with
    that unit: {unit, outcome, ...} ('' when no account was read). Callers send amounts at an
    exponent of their choice (ARGV 'exp'); in_unit() converts them exactly or refuses them;
  * a caller's currency condition ('accept') is '' for any currency, a digit d for any currency
    kept with at most d decimals (GitSlotPark's two-decimal wire), or one currency code.
]]

local function fmt(n)
  return string.format('%d', n)
end

local UNIT = ''  -- the unit of the account read, answered first (see the header)
local MAX_REQUEST = 1e13  -- most minor units one request may move (wallet/core/money.py MAX_REQUEST)
local MAX_BALANCE = 2 ^ 53 - 1  -- Lua numbers are exact integers up to here (money.py MAX_BALANCE)

local function load_account(key)
  local v = redis.call('HMGET', key, 'balance', 'currency', 'status', 'unit')
  if not v[1] then return nil end
  UNIT = v[4] or '2'
  return {balance = tonumber(v[1]), currency = v[2], status = v[3], unit = tonumber(UNIT)}
end

-- An amount sent as minor units at exponent exp (below 2^53: the caller reduces it), in the
-- account's unit; or nil and the refusal: BAD_AMOUNT when the unit cannot hold it exactly (more
-- decimals than the player's currency has), TOO_LARGE past MAX_REQUEST.
local function in_unit(acct, amount, exp)
  local n, shift = tonumber(amount), acct.unit - tonumber(exp)
  if shift >= 0 then
    n = n * 10 ^ shift
  elseif n % 10 ^ -shift ~= 0 then
    return nil, 'BAD_AMOUNT'
  else
    n = n / 10 ^ -shift
  end
  if n > MAX_REQUEST then return nil, 'TOO_LARGE' end
  return n
end

-- The refusal of a move that would take the balance past MAX_BALANCE, or nil.
local function past_max(acct, delta)
  if acct.balance + delta > MAX_BALANCE then return {'TOO_LARGE', fmt(acct.balance)} end
  return nil
end

-- True when the account's currency does not meet the caller's condition (see the header).
local function wrong_currency(acct, accept)
  if accept == '' then return false end
  local most = tonumber(accept)
  if most then return acct.unit > most end
  return accept ~= acct.currency
end

local AGED_PROBES = 10  -- bit probes per id (wallet/aged.py: 14 bits per id, ~0.1 % false positives)
local AGED = 0  -- KEYS index of the aged-id directory (each script sets it); generations follow
local aged_bits = {}  -- bits of each generation, newest first, read from the directory

local function decode(raw)
  local s, r, d, b, f, o = string.match(raw, '^(%a)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if not s then return {s = 'P', why = 'record'} end
  return {s = s, r = r, d = d, b = b, f = f, o = o}
end

local function encode(rec)
  return table.concat({rec.s, rec.r or '', rec.d or '', rec.b or '', rec.f or '', rec.o or ''}, '|')
end

-- nil when the caller's aged-id directory (ARGV[1]) is the current one, else {'STALE', current}.
local function stale()
  local current = redis.call('GET', KEYS[AGED]) or ''
  if current ~= ARGV[1] then return {'STALE', current} end
  for bits in string.gmatch(current, ':(%d+)') do aged_bits[#aged_bits + 1] = tonumber(bits) end
  return nil
end

-- True when a generation of the aged-id filter has every probe bit of the id set.
local function aged(probe)
  local h1, h2 = string.match(probe, '^(%d+):(%d+)$')
  if not h1 then return false end
  h1, h2 = tonumber(h1), tonumber(h2)
  for g, bits in ipairs(aged_bits) do
    local key, i = KEYS[AGED + g], 0
    while i < AGED_PROBES and redis.call('GETBIT', key, (h1 + i * h2) % bits) == 1 do i = i + 1 end
    if i == AGED_PROBES then return true end
  end
  return false
end

-- The record of txid, {s = 'P', why} when SQL holds it (why: 'record' or 'filter'), or nil.
local function find_tx(txs, txid, probe)
  local raw = redis.call('HGET', txs, txid)
  if raw then return decode(raw) end
  if probe ~= '' and aged(probe) then return {s = 'P', why = 'filter'} end
  return nil
end

-- Answer for a transaction id seen before, or nil when it is new.
local function replay(rec, txid, fingerprint, balance)
  if not rec then return nil end
  if rec.s == 'P' then return {'PRUNED', fmt(balance), txid, rec.why} end
  if rec.s == 'C' then return {'ROLLED_BACK', fmt(balance)} end
  if rec.f ~= fingerprint then return {'CONFLICT', fmt(balance)} end
  return {'DUPLICATE', fmt(balance), rec.r, rec.b}
end

-- Refusal that applies before any money moves, or nil. flags: B = refuse a blocked player,
-- S = require an open game session; accept: the caller's currency condition.
local function refusal(acct, flags, session_key, accept)
  if string.find(flags, 'B', 1, true) and acct.status == 'blocked' then return 'BLOCKED' end
  if string.find(flags, 'S', 1, true) and redis.call('EXISTS', session_key) == 0 then
    return 'NO_SESSION'
  end
  if wrong_currency(acct, accept) then return 'CURRENCY' end
  return nil
end

-- Append a journal entry to the ledger stream: the given field/value pairs, then 'meta' (the
-- caller's pre-joined metadata) unless it is ''. Returns the entry id.
local function journal(stream, entry, meta)
  if meta ~= '' then
    entry[#entry + 1] = 'meta'
    entry[#entry + 1] = meta
  end
  return redis.call('XADD', stream, '*', unpack(entry))
end

local function save(txid, rec)
  redis.call('HSET', KEYS[2], txid, encode(rec))
end

-- Change the balance by rec.d and journal it; fills rec.r, rec.b. The only path that moves
-- money. txid: the record this entry creates ('' for none); rec.t: the transaction undone;
-- played: {bet, win} really staked and won, in the account's unit (journalled for the reports).
local function move(acct, txid, rec, meta, played)
  local balance = redis.call('HINCRBY', KEYS[1], 'balance', fmt(rec.d))
  rec.d = fmt(rec.d)
  rec.b = fmt(balance)
  local entry = {'kind', rec.k, 'amount', rec.d, 'balance', rec.b, 'currency', acct.currency, 'tx', txid,
    'fp', rec.f}
  if rec.t then
    entry[#entry + 1] = 'target'
    entry[#entry + 1] = rec.t
  end
  if played then
    for i, name in ipairs({'bet', 'win'}) do
      entry[#entry + 1] = name
      entry[#entry + 1] = fmt(played[i])
    end
  end
  rec.r = journal(KEYS[3], entry, meta)
  return {'OK', rec.b, rec.r, rec.b, acct.currency, rec.d}
end

-- move() then save(): a new transaction applied.
local function apply(acct, txid, rec, meta, played)
  local reply = move(acct, txid, rec, meta, played)
  save(txid, rec)
  return reply
end

-- Save a record that moves no money (cancelled marker, failed reversal) and journal it.
local function mark(txid, rec, meta)
  save(txid, rec)
  journal(KEYS[3], {'kind', 'marker', 'tx', txid, 'state', rec.s, 'outcome', rec.o or '', 'fp', rec.f or ''},
    meta)
end

-- Player protection (wallet/core/limits.py, docs/player-protection.md). A player's limits hash
-- (KEYS[LIMITS]; absent for a player without limits, so nothing is read or counted for them):
--   stake, loss:<period>, deposit:<period>   a limit in minor units (period: day, week, month)
--   used:loss:<period>, used:deposit:<period>  '<period id>|<amount>' counted in the current one
--   next:<limit>                             '<value, '' = removed>|<effective unix ms>': a raise
--   exclusion                                '<cool-off|self-exclusion>|<until unix ms, 0 = none>'
--   country, birth_date                      player facts (not read here)
--   agecap                                   'cap|from ms|to ms,...': the stake cap of each age band
-- ARGV[PROTECT] .. +3: now (unix ms), then the ids of the current day, week and month.
local LIMITS = 0  -- KEYS index of the limits hash (each script that enforces sets it)
local PROTECT = 0  -- ARGV index of now; the period ids follow
local PERIODS = {'day', 'week', 'month'}

-- The player's limits with raises that came due applied, or nil when there are none.
local function protection()
  local raw = redis.call('HGETALL', KEYS[LIMITS])
  if #raw == 0 then return nil end
  local h, now = {}, tonumber(ARGV[PROTECT])
  for i = 1, #raw, 2 do h[raw[i]] = raw[i + 1] end
  for field, v in pairs(h) do
    local name = string.match(field, '^next:(.+)$')
    local value, at = string.match(v, '^([^|]*)|(%d+)$')
    if name and at and tonumber(at) <= now then
      if value == '' then redis.call('HDEL', KEYS[LIMITS], name) else redis.call('HSET', KEYS[LIMITS], name, value) end
      h[name] = value ~= '' and value or nil
      redis.call('HDEL', KEYS[LIMITS], field)
      h[field] = nil
    end
  end
  local ids = {day = ARGV[PROTECT + 1], week = ARGV[PROTECT + 2], month = ARGV[PROTECT + 3]}
  return {h = h, now = now, ids = ids}
end

-- What is counted for kind ('loss' or 'deposit') in the current period.
local function used(p, kind, period)
  local id, n = string.match(p.h['used:' .. kind .. ':' .. period] or '', '^(.*)|(-?%d+)$')
  if id ~= p.ids[period] then return 0 end
  return tonumber(n)
end

-- Count delta (minor units; negative gives back) for kind in every current period.
local function count(p, kind, delta)
  if not p or delta == 0 then return end
  for _, period in ipairs(PERIODS) do
    local field = 'used:' .. kind .. ':' .. period
    p.h[field] = p.ids[period] .. '|' .. fmt(used(p, kind, period) + delta)
    redis.call('HSET', KEYS[LIMITS], field, p.h[field])
  end
end

-- The active exclusion's kind, or nil.
local function excluded(p)
  local kind, till = string.match(p.h.exclusion or '', '^(.+)|(%d+)$')
  if kind and (tonumber(till) == 0 or p.now < tonumber(till)) then return kind end
  return nil
end

-- The refusal of a bet of stake whose net loss is net, {outcome, limit, left}, or nil.
local function bet_refusal(p, stake, net)
  if not p then return nil end
  local kind = excluded(p)
  if kind then return {'EXCLUDED', kind, '0'} end
  if p.h.stake and stake > tonumber(p.h.stake) then return {'LIMIT', 'stake', p.h.stake} end
  for cap, from, to in string.gmatch(p.h.agecap or '', '(%d+)|(%d+)|(%d+)') do
    if p.now >= tonumber(from) and p.now < tonumber(to) and stake > tonumber(cap) then
      return {'LIMIT', 'stake:age', cap}
    end
  end
  for _, period in ipairs(PERIODS) do
    local limit = p.h['loss:' .. period]
    if limit and used(p, 'loss', period) + net > tonumber(limit) then
      return {'LIMIT', 'loss:' .. period, fmt(math.max(0, tonumber(limit) - used(p, 'loss', period)))}
    end
  end
  return nil
end

-- The refusal of a cashier deposit of amount, {outcome, limit, left}, or nil.
local function deposit_refusal(p, amount)
  if not p then return nil end
  local kind = excluded(p)
  if kind then return {'EXCLUDED', kind, '0'} end
  for _, period in ipairs(PERIODS) do
    local limit = p.h['deposit:' .. period]
    if limit and used(p, 'deposit', period) + amount > tonumber(limit) then
      return {'LIMIT', 'deposit:' .. period, fmt(math.max(0, tonumber(limit) - used(p, 'deposit', period)))}
    end
  end
  return nil
end
