"""What `pycodex login status` says: the stored login, then which credential the
configured model provider will actually use when that is something else."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from pycodex.auth.claims import parse_claims
from pycodex.auth.credential import AuthPolicy, LoadedAuth, resolve_credential
from pycodex.auth.errors import AuthError
from pycodex.auth.store import StoredAuth, mask_api_key
from pycodex.config.providers import ModelProviderInfo


class StatusReport(msgspec.Struct, frozen=True):
    lines: list[str]
    ok: bool


def _stored_lines(loaded: LoadedAuth) -> list[str]:
    stored = loaded.stored
    if stored is None:
        return []
    lines: list[str] = []
    if stored.tokens is not None and (stored.auth_mode == "chatgpt" or not stored.api_key):
        claims = parse_claims(stored.tokens.id_token)
        detail = ", ".join(
            part for part in (
                claims.email,
                f"workspace {stored.tokens.account_id or claims.account_id}"
                if (stored.tokens.account_id or claims.account_id) else None,
                f"plan {parse_claims(stored.tokens.access_token).plan_type or claims.plan_type}"
                if (parse_claims(stored.tokens.access_token).plan_type or claims.plan_type) else None,
            ) if part
        )
        lines.append("Logged in using ChatGPT" + (f" - {detail}" if detail else ""))
    elif stored.api_key:
        lines.append(f"Logged in using an API key - {mask_api_key(stored.api_key)}")
    else:
        return []
    if loaded.borrowed:
        lines.append(f"(read from Codex's {stored.path})")
    elif loaded.store is not None and loaded.store.name == "keyring":
        lines.append(f"(stored in {loaded.store.location()})")
    return lines


def _usage_note(provider_id: str, provider: ModelProviderInfo, kind: str, secret: str | None,
                env_var: str | None, logged_in: bool) -> list[str]:
    masked = mask_api_key(secret) if secret else ""
    if kind == "env":
        if logged_in:
            return [f"Note: {env_var} is set in the environment and takes precedence ({masked})"]
        return [f"Using {env_var} from the environment - {masked}"]
    if kind == "bearer":
        return [f"Note: model provider `{provider_id}` uses its experimental_bearer_token ({masked})"]
    if kind == "none" and logged_in and not provider.requires_openai_auth:
        need = f"; set {provider.env_key}" if provider.env_key else ""
        return [f"Note: model provider `{provider_id}` does not use this login{need}"]
    return []


def login_status(
    provider_id: str,
    provider: ModelProviderInfo,
    *,
    env: Mapping[str, str],
    loaded: LoadedAuth,
    policy: AuthPolicy,
) -> StatusReport:
    lines = _stored_lines(loaded)
    logged_in = bool(lines)
    try:
        credential = resolve_credential(provider, env=env, stored=loaded.stored, policy=policy)
    except AuthError as exc:
        return StatusReport([*lines, f"Error: {exc}"], ok=False)
    lines += _usage_note(provider_id, provider, credential.kind, credential.secret,
                         credential.env_var, logged_in)
    if not lines:
        stored: StoredAuth | None = loaded.stored
        if stored is not None:
            return StatusReport(
                [f"Not logged in: {stored.path} holds no API key (auth_mode {stored.auth_mode!r})"],
                ok=False,
            )
        return StatusReport(["Not logged in"], ok=False)
    return StatusReport(lines, ok=credential.kind != "none")
