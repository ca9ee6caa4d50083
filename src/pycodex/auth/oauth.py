"""OpenAI's OAuth endpoints as pycodex uses them: PKCE, the authorize URL, the
authorization-code exchange and the refresh grant.

The issuer is `https://auth.openai.com` unless `$PYCODEX_LOGIN_ISSUER` says otherwise (tests
point it at a local mock). Requests go through httpx2 (proxies, system trust store); the
functions are synchronous and short, so the engine calls them from a worker thread.
Error messages carry the issuer's error code and description, never a token.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import msgspec

from pycodex.auth.errors import AuthError, RefreshFailed
from pycodex.auth.store import ChatgptTokens

DEFAULT_ISSUER = "https://auth.openai.com"
ISSUER_ENV = "PYCODEX_LOGIN_ISSUER"
#: The public OAuth client Codex's CLI is registered as (its redirect URIs are loopback).
CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
SCOPE = "openid profile email offline_access"
REFRESH_SCOPE = "openid profile email"
_TIMEOUT_S = 30.0

# Refresh errors the issuer names when a new login is the only way out.
_REFRESH_REASONS = {
    "refresh_token_expired": "your ChatGPT session has expired",
    "refresh_token_reused": "your ChatGPT session was refreshed elsewhere (token reused)",
    "refresh_token_invalidated": "your ChatGPT session was revoked",
    "invalid_grant": "your ChatGPT session was revoked or has expired",
}


class Pkce(msgspec.Struct, frozen=True):
    verifier: str
    challenge: str


def issuer(env: Mapping[str, str]) -> str:
    return (env.get(ISSUER_ENV, "").strip() or DEFAULT_ISSUER).rstrip("/")


def _token_urlsafe(nbytes: int) -> str:
    # `secrets.token_urlsafe`, without importing `secrets` (and `random`, `hmac`) into
    # every run that merely might refresh a token.
    return base64.urlsafe_b64encode(os.urandom(nbytes)).rstrip(b"=").decode("ascii")


def new_pkce() -> Pkce:
    verifier = _token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return Pkce(verifier, challenge)


def new_state() -> str:
    return _token_urlsafe(32)


def authorize_url(
    issuer_url: str,
    *,
    redirect_uri: str,
    pkce: Pkce,
    state: str,
    originator: str,
    workspace_id: str | None,
) -> str:
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": SCOPE,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "id_token_add_organizations": "true",
        "codex_cli_simplified_flow": "true",
        "state": state,
        "originator": originator,
    }
    if workspace_id:
        query["allowed_workspace_id"] = workspace_id
    return f"{issuer_url}/oauth/authorize?{urlencode(query)}"


def post(url: str, *, form: dict[str, str] | None = None, json: Any = None) -> tuple[int, Any]:
    """POST and return (status, parsed JSON body or the text)."""
    from pycodex.http import httpx2

    try:
        with httpx2.Client(timeout=_TIMEOUT_S) as client:
            response = client.post(url, data=form, json=json)
    except httpx2.HTTPError as exc:
        raise AuthError(f"cannot reach {url}: {type(exc).__name__}: {exc}") from None
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def error_detail(body: Any) -> tuple[str | None, str]:
    """(error code, readable description) of an OAuth error body."""
    if isinstance(body, dict):
        error = body.get("error")
        code = error if isinstance(error, str) else None
        if isinstance(error, dict):
            code = error.get("code") if isinstance(error.get("code"), str) else None
            message = error.get("message")
            if isinstance(message, str) and message.strip():
                return code, message.strip()
        description = body.get("error_description")
        if isinstance(description, str) and description.strip():
            return code, description.strip()
        return code, code or "unknown error"
    text = " ".join(str(body).split())[:200]
    return None, text or "unknown error"


def _tokens(body: Any, what: str) -> ChatgptTokens:
    data = body if isinstance(body, dict) else {}
    id_token, access, refresh_token = (
        data.get(k) for k in ("id_token", "access_token", "refresh_token")
    )
    if not (isinstance(id_token, str) and isinstance(access, str)
            and isinstance(refresh_token, str) and id_token and access and refresh_token):
        raise AuthError(f"{what}: the issuer's answer lacks id_token, access_token or refresh_token")
    return ChatgptTokens(id_token, access, refresh_token)


def exchange_code(issuer_url: str, *, code: str, redirect_uri: str, verifier: str) -> ChatgptTokens:
    status, body = post(
        f"{issuer_url}/oauth/token",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": CLIENT_ID,
            "code_verifier": verifier,
        },
    )
    if status != 200:
        _, detail = error_detail(body)
        raise AuthError(f"token exchange failed: the issuer answered HTTP {status}: {detail}")
    return _tokens(body, "token exchange")


def refresh(issuer_url: str, current: ChatgptTokens) -> ChatgptTokens:
    """New tokens for `current`; fields the issuer leaves out keep their old value."""
    status, body = post(
        f"{issuer_url}/oauth/token",
        json={
            "client_id": CLIENT_ID,
            "grant_type": "refresh_token",
            "refresh_token": current.refresh_token,
            "scope": REFRESH_SCOPE,
        },
    )
    if status != 200:
        code, detail = error_detail(body)
        reason = _REFRESH_REASONS.get(code or "")
        if reason is not None or status in (400, 401):
            raise RefreshFailed(
                f"Could not refresh the ChatGPT login: {reason or detail} "
                f"(HTTP {status}{f', {code}' if code else ''}). Run `pycodex login` to sign in again."
            )
        raise AuthError(f"token refresh failed: the issuer answered HTTP {status}: {detail}")
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise AuthError("token refresh failed: the issuer's answer has no access_token")

    def pick(key: str, old: str) -> str:
        value = body.get(key)
        return value if isinstance(value, str) and value else old

    return ChatgptTokens(
        id_token=pick("id_token", current.id_token),
        access_token=pick("access_token", current.access_token),
        refresh_token=pick("refresh_token", current.refresh_token),
        account_id=current.account_id,
    )
