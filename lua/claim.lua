--[[ claim.lua: remember a provider signature the wallet accepts, with the body it signed, so
the signature is never accepted again with another body (wallet/core/signs.py: one signature,
one body).

The registry is kept like transaction records: a signature is a record of the pseudo-provider
'<provider>.sign', in the tx hash of a pseudo-player 'sign:<n>' picked by its digest among 256,
four in each ledger shard (so the registry spreads evenly over the shards). The record moves no money; it is
journalled as a marker entry, so the snapshot job writes it to SQL and prunes it into the
aged-id filter after the retention like any record (and a late replay brings it back).

KEYS[1]  the registry's tx hash  wallet:{sN}:tx:<provider>.sign:sign:<n>
KEYS[2]  ledger stream           wallet:{sN}:ledger
KEYS[3]  aged-id directory       wallet:{sN}:aged   'gen:bits,...' newest first (see _shared)
KEYS[4..] its generations        wallet:{sN}:aged:<gen>, in the directory's order
ARGV[1]  the caller's aged-id directory (answered STALE when not current)
ARGV[2]  the signature's digest (the record's id)
ARGV[3]  aged-id probe of ARGV[2], 'h1:h2' ('' = do not check the filter)
ARGV[4]  fingerprint of the signed body
ARGV[5]  journal metadata, one JSON array (see _shared and wallet/journal.py)

Returns {'', outcome}: OK (first seen: remembered), DUPLICATE (seen with this body), CONFLICT
(seen with another body: refuse the request), or PRUNED / STALE as the money scripts do.
]]

AGED = 3
local outdated = stale()
if outdated then return outdated end
local seen = replay(find_tx(KEYS[1], ARGV[2], ARGV[3]), ARGV[2], ARGV[4], 0)
if seen then
  if seen[1] == 'PRUNED' then return seen end
  return {seen[1]}
end
redis.call('HSET', KEYS[1], ARGV[2], encode({s = 'A', f = ARGV[4]}))
journal(KEYS[2], {'kind', 'marker', 'tx', ARGV[2], 'state', 'A', 'outcome', '', 'fp', ARGV[4]}, ARGV[5])
return {'OK'}
