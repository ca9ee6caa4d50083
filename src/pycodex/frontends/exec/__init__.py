"""`pycodex exec`: headless runs, human or JSONL output."""
