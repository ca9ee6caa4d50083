"""Model provider selection: built-ins, user providers, --oss."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from pycodex.config import ConfigError
from pycodex.config.providers import ModelProviderInfo
from pycodex.config.schema import ConfigToml, HistoryToml
from tests.support.config_world import World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_default_provider_is_openai_responses(world: World) -> None:
    config = world.load()
    assert config.model_provider_id == "openai"
    assert config.model_provider.wire_api == "responses"
    assert config.model_provider.env_key == "OPENAI_API_KEY"
    assert config.model_provider.requires_openai_auth is True
    assert set(config.model_providers) == {"openai", "oss"}


def test_user_provider_selected_by_model_provider(world: World) -> None:
    world.user_config(
        'model_provider = "mock"\n'
        "[model_providers.mock]\n"
        'name = "Mock"\nbase_url = "http://127.0.0.1:18301/v1"\nenv_key = "MOCK_KEY"\n'
        "request_max_retries = 0\nstream_max_retries = 0\n"
    )
    config = world.load()
    assert config.model_provider_id == "mock"
    provider = config.model_provider
    assert (provider.name, provider.base_url, provider.env_key) == (
        "Mock",
        "http://127.0.0.1:18301/v1",
        "MOCK_KEY",
    )
    assert provider.effective_request_max_retries() == 0
    assert set(config.model_providers) == {"openai", "oss", "mock"}


def test_all_provider_fields_are_parsed(world: World) -> None:
    world.user_config(
        'model_provider = "full"\n'
        "[model_providers.full]\n"
        'name = "Full"\n'
        'base_url = "https://example.test/v1"\n'
        'env_key = "FULL_KEY"\n'
        'env_key_instructions = "get one"\n'
        'experimental_bearer_token = "tok"\n'
        'wire_api = "chat"\n'
        'query_params = { "api-version" = "2025-04-01" }\n'
        'http_headers = { "X-A" = "1" }\n'
        'env_http_headers = { "X-B" = "B_ENV" }\n'
        "request_max_retries = 7\n"
        "stream_max_retries = 8\n"
        "stream_idle_timeout_ms = 9000\n"
        "requires_openai_auth = true\n"
        "supports_websockets = true\n"
    )
    provider = world.load().model_provider
    assert msgspec.structs.asdict(provider) == {
        "name": "Full",
        "base_url": "https://example.test/v1",
        "env_key": "FULL_KEY",
        "env_key_instructions": "get one",
        "experimental_bearer_token": "tok",
        "wire_api": "chat",
        "query_params": {"api-version": "2025-04-01"},
        "http_headers": {"X-A": "1"},
        "env_http_headers": {"X-B": "B_ENV"},
        "request_max_retries": 7,
        "stream_max_retries": 8,
        "stream_idle_timeout_ms": 9000,
        "requires_openai_auth": True,
        "supports_websockets": True,
    }


def test_user_entry_for_builtin_id_patches_the_builtin(world: World) -> None:
    world.user_config('[model_providers.openai]\nbase_url = "http://proxy.test/v1"\n')
    provider = world.load().model_provider
    assert provider.base_url == "http://proxy.test/v1"
    assert provider.name == "OpenAI"  # inherited from the built-in
    assert provider.requires_openai_auth is True


def test_user_entry_for_builtin_id_can_change_every_field(world: World) -> None:
    world.user_config(
        '[model_providers.openai]\nname = "Mine"\nwire_api = "chat"\nrequires_openai_auth = false\n'
    )
    provider = world.load().model_provider
    assert (provider.name, provider.wire_api, provider.requires_openai_auth) == (
        "Mine",
        "chat",
        False,
    )


def test_dash_c_can_patch_a_provider_url(world: World) -> None:
    world.user_config(
        'model_provider = "mock"\n[model_providers.mock]\nname = "mock"\nbase_url = "http://a/v1"\n'
    )
    config = world.load(config_overrides=['model_providers.mock.base_url="http://127.0.0.1:1/v1"'])
    assert config.model_provider.base_url == "http://127.0.0.1:1/v1"
    assert config.model_provider.name == "mock"


def test_new_provider_without_name_is_an_error(world: World) -> None:
    path = world.user_config('[model_providers.x]\nbase_url = "http://h/v1"\n')
    with pytest.raises(ConfigError) as excinfo:
        world.load()
    assert str(excinfo.value) == f"{path}:1:1: missing required field `model_providers.x.name`"


def test_unknown_provider_id_lists_known_ids(world: World) -> None:
    path = world.user_config('model_provider = "nope"\n[model_providers.mine]\nname = "Mine"\n')
    with pytest.raises(ConfigError) as excinfo:
        world.load()
    message = str(excinfo.value)
    assert message.startswith(f"{path}: unknown model provider `nope`")
    assert "`mine`, `openai`, `oss`" in message


def test_bad_wire_api_is_an_error(world: World) -> None:
    world.user_config('[model_providers.x]\nname = "X"\nwire_api = "grpc"\n')
    with pytest.raises(ConfigError, match="expected one of `responses`, `chat`"):
        world.load()


def test_oss_flag_selects_oss_provider_and_default_model(world: World) -> None:
    world.user_config('model = "gpt-5.5"\n')
    config = world.load(oss=True)
    assert config.model_provider_id == "oss"
    assert config.model_provider.wire_api == "chat"
    assert config.model_provider.base_url == "http://localhost:11434/v1"
    assert config.model == "gpt-oss:20b"
    assert config.oss is True


def test_oss_flag_keeps_explicit_model_and_honours_oss_provider(world: World) -> None:
    world.user_config('oss_provider = "lmstudio"\n[model_providers.lmstudio]\nname = "LM Studio"\n')
    config = world.load(oss=True, model="qwen3")
    assert config.model_provider_id == "lmstudio"
    assert config.model == "qwen3"


def test_oss_base_url_from_environment(world: World) -> None:
    world.env["PYCODEX_OSS_BASE_URL"] = "http://gpu-box:11434/v1"
    assert world.load(oss=True).model_provider.base_url == "http://gpu-box:11434/v1"


def test_model_provider_flag_beats_config(world: World) -> None:
    world.user_config('model_provider = "openai"\n')
    assert world.load(model_provider="oss").model_provider_id == "oss"


@pytest.mark.parametrize("table", [ModelProviderInfo, HistoryToml, ConfigToml])
def test_tables_are_built_by_key_never_by_position(table: type[msgspec.Struct]) -> None:
    # A positional call would silently depend on the order fields are declared in.
    with pytest.raises(TypeError):
        table("X")
