"""Authentication of websocket clients (`--ws-auth`), as Codex's app-server has it.

* ``capability-token`` — the client sends ``Authorization: Bearer <token>``; the server
  knows the token from ``--ws-token-file`` (an absolute path, trailing whitespace ignored)
  or only its SHA-256 digest (``--ws-token-sha256 HEX``), and compares digests in
  constant time.
* ``signed-bearer-token`` — the bearer is a JWT signed HS256 with the secret in
  ``--ws-shared-secret-file``; ``exp``/``nbf`` are checked with ``--ws-max-clock-skew-seconds``
  of tolerance, ``iss``/``aud`` when ``--ws-issuer``/``--ws-audience`` are given.

A listener on a non-loopback address must have one of these. A refused handshake gets
HTTP 401 and never reaches JSON-RPC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_MAX_CLOCK_SKEW_S = 30
MIN_SECRET_BYTES = 32  # an HS256 key shorter than its hash output is guessable


class WebsocketAuthError(Exception):
    """The `--ws-*` flags do not make a usable configuration; the message says why."""


@dataclass(frozen=True)
class CapabilityToken:
    sha256: bytes

    def accepts(self, bearer: str) -> bool:
        return hmac.compare_digest(hashlib.sha256(bearer.encode()).digest(), self.sha256)


@dataclass(frozen=True)
class SignedBearerToken:
    secret: bytes
    issuer: str | None = None
    audience: str | None = None
    max_clock_skew_s: int = DEFAULT_MAX_CLOCK_SKEW_S

    def accepts(self, bearer: str, *, now: float | None = None) -> bool:
        claims = _verified_claims(bearer, self.secret)
        if claims is None:
            return False
        at = time.time() if now is None else now
        if _number(claims.get("exp")) is not None and at > claims["exp"] + self.max_clock_skew_s:
            return False
        if _number(claims.get("nbf")) is not None and at < claims["nbf"] - self.max_clock_skew_s:
            return False
        if self.issuer is not None and claims.get("iss") != self.issuer:
            return False
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        return self.audience is None or self.audience in audiences


WebsocketAuth = CapabilityToken | SignedBearerToken


def bearer_of(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _verified_claims(token: str, secret: bytes) -> dict[str, Any] | None:
    """The JWT's claims when it is HS256 and its signature is right; None otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_b64decode(parts[0]))
        signature = _b64decode(parts[2])
        claims = json.loads(_b64decode(parts[1]))
    except (ValueError, TypeError):
        return None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        return None
    expected = hmac.new(secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    return claims if hmac.compare_digest(expected, signature) else None


@dataclass(frozen=True)
class WebsocketAuthFlags:
    """The `--ws-*` flags as given on the command line."""

    mode: str | None = None
    token_file: str | None = None
    token_sha256: str | None = None
    shared_secret_file: str | None = None
    issuer: str | None = None
    audience: str | None = None
    max_clock_skew_s: int | None = None

    def settings(self) -> WebsocketAuth | None:
        """The authentication these flags ask for; raises WebsocketAuthError."""
        signed_only = {"--ws-shared-secret-file": self.shared_secret_file, "--ws-issuer": self.issuer,
                       "--ws-audience": self.audience, "--ws-max-clock-skew-seconds": self.max_clock_skew_s}
        token_only = {"--ws-token-file": self.token_file, "--ws-token-sha256": self.token_sha256}
        if self.mode is None:
            given = [flag for flag, value in {**signed_only, **token_only}.items() if value is not None]
            if given:
                raise WebsocketAuthError(f"{given[0]} requires --ws-auth")
            return None
        if self.mode == "capability-token":
            _refuse(signed_only, "capability-token")
            return CapabilityToken(self._token_digest())
        if self.mode == "signed-bearer-token":
            _refuse(token_only, "signed-bearer-token")
            return self._signed()
        raise WebsocketAuthError(
            f"unknown --ws-auth mode {self.mode!r}: expected capability-token or signed-bearer-token"
        )

    def _token_digest(self) -> bytes:
        if (self.token_file is None) == (self.token_sha256 is None):
            raise WebsocketAuthError("--ws-auth capability-token needs exactly one of --ws-token-file or --ws-token-sha256")
        if self.token_sha256 is not None:
            digest = self.token_sha256.strip().lower()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise WebsocketAuthError("--ws-token-sha256 must be 64 hexadecimal digits (a SHA-256 digest)")
            return bytes.fromhex(digest)
        token = _read_secret(self.token_file, "--ws-token-file").strip()
        if not token:
            raise WebsocketAuthError(f"--ws-token-file {self.token_file}: the file is empty")
        return hashlib.sha256(token).digest()

    def _signed(self) -> SignedBearerToken:
        if self.shared_secret_file is None:
            raise WebsocketAuthError("--ws-auth signed-bearer-token needs --ws-shared-secret-file")
        secret = _read_secret(self.shared_secret_file, "--ws-shared-secret-file")
        if len(secret) < MIN_SECRET_BYTES:
            raise WebsocketAuthError(
                f"--ws-shared-secret-file {self.shared_secret_file}: the secret must be at least "
                f"{MIN_SECRET_BYTES} bytes"
            )
        skew = DEFAULT_MAX_CLOCK_SKEW_S if self.max_clock_skew_s is None else self.max_clock_skew_s
        return SignedBearerToken(secret, self.issuer, self.audience, skew)


def _refuse(flags: Mapping[str, object], mode: str) -> None:
    for flag, value in flags.items():
        if value is not None:
            raise WebsocketAuthError(f"{flag} cannot be used with --ws-auth {mode}")


def _read_secret(path: str | None, flag: str) -> bytes:
    assert path is not None
    if not Path(path).is_absolute():
        raise WebsocketAuthError(f"{flag} must be an absolute path: {path}")
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise WebsocketAuthError(f"{flag} {path}: {exc.strerror or exc}") from None
