"""The device-code flow's two endpoints: ask for a user code, then poll until the user
has entered it (the issuer answers 403/404 while it waits), for at most 15 minutes."""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from pycodex.auth import oauth
from pycodex.auth.errors import LoginFailed

MAX_WAIT_S = 15 * 60


class DeviceCode(msgspec.Struct, frozen=True):
    verification_url: str
    user_code: str
    device_auth_id: str
    interval_s: float


class DeviceGrant(msgspec.Struct, frozen=True):
    authorization_code: str
    code_verifier: str


def request_device_code(issuer: str) -> DeviceCode:
    status, body = oauth.post(
        f"{issuer}/api/accounts/deviceauth/usercode", json={"client_id": oauth.CLIENT_ID}
    )
    if status == 404:
        raise LoginFailed(
            "device code login is not enabled for this server; use the browser login "
            "(`pycodex login`) or check PYCODEX_LOGIN_ISSUER"
        )
    if status != 200 or not isinstance(body, dict):
        _, detail = oauth.error_detail(body)
        raise LoginFailed(f"device code request failed with HTTP {status}: {detail}")
    user_code = body.get("user_code") or body.get("usercode")
    device_id = body.get("device_auth_id")
    if not isinstance(user_code, str) or not isinstance(device_id, str):
        raise LoginFailed("device code request: the answer lacks user_code or device_auth_id")
    try:
        interval = float(str(body.get("interval", "5")).strip() or 5)
    except ValueError:
        interval = 5.0
    return DeviceCode(f"{issuer}/codex/device", user_code, device_id, max(interval, 0.0))


def poll_device_code(
    issuer: str,
    code: DeviceCode,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> DeviceGrant:
    started = clock()
    while True:
        status, body = oauth.post(
            f"{issuer}/api/accounts/deviceauth/token",
            json={"device_auth_id": code.device_auth_id, "user_code": code.user_code},
        )
        if status == 200 and isinstance(body, dict):
            auth_code, verifier = body.get("authorization_code"), body.get("code_verifier")
            if isinstance(auth_code, str) and isinstance(verifier, str):
                return DeviceGrant(auth_code, verifier)
            raise LoginFailed("device code login: the answer lacks authorization_code")
        if status not in (403, 404):
            _, detail = oauth.error_detail(body)
            raise LoginFailed(f"device code login failed with HTTP {status}: {detail}")
        waited = clock() - started
        if waited >= MAX_WAIT_S:
            raise LoginFailed("device code login timed out after 15 minutes")
        sleep(min(code.interval_s, MAX_WAIT_S - waited))
