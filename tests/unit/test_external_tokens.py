"""`ExternalTokens`: a host's ChatGPT tokens and their refresh after a 401 — the refresh
times out, concurrent 401s share one refresh, a logout meanwhile wins."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pycodex.auth import external
from pycodex.auth.errors import RefreshFailed
from pycodex.auth.external import ExternalTokens


async def test_a_refresh_the_host_never_answers_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(external, "REFRESH_TIMEOUT_S", 0.05)
    never: asyncio.Future[tuple[str, str, str | None]] = asyncio.get_running_loop().create_future()

    async def silent(previous: str | None) -> tuple[str, str, str | None]:
        return await never

    tokens = ExternalTokens()
    tokens.set("at-1", "acct-1", None, silent)
    with pytest.raises(RefreshFailed, match="did not refresh the ChatGPT tokens within"):
        await tokens.refresh("at-1")
    assert tokens.access_token == "at-1"  # nothing adopted


async def test_concurrent_401s_share_one_refresh() -> None:
    asked: list[str | None] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def host(previous: str | None) -> tuple[str, str, str | None]:
        asked.append(previous)
        started.set()
        await release.wait()
        return "at-2", "acct-2", "plus"

    tokens = ExternalTokens()
    tokens.set("at-1", "acct-1", None, host)
    first = asyncio.create_task(tokens.refresh("at-1"))
    second = asyncio.create_task(tokens.refresh("at-1"))
    await started.wait()  # the first asks the host; the second ran meanwhile, to the lock
    release.set()
    assert await asyncio.gather(first, second) == [True, True]
    assert asked == ["acct-1"]
    assert tokens.headers() == {"authorization": "Bearer at-2", "chatgpt-account-id": "acct-2"}
    assert tokens.plan_type == "plus"


async def test_after_logout_there_is_nothing_to_refresh() -> None:
    async def host(previous: str | None) -> tuple[str, str, str | None]:
        raise AssertionError("not asked")

    tokens = ExternalTokens()
    tokens.set("at-1", "acct-1", None, host)
    tokens.clear()
    assert not tokens.active
    assert await tokens.refresh("at-1") is False


async def test_the_hosts_error_is_the_reason() -> None:
    async def host(previous: str | None) -> tuple[str, str, str | None]:
        raise RuntimeError("host says no")

    tokens = ExternalTokens()
    tokens.set("at-1", "acct-1", None, host)
    with pytest.raises(RefreshFailed, match="could not refresh the ChatGPT tokens: host says no"):
        await tokens.refresh("at-1")


@pytest.mark.parametrize(
    "env, routed",
    [({}, True), ({"OPENAI_API_KEY": "sk-env"}, False)],
    ids=["tokens apply", "the provider's own key wins"],
)
def test_requests_go_where_their_credential_belongs(
    tmp_path: Path, env: dict[str, str], routed: bool
) -> None:
    """With a host's tokens the built-in provider's requests go to ChatGPT's backend, unless
    its env key is set: then the key authorizes them and they stay on the API."""
    from pycodex.auth.credential import AuthPolicy
    from pycodex.auth.provider_auth import ProviderAuth, routed_provider
    from pycodex.config.providers import built_in_providers

    provider = built_in_providers()["openai"]
    tokens = ExternalTokens()
    tokens.set("at-1", "acct-1", None, None)
    auth = ProviderAuth(provider, env=env, policy=AuthPolicy(), own_home=tmp_path / "a",
                        borrowed_home=tmp_path / "b", external=tokens)
    address = routed_provider(provider, auth, "https://chatgpt.example/backend-api").base_url
    assert address == ("https://chatgpt.example/backend-api/codex" if routed else provider.base_url)
