"""What pycodex reads from OpenAI's ID and access tokens (JWTs).

The signature is not checked: the tokens come straight from the issuer over TLS and are
only read for display (email, plan), the workspace check and the expiry time, as Codex
does. Anything malformed reads as "unknown", never as an exception.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import msgspec

#: The claim namespace OpenAI puts its account fields under.
AUTH_CLAIM = "https://api.openai.com/auth"
PROFILE_CLAIM = "https://api.openai.com/profile"


class TokenClaims(msgspec.Struct, frozen=True):
    email: str | None = None
    plan_type: str | None = None
    account_id: str | None = None
    #: Unix seconds, when the token says when it expires.
    expires_at: int | None = None


def jwt_payload(token: str) -> dict[str, Any]:
    """The decoded payload of a JWT, or {} when it is not one."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return {}
    padded = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        data = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_claims(token: str) -> TokenClaims:
    payload = jwt_payload(token)
    auth = payload.get(AUTH_CLAIM)
    auth = auth if isinstance(auth, dict) else {}
    profile = payload.get(PROFILE_CLAIM)
    profile = profile if isinstance(profile, dict) else {}
    exp = payload.get("exp")
    return TokenClaims(
        email=_str(payload.get("email")) or _str(profile.get("email")),
        plan_type=_str(auth.get("chatgpt_plan_type")),
        account_id=_str(auth.get("chatgpt_account_id")),
        expires_at=exp if isinstance(exp, int) and not isinstance(exp, bool) else None,
    )
