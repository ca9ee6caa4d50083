"""Turning an issuer's answer into stored credentials, after the workspace check."""

from __future__ import annotations

from pathlib import Path

from pycodex.auth.claims import parse_claims
from pycodex.auth.errors import WorkspaceMismatch
from pycodex.auth.storage import CredentialStore
from pycodex.auth.store import AUTH_FILE, ChatgptTokens, StoredAuth, utc_now_rfc3339


def ensure_workspace_allowed(tokens: ChatgptTokens, expected: str | None) -> None:
    """Refuse tokens of another workspace than `forced_chatgpt_workspace_id`."""
    if not expected:
        return
    actual = parse_claims(tokens.id_token).account_id
    if actual is None:
        raise WorkspaceMismatch(
            f"Login is restricted to workspace id {expected}, but the token names no "
            "workspace (no chatgpt_account_id claim)."
        )
    if actual != expected:
        raise WorkspaceMismatch(
            f"Login is restricted to workspace id {expected}; this account signed in to "
            f"workspace {actual}. Nothing was saved."
        )


def chatgpt_auth(tokens: ChatgptTokens, home: Path) -> StoredAuth:
    account = parse_claims(tokens.id_token).account_id or tokens.account_id
    return StoredAuth(
        path=home / AUTH_FILE,
        auth_mode="chatgpt",
        api_key=None,
        tokens=ChatgptTokens(
            tokens.id_token, tokens.access_token, tokens.refresh_token, account_id=account
        ),
        last_refresh=utc_now_rfc3339(),
    )


def save_login(
    tokens: ChatgptTokens, store: CredentialStore, home: Path, workspace: str | None
) -> StoredAuth:
    """Check the workspace, then store the tokens (atomically): all or nothing."""
    ensure_workspace_allowed(tokens, workspace)
    auth = chatgpt_auth(tokens, home)
    store.save(auth)
    return auth
