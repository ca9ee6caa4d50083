"""Approval decisions, known-safe commands, command parsing and the exec policy (rules)."""
