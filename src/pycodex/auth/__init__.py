"""Credentials: API keys from the environment or from `auth.json` (written by `login`)."""
