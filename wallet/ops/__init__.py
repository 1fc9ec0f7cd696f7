"""Operations: request logs, metrics, the Redis eviction guard, source-address allow-lists."""
