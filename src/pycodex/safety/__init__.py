"""Approval decisions, known-safe commands, command parsing and the exec policy (rules)."""

# Where the exec-policy rules live under the home (`<home>/rules/*.rules`). Here, not in
# `exec_policy`, so the engine can tell "no rules" without importing the rules engine.
RULES_DIR = "rules"
RULES_SUFFIX = ".rules"
