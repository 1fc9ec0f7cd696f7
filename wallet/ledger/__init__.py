"""The durable ledger in SQL: the snapshot job, archive of pruned records, recovery, history, migrations."""
