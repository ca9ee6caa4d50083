"""`pycodex app-server` config methods over stdio: `config/read` (effective config, origins,
layers with their sources), `config/value/write` and `config/batchWrite` (in-place edits of
`$PYCODEX_HOME/config.toml`, comments kept, invalid values refused with nothing written);
results checked against Codex's v2 JSON Schema."""

from __future__ import annotations

import json
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.e2e.test_app_server_support import AppServer, initialize_params, server_env, shared_dir
from tests.e2e.test_app_server_threads import Client

pytestmark = pytest.mark.e2e
Json = dict[str, Any]

USER_CONFIG = """\
# my settings
model = "gpt-5.5"  # the default model
model_provider = "mock"

[model_providers.mock]
name = "mock"
base_url = "http://127.0.0.1:9/v1"
env_key = "MOCK_KEY"
"""


def _schema(name: str) -> Json:
    path = (
        shared_dir()
        / "reference/app-server-schema/stable/codex_app_server_protocol.v2.schemas.json"
    )
    full: Json = json.loads(path.read_text())
    return {**full, "$ref": f"#/definitions/{name}"}


def check(result: Json, name: str) -> None:
    jsonschema.validate(result, _schema(name))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "pycodex-home"
    home.mkdir()
    (home / "config.toml").write_text(USER_CONFIG)
    return home


@pytest.fixture
def project(tmp_path: Path, home: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    (ws / ".codex").mkdir()
    (ws / ".codex" / "config.toml").write_text('model_reasoning_effort = "low"\n')
    with (home / "config.toml").open("a") as fh:
        fh.write(f'\n[projects."{ws}"]\ntrust_level = "trusted"\n')
    return ws


@pytest.fixture
def client(tmp_path: Path, home: Path) -> Iterator[Client]:
    server = AppServer(tmp_path, env=server_env(tmp_path, MOCK_KEY="x"))
    c = Client(server)
    assert "result" in c.call("initialize", initialize_params("ide_client"))
    server.send({"method": "initialized"})
    try:
        yield c
    finally:
        server.stop()


def result_of(answer: Json) -> Json:
    assert "result" in answer, answer
    result: Json = answer["result"]
    return result


def test_read_without_layers_is_the_effective_config(client: Client, home: Path) -> None:
    result = result_of(client.call("config/read", {}))
    check(result, "ConfigReadResponse")
    config = result["config"]
    assert config["model"] == "gpt-5.5"
    assert config["model_provider"] == "mock"
    assert config["model_reasoning_effort"] is None  # nulls shown, as Codex does
    assert config["history"] == {"persistence": "save-all", "max_bytes": None}
    assert set(config["model_providers"]) == {"mock"}
    assert config["model_providers"]["mock"]["base_url"] == "http://127.0.0.1:9/v1"
    assert "layers" not in result or result["layers"] is None
    user = {"type": "user", "file": str(home / "config.toml"), "profile": None}
    assert result["origins"]["model"]["name"] == user
    assert result["origins"]["model_providers.mock.env_key"]["name"] == user
    assert result["origins"]["model"]["version"].startswith("sha256:")


def test_read_with_layers_for_a_project_cwd(client: Client, home: Path, project: Path) -> None:
    result = result_of(client.call("config/read", {"includeLayers": True, "cwd": str(project)}))
    check(result, "ConfigReadResponse")
    assert result["config"]["model_reasoning_effort"] == "low"
    names = [layer["name"] for layer in result["layers"]]
    assert names == [
        {"type": "project", "dotCodexFolder": str(project / ".codex")},
        {"type": "user", "file": str(home / "config.toml"), "profile": None},
    ]
    assert result["layers"][0]["config"] == {"model_reasoning_effort": "low"}
    assert result["layers"][1]["config"]["model"] == "gpt-5.5"
    assert result["origins"]["model_reasoning_effort"]["name"] == names[0]
    assert result["origins"]["model_reasoning_effort"]["version"] == result["layers"][0]["version"]
    # Without cwd the project layer is not there.
    plain = result_of(client.call("config/read", {"includeLayers": True}))
    assert [layer["name"]["type"] for layer in plain["layers"]] == ["user"]
    assert plain["config"]["model_reasoning_effort"] is None


def test_write_then_read_back_keeps_comments(client: Client, home: Path) -> None:
    written = result_of(
        client.call(
            "config/value/write",
            {"keyPath": "model_reasoning_effort", "value": "high", "mergeStrategy": "replace"},
        )
    )
    check(written, "ConfigWriteResponse")
    assert written["status"] == "ok"
    assert written["filePath"] == str((home / "config.toml").resolve())
    assert written["overriddenMetadata"] is None
    text = (home / "config.toml").read_text()
    assert "# my settings" in text and "# the default model" in text
    assert tomllib.loads(text)["model_reasoning_effort"] == "high"
    read = result_of(client.call("config/read", {"includeLayers": True}))
    assert read["config"]["model_reasoning_effort"] == "high"
    assert read["layers"][0]["version"] == written["version"]
    # A nested key lands in its table; expectedVersion guards against a stale read.
    again = result_of(
        client.call(
            "config/value/write",
            {
                "keyPath": "model_providers.mock.request_max_retries",
                "value": 2,
                "mergeStrategy": "upsert",
                "expectedVersion": written["version"],
            },
        )
    )
    assert tomllib.loads((home / "config.toml").read_text())["model_providers"]["mock"] == {
        "name": "mock",
        "base_url": "http://127.0.0.1:9/v1",
        "env_key": "MOCK_KEY",
        "request_max_retries": 2,
    }
    stale = client.call(
        "config/value/write",
        {
            "keyPath": "model",
            "value": "x",
            "mergeStrategy": "replace",
            "expectedVersion": written["version"],
        },
    )
    assert stale["error"]["data"] == {"config_write_error_code": "configVersionConflict"}
    assert again["version"] != written["version"]


def test_invalid_value_is_refused_and_nothing_written(client: Client, home: Path) -> None:
    before = (home / "config.toml").read_bytes()
    answer = client.call(
        "config/value/write",
        {"keyPath": "sandbox_mode", "value": "wide-open", "mergeStrategy": "replace"},
    )
    error = answer["error"]
    assert error["code"] == -32600
    assert "`sandbox_mode`" in error["message"]
    assert error["data"] == {"config_write_error_code": "configValidationError"}
    unknown = client.call(
        "config/value/write", {"keyPath": "modle", "value": "x", "mergeStrategy": "replace"}
    )
    assert "`modle`" in unknown["error"]["message"]
    assert (home / "config.toml").read_bytes() == before
    assert sorted(p.name for p in home.iterdir()) == ["config.toml"]  # no temp file left


def test_batch_write_applies_all_edits_or_none(client: Client, home: Path) -> None:
    written = result_of(
        client.call(
            "config/batchWrite",
            {
                "edits": [
                    {"keyPath": "model", "value": "gpt-5.6", "mergeStrategy": "replace"},
                    {
                        "keyPath": "history",
                        "value": {"persistence": "none"},
                        "mergeStrategy": "upsert",
                    },
                    {
                        "keyPath": "model_providers.mock",
                        "value": {"stream_max_retries": 1},
                        "mergeStrategy": "upsert",
                    },
                ]
            },
        )
    )
    check(written, "ConfigWriteResponse")
    data = tomllib.loads((home / "config.toml").read_text())
    assert data["model"] == "gpt-5.6"
    assert data["history"] == {"persistence": "none"}
    assert data["model_providers"]["mock"]["stream_max_retries"] == 1
    assert data["model_providers"]["mock"]["name"] == "mock"  # upsert merged, not replaced
    assert "# my settings" in (home / "config.toml").read_text()
    before = (home / "config.toml").read_bytes()
    bad = client.call(
        "config/batchWrite",
        {
            "edits": [
                {"keyPath": "model", "value": "other", "mergeStrategy": "replace"},
                {"keyPath": "project_doc_max_bytes", "value": "many", "mergeStrategy": "replace"},
            ]
        },
    )
    assert "`project_doc_max_bytes`" in bad["error"]["message"]
    assert (home / "config.toml").read_bytes() == before
    # replace swaps a whole table; a null value removes the key.
    result_of(
        client.call(
            "config/batchWrite",
            {
                "edits": [
                    {
                        "keyPath": "model_providers.mock",
                        "value": {"name": "mock2"},
                        "mergeStrategy": "replace",
                    },
                    {"keyPath": "history", "value": None, "mergeStrategy": "replace"},
                ]
            },
        )
    )
    data = tomllib.loads((home / "config.toml").read_text())
    assert data["model_providers"]["mock"] == {"name": "mock2"}
    assert "history" not in data
