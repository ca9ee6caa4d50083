"""Session records: rollout files (JSONL, the record of every thread)."""
