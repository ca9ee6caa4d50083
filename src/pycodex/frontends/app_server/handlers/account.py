"""`account/*`: who the server talks to the model as, and logging in and out.

* `account/read` — the stored credential (API key or ChatGPT, with email and plan) and
  whether the configured provider needs OpenAI auth at all.
* `account/login/start` — `apiKey` (stored as `pycodex login --with-api-key` stores it),
  `chatgpt` (the browser flow: `authUrl` and `loginId` answered at once, the login finishes
  in the background with `account/login/completed` and `account/updated`), cancelled with
  `account/login/cancel`.
* `account/logout` — removes the stored credential; `account/updated` follows.
* `account/rateLimits/read` — the latest rate-limit snapshot the threads received.

* `chatgptAuthTokens` — ChatGPT tokens the client manages (the access token must be a JWT):
  held in memory only (never written), used by every thread of this server whose provider
  needs OpenAI auth and has no key of its own; `account/read` reports them as a `chatgpt`
  account (email from the token, plan as given or from the token). After a 401 the server
  asks the client that logged in with `account/chatgptAuthTokens/refresh` (10 s), adopts
  the answer and retries the request once; an error, a timeout or a malformed answer fails
  the turn with the reason. While they are set, `apiKey` and `chatgpt` logins are refused
  (as Codex does); `account/logout` forgets them.

* `chatgptDeviceCode` — the device-code flow: `verificationUrl` and `userCode` answered at
  once, the login finishing in the background (cancellable) like the browser one.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Mapping
from typing import Any

from pycodex.frontends.app_server.dispatcher import Peer, RequestContext
from pycodex.frontends.app_server.errors import RpcError, invalid_request
from pycodex.frontends.app_server.handlers.recorded_threads import after_answer_in_order
from pycodex.frontends.app_server.loaded_threads import LoadedThreads
from pycodex.frontends.app_server.params import EmptyParams
from pycodex.frontends.app_server.thread_config import load_thread_config
from pycodex.frontends.app_server.validation import Params

Json = dict[str, Any]
EXTERNAL_AUTH_ACTIVE = (
    "External auth is active. Use account/login/start (chatgptAuthTokens) to update it or account/logout to clear it."
)
PLAN_TYPES = frozenset({  # the v2 schema's `PlanType`; any other reads as "unknown"
    "free", "go", "plus", "pro", "prolite", "promax", "team", "self_serve_business_prolite",
    "self_serve_business_usage_based", "business", "ent26", "enterprise_cbp_automation",
    "enterprise_cbp_usage_based", "enterprise", "edu", "edu_plus", "edu_pro", "unknown",
})


class GetAccountParams(Params, kw_only=True):
    refresh_token: bool | None = None


class LoginAccountParams(Params, kw_only=True):
    type: str
    api_key: str | None = None
    id_token: str | None = None
    access_token: str | None = None
    chatgpt_account_id: str | None = None
    chatgpt_plan_type: str | None = None
    app_brand: Any = None
    codex_streamlined_login: bool | None = None
    use_hosted_login_success_page: bool | None = None


class CancelLoginAccountParams(Params, kw_only=True):
    login_id: str


def account_json(stored: Any) -> Json | None:
    """The v2 `Account` of a stored credential (None when there is none)."""
    from pycodex.auth.claims import parse_claims

    if stored is None:
        return None
    if stored.tokens is not None:
        claims = parse_claims(stored.tokens.id_token)
        plan = claims.plan_type if claims.plan_type in PLAN_TYPES else "unknown"
        return {"type": "chatgpt", "email": claims.email, "planType": plan}
    if stored.api_key:
        return {"type": "apiKey"}
    return None


def _auth_mode(account: Json | None) -> Json:
    if account is None:
        return {"authMode": None, "planType": None}
    if account["type"] == "chatgpt":
        return {"authMode": "chatgpt", "planType": account["planType"]}
    return {"authMode": "apikey", "planType": None}


class Accounts:
    """The account methods, sharing the logins under way."""

    def __init__(self, threads: LoadedThreads, env: Mapping[str, str]) -> None:
        self.threads = threads
        self.env = env
        self._logins: dict[str, Any] = {}  # login id -> PendingBrowserLogin / PendingDeviceLogin
        self._cancels: dict[str, asyncio.Event] = {}  # login id -> set by account/login/cancel

    async def _config(self) -> Any:
        return await load_thread_config(self.env, base_overrides=self.threads.config_overrides)

    async def _stored(self, config: Any) -> Any:
        from pycodex.auth.credential import load_auth

        loaded = await asyncio.to_thread(
            load_auth, config.cli_auth_credentials_store, config.pycodex_home, config.codex_home
        )
        return loaded.stored

    async def read(self, ctx: RequestContext, params: GetAccountParams) -> Json:
        config = await self._config()
        external = self.threads.external_auth
        account = _external_account(external) if external.active else account_json(await self._stored(config))
        return {"account": account, "requiresOpenaiAuth": bool(config.model_provider.requires_openai_auth)}

    async def login_start(self, ctx: RequestContext, params: LoginAccountParams) -> Json:
        config = await self._config()
        forced = config.config_toml.forced_login_method
        if params.type in ("apiKey", "chatgpt", "chatgptDeviceCode") and self.threads.external_auth.active:
            raise invalid_request(EXTERNAL_AUTH_ACTIVE)
        if params.type == "apiKey":
            if forced == "chatgpt":
                raise invalid_request('API key login is disabled (forced_login_method = "chatgpt")')
            return await self._api_key_login(ctx, config, params.api_key)
        if params.type == "chatgpt":
            if forced == "api":
                raise invalid_request('ChatGPT login is disabled (forced_login_method = "api")')
            return await self._chatgpt_login(ctx, config)
        if params.type == "chatgptDeviceCode":
            if forced == "api":
                raise invalid_request('ChatGPT login is disabled (forced_login_method = "api")')
            return await self._device_login(ctx, config)
        if params.type == "chatgptAuthTokens":
            if forced == "api":
                raise invalid_request("External ChatGPT auth is disabled. Use API key login instead.")
            return await self._external_login(ctx, config, params)
        raise invalid_request(f"account/login/start: pycodex does not support login type {params.type!r} yet")

    async def _api_key_login(self, ctx: RequestContext, config: Any, key: str | None) -> Json:
        from pycodex.auth.storage import open_store
        from pycodex.auth.store import AUTH_FILE, StoredAuth

        if not key or not key.strip():
            raise invalid_request("apiKey must not be empty")
        try:
            store = open_store(config.cli_auth_credentials_store, config.pycodex_home).store
            stored = StoredAuth(path=config.pycodex_home / AUTH_FILE, auth_mode="apikey", api_key=key.strip())
            await asyncio.to_thread(store.save, stored)
        except Exception as exc:  # OSError, AuthError: the one-line reason
            raise RpcError(-32603, f"cannot store the API key: {exc}") from None
        after_answer_in_order([ctx.peer], [
            ("account/login/completed", {"loginId": None, "success": True, "error": None}),
            ("account/updated", _auth_mode({"type": "apiKey"})),
        ])
        return {"type": "apiKey"}

    async def _external_login(self, ctx: RequestContext, config: Any, params: LoginAccountParams) -> Json:
        access, account = (params.access_token or "").strip(), (params.chatgpt_account_id or "").strip()
        if not access or not account:
            raise invalid_request("chatgptAuthTokens needs a non-empty accessToken and chatgptAccountId")
        workspace = config.config_toml.forced_chatgpt_workspace_id
        if workspace and account != workspace:
            raise invalid_request(f"External auth must use workspace {workspace!r}, but received {account!r}.")
        if not _is_jwt(access):
            raise RpcError(-32603, "failed to set external auth: the accessToken is not a JWT")
        # A browser login still under way would store a login of its own: it ends here.
        for pending in list(self._logins.values()):
            await asyncio.to_thread(pending.cancel)
        peer = ctx.peer

        async def refresh(previous_account_id: str | None) -> tuple[str, str, str | None]:
            params = {"reason": "unauthorized", "previousAccountId": previous_account_id}
            answer = await peer.request("account/chatgptAuthTokens/refresh", params)
            return _refreshed_tokens(answer, workspace)

        self.threads.external_auth.set(access, account, params.chatgpt_plan_type, refresh)
        plan = _external_account(self.threads.external_auth)["planType"]
        after_answer_in_order([peer], [
            ("account/login/completed", {"loginId": None, "success": True, "error": None}),
            ("account/updated", {"authMode": "chatgptAuthTokens", "planType": plan}),
        ])
        return {"type": "chatgptAuthTokens"}

    def _login_target(self, config: Any) -> Any:
        from pycodex.auth import oauth
        from pycodex.auth.login import LoginTarget
        from pycodex.auth.storage import open_store

        return LoginTarget(
            store=open_store(config.cli_auth_credentials_store, config.pycodex_home).store,
            home=config.pycodex_home, workspace_id=config.config_toml.forced_chatgpt_workspace_id,
            issuer=oauth.issuer(self.env),
        )

    async def _pending(self, ctx: RequestContext, start: Any) -> tuple[str, Any]:
        """Start a login (`start()` does network or socket work: off the loop) and finish it
        in the background; its login id and the pending login."""
        from pycodex.auth.errors import AuthError

        try:
            pending = await asyncio.to_thread(start)
        except AuthError as exc:
            raise invalid_request(str(exc)) from None
        login_id = str(uuid.uuid4())
        self._logins[login_id] = pending
        asyncio.get_running_loop().create_task(self._finish(login_id, pending, ctx.peer))
        return login_id, pending

    async def _chatgpt_login(self, ctx: RequestContext, config: Any) -> Json:
        from pycodex.auth.login import PendingBrowserLogin

        target = self._login_target(config)
        login_id, pending = await self._pending(ctx, lambda: PendingBrowserLogin(target, self.env))
        return {"type": "chatgpt", "loginId": login_id, "authUrl": pending.url}

    async def _device_login(self, ctx: RequestContext, config: Any) -> Json:
        from pycodex.auth.login import PendingDeviceLogin

        target = self._login_target(config)
        login_id, pending = await self._pending(ctx, lambda: PendingDeviceLogin(target))
        return {"type": "chatgptDeviceCode", "loginId": login_id,
                "verificationUrl": pending.verification_url, "userCode": pending.user_code}

    async def _finish(self, login_id: str, pending: Any, peer: Peer) -> None:
        cancelled = self._cancels[login_id] = asyncio.Event()
        try:
            # A cancel ends the login at once, even while a device-code poll is still out.
            stored = await _unless(cancelled, _in_daemon_thread(pending.wait))
        except Exception as exc:  # cancelled, refused, a workspace mismatch: said as is
            await _tell(peer, "account/login/completed", {"loginId": login_id, "success": False, "error": str(exc)})
            return
        finally:
            self._logins.pop(login_id, None)
            self._cancels.pop(login_id, None)
        await _tell(peer, "account/login/completed", {"loginId": login_id, "success": True, "error": None})
        await _tell(peer, "account/updated", _auth_mode(account_json(stored)))

    async def login_cancel(self, ctx: RequestContext, params: CancelLoginAccountParams) -> Json:
        pending = self._logins.get(params.login_id)
        if pending is None:
            return {"status": "notFound"}
        await asyncio.to_thread(pending.cancel)
        if (cancelled := self._cancels.get(params.login_id)) is not None:
            cancelled.set()
        return {"status": "canceled"}

    async def logout(self, ctx: RequestContext, params: EmptyParams) -> Json:
        from pycodex.auth.storage import delete_credentials

        self.threads.external_auth.clear()
        config = await self._config()
        try:
            await asyncio.to_thread(delete_credentials, config.cli_auth_credentials_store, config.pycodex_home)
        except Exception as exc:
            raise RpcError(-32603, f"cannot remove the stored credentials: {exc}") from None
        after_answer_in_order([ctx.peer], [("account/updated", _auth_mode(None))])
        return {}

    async def rate_limits(self, ctx: RequestContext, params: EmptyParams) -> Json:
        snapshot = self.threads.latest_rate_limits
        if snapshot is None:
            raise invalid_request("no rate limits known yet: they arrive with the first model response")
        return {"rateLimits": snapshot, "rateLimitsByLimitId": None}


def _external_account(external: Any) -> Json:
    """The v2 `Account` of a host's tokens: email and plan from the access token's claims,
    the plan the host named first."""
    from pycodex.auth.claims import parse_claims

    claims = parse_claims(external.access_token or "")
    plan = external.plan_type or claims.plan_type
    return {"type": "chatgpt", "email": claims.email, "planType": plan if plan in PLAN_TYPES else "unknown"}


def _is_jwt(token: str) -> bool:
    from pycodex.auth.claims import jwt_payload

    return bool(jwt_payload(token))


def _refreshed_tokens(answer: Any, workspace: str | None) -> tuple[str, str, str | None]:
    """`ChatgptAuthTokensRefreshResponse`, checked as a login is: a malformed answer, a token
    that is not a JWT or another workspace than the one forced is no refresh."""
    method = "account/chatgptAuthTokens/refresh"
    if not isinstance(answer, dict):
        raise ValueError(f"{method}: the answer is not an object")
    access, account, plan = answer.get("accessToken"), answer.get("chatgptAccountId"), answer.get("chatgptPlanType")
    if not isinstance(access, str) or not access or not isinstance(account, str) or not account:
        raise ValueError(f"{method}: the answer lacks accessToken or chatgptAccountId")
    if not _is_jwt(access):
        raise ValueError(f"{method}: the accessToken is not a JWT")
    if workspace and account != workspace:
        raise ValueError(f"{method}: external auth must use workspace {workspace!r}, but received {account!r}")
    return access, account, plan if isinstance(plan, str) else None


async def _unless(cancelled: asyncio.Event, work: Any) -> Any:
    """`await work`, unless `cancelled` is set first: then "Login cancelled" (the login's own
    thread ends by itself and, cancelled, saves nothing)."""
    from pycodex.auth.errors import LoginFailed

    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(cancelled.wait())
    done, _ = await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        stop.cancel()
        return task.result()
    task.cancel()
    raise LoginFailed("Login cancelled")


async def _in_daemon_thread(work: Any) -> Any:
    """`work()` on a daemon thread: a login nobody finishes must not keep the server from
    exiting (asyncio.to_thread's executor is waited for at shutdown)."""
    import threading

    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)

    def run() -> None:
        try:
            result, error = work(), None
        except BaseException as exc:  # handed to the awaiting coroutine
            result, error = None, exc
        loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="account-login", daemon=True).start()
    return await done


async def _tell(peer: Peer, method: str, params: Json) -> None:
    with contextlib.suppress(Exception):  # the client left meanwhile
        await peer.notify(method, params)
