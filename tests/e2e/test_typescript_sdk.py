"""The official TypeScript SDK (`@openai/codex-sdk`, pinned in tests/sdk_ts/package.json)
drives the installed pycodex through `codexPathOverride`.

The SDK spawns `<binary> exec --experimental-json [flags]`, writes the prompt to stdin and
parses the JSONL on stdout; tests/sdk_ts/drive.mjs runs one scenario and prints what the
SDK returned. Every spawn goes through a small wrapper that records the argv, so the tests
also prove which flags the SDK passed and that pycodex accepted all of them. The mock
provider reads its key from CODEX_API_KEY: that is where the SDK puts `apiKey`.

Needs node and npm; the SDK is installed once into tests/sdk_ts/node_modules (`npm ci`,
optional platform binaries of @openai/codex omitted: the real Codex is never run here).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.mock_model import (
    MockModelServer,
    RecordedRequest,
    Reply,
    function_call,
    message,
    response,
)

pytestmark = pytest.mark.e2e

PYCODEX = Path(sys.executable).parent / "pycodex"
SDK_DIR = Path(__file__).resolve().parents[1] / "sdk_ts"
DRIVER = SDK_DIR / "drive.mjs"
API_KEY = "sk-sdk-test-key"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ONE_REQUEST_USAGE = {
    "input_tokens": 100,
    "cached_input_tokens": 20,
    "cache_write_input_tokens": 0,
    "output_tokens": 10,
    "reasoning_output_tokens": 3,
}


def _pinned_sdk_version() -> str:
    manifest = json.loads((SDK_DIR / "package.json").read_text(encoding="utf-8"))
    version: str = manifest["dependencies"]["@openai/codex-sdk"]
    return version


def _installed_sdk_version() -> str | None:
    manifest = SDK_DIR / "node_modules" / "@openai" / "codex-sdk" / "package.json"
    try:
        version: str = json.loads(manifest.read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return None
    return version


@pytest.fixture(scope="module")
def node() -> str:
    """Path of `node`, with the pinned SDK installed into tests/sdk_ts/node_modules."""
    node_bin, npm_bin = shutil.which("node"), shutil.which("npm")
    if node_bin is None or npm_bin is None:
        missing = ", ".join(n for n, p in (("node", node_bin), ("npm", npm_bin)) if p is None)
        reason = f"node/npm not installed: {missing} not found on PATH"
        print(reason)
        pytest.skip(reason)
    pinned = _pinned_sdk_version()
    if _installed_sdk_version() != pinned:
        install = subprocess.run(
            [npm_bin, "ci", "--no-audit", "--no-fund", "--omit=optional"],
            cwd=SDK_DIR,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if install.returncode != 0 or _installed_sdk_version() != pinned:
            # Typically no route to the npm registry; nothing pycodex could fix.
            reason = (
                f"could not install @openai/codex-sdk {pinned} with npm ci "
                f"(rc {install.returncode}): {install.stderr.strip()[-500:]}"
            )
            print(reason)
            pytest.skip(reason)
    return node_bin


@dataclass
class SdkRun:
    result: dict[str, Any]
    argv: list[str]  # what the SDK passed to the binary (argv[1:])


@dataclass
class Harness:
    node: str
    mock: MockModelServer
    root: Path
    workspace: Path
    env: dict[str, str]
    wrapper: Path
    argv_log: Path

    def drive(self, scenario: str, **options: Any) -> SdkRun:
        options.setdefault("apiKey", API_KEY)
        self.argv_log.unlink(missing_ok=True)
        proc = subprocess.run(
            [self.node, str(DRIVER), str(self.wrapper), str(self.workspace), scenario,
             json.dumps(options)],
            cwd=self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout)
        assert "error" not in result, result["error"]
        argv = self.argv_log.read_bytes().decode().split("\0")[:-1]
        return SdkRun(result=result, argv=argv)


@pytest.fixture
def sdk(node: str, tmp_path: Path) -> Iterator[Harness]:
    home = tmp_path / "pycodex-home"
    home.mkdir()
    codex_home = tmp_path / "codex-home"  # empty: pycodex must not fall back to ~/.codex
    codex_home.mkdir()
    user_home = tmp_path / "home"
    user_home.mkdir()
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    argv_log = tmp_path / "argv.bin"
    wrapper = tmp_path / "pycodex-wrapper"
    wrapper.write_text(
        f"#!/bin/sh\nprintf '%s\\0' \"$@\" > '{argv_log}'\nexec '{PYCODEX}' \"$@\"\n",
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    with MockModelServer() as mock:
        (home / "config.toml").write_text(
            f"""model = "gpt-5.5"
model_provider = "mock"

[model_providers.mock]
name = "mock"
base_url = "{mock.url}"
wire_api = "responses"
env_key = "CODEX_API_KEY"
request_max_retries = 0
stream_max_retries = 0
""",
            encoding="utf-8",
        )
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(user_home),
            "PYCODEX_HOME": str(home),
            "CODEX_HOME": str(codex_home),
            "TMPDIR": str(tmp_path),
        }
        yield Harness(node, mock, tmp_path, workspace, env, wrapper, argv_log)


def _input_texts(request: RecordedRequest) -> str:
    """All text of the request's input items, concatenated."""
    parts: list[str] = []
    for item in request.body["input"]:
        content = item.get("content")
        if isinstance(content, list):
            parts.extend(str(c.get("text", "")) for c in content if isinstance(c, dict))
    return "\n".join(parts)


def _assert_common_request(request: RecordedRequest) -> None:
    assert request.method == "POST"
    assert request.path == "/v1/responses"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.body["model"] == "gpt-5.5"
    assert request.body["stream"] is True


def _assert_exec_argv(argv: list[str]) -> None:
    assert argv[:2] == ["exec", "--experimental-json"]


def _command_call(request: RecordedRequest) -> Reply:
    """Answer with whichever shell tool pycodex offers (`shell` argv or `exec_command`)."""
    names = {t.get("name") for t in request.body.get("tools", [])}
    if "exec_command" in names:
        call = function_call("exec_command", {"cmd": "echo hello-from-sdk"}, "call_sdk_1")
    else:
        call = function_call(
            "shell", {"command": ["bash", "-lc", "echo hello-from-sdk"]}, "call_sdk_1"
        )
    return response(call)


def _tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\x20\x80\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_run_returns_final_response_items_and_usage(sdk: Harness) -> None:
    sdk.mock.enqueue(response(message("Hello from pycodex.")))

    run = sdk.drive("run", prompt="Say hello please.")

    result = run.result
    assert UUID_RE.match(result["threadId"])
    assert result["finalResponse"] == "Hello from pycodex."
    assert result["items"] == [
        {"id": "item_0", "type": "agent_message", "text": "Hello from pycodex."}
    ]
    assert result["usage"] == ONE_REQUEST_USAGE
    _assert_exec_argv(run.argv)
    assert run.argv[2:] == ["--cd", str(sdk.workspace)]

    [request] = sdk.mock.model_requests()
    _assert_common_request(request)
    assert "Say hello please." in _input_texts(request)
    assert "text" not in request.body or "format" not in request.body["text"]


def test_run_streamed_yields_command_events(sdk: Harness) -> None:
    sdk.mock.enqueue(_command_call, response(message("Ran it.")))

    run = sdk.drive("runStreamed", prompt="Run echo.")

    events = run.result["events"]
    assert [e["type"] for e in events] == [
        "thread.started",
        "turn.started",
        "item.started",
        "item.completed",
        "item.completed",
        "turn.completed",
    ]
    assert events[0]["thread_id"] == run.result["threadId"]
    started, completed = events[2]["item"], events[3]["item"]
    assert started["type"] == completed["type"] == "command_execution"
    assert started["id"] == completed["id"]
    assert started["status"] == "in_progress"
    assert started["exit_code"] is None
    assert "echo hello-from-sdk" in started["command"]
    assert completed["status"] == "completed"
    assert completed["exit_code"] == 0
    assert completed["aggregated_output"].strip() == "hello-from-sdk"
    assert events[4]["item"]["type"] == "agent_message"
    assert events[4]["item"]["text"] == "Ran it."
    # Cumulative over the turn's two requests.
    assert events[5]["usage"] == {k: 2 * v for k, v in ONE_REQUEST_USAGE.items()}
    _assert_exec_argv(run.argv)
    assert run.argv[2:] == ["--sandbox", "danger-full-access", "--cd", str(sdk.workspace)]

    first, second = sdk.mock.model_requests()
    _assert_common_request(first)
    _assert_common_request(second)
    outputs = [i for i in second.body["input"] if i.get("type") == "function_call_output"]
    assert [o["call_id"] for o in outputs] == ["call_sdk_1"]
    assert "hello-from-sdk" in json.dumps(outputs[0]["output"])


def test_output_schema_reaches_the_request(sdk: Harness) -> None:
    sdk.mock.enqueue(response(message('{"answer": "42", "ok": true}')))

    run = sdk.drive("outputSchema")

    assert run.result["parsed"] == {"answer": "42", "ok": True}
    _assert_exec_argv(run.argv)
    schema_flag = run.argv.index("--output-schema")
    assert run.argv[schema_flag + 1].endswith("schema.json")
    # The SDK deletes its temporary schema file after the turn.
    assert not Path(run.argv[schema_flag + 1]).exists()

    [request] = sdk.mock.model_requests()
    _assert_common_request(request)
    assert request.body["text"]["format"] == {
        "type": "json_schema",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"answer": {"type": "string"}, "ok": {"type": "boolean"}},
            "required": ["answer", "ok"],
            "additionalProperties": False,
        },
        "name": "codex_output_schema",
    }


def test_every_thread_option_flag_is_accepted(sdk: Harness) -> None:
    extra_dir = sdk.root / "extra"
    extra_dir.mkdir()
    image = sdk.root / "pixel.png"
    image.write_bytes(_tiny_png())
    sdk.mock.enqueue(response(message("A blue pixel.")))

    run = sdk.drive(
        "flags",
        prompt="What is in the image?",
        extraDir=str(extra_dir),
        image=str(image),
        baseUrl=sdk.mock.url,  # -> --config openai_base_url=...; the mock provider wins
    )

    assert run.result["finalResponse"] == "A blue pixel."
    assert run.result["usage"] == ONE_REQUEST_USAGE
    assert run.argv == [
        "exec", "--experimental-json",
        "--config", f'openai_base_url="{sdk.mock.url}"',
        "--model", "gpt-5.5",
        "--thread-source", "user",
        "--sandbox", "workspace-write",
        "--cd", str(sdk.workspace),
        "--add-dir", str(extra_dir),
        "--skip-git-repo-check",
        "--cyber-access-program", "standard",
        "--config", 'model_reasoning_effort="high"',
        "--config", "sandbox_workspace_write.network_access=true",
        "--config", 'web_search="disabled"',
        "--config", 'approval_policy="never"',
        "--image", str(image),
    ]  # fmt: skip

    [request] = sdk.mock.model_requests()
    _assert_common_request(request)
    assert request.body["reasoning"]["effort"] == "high"
    assert "What is in the image?" in _input_texts(request)
    images = [
        part["image_url"]
        for item in request.body["input"]
        if isinstance(item.get("content"), list)
        for part in item["content"]
        if part.get("type") == "input_image"
    ]
    assert len(images) == 1
    prefix = "data:image/png;base64,"
    assert images[0].startswith(prefix)
    assert base64.b64decode(images[0][len(prefix):]) == image.read_bytes()
    # --cd and --add-dir reach the model's environment context.
    body = json.dumps(request.body)
    assert json.dumps(str(sdk.workspace))[1:-1] in body
    assert json.dumps(str(extra_dir))[1:-1] in body


def test_sdk_argv_is_accepted_without_node(tmp_path: Path) -> None:
    """The argv the SDK builds (see the test above), replayed without node, so the flag
    contract is checked even where node/npm are missing."""
    workspace, extra_dir, home = tmp_path / "ws", tmp_path / "extra", tmp_path / "home"
    for directory in (workspace, extra_dir, home):
        directory.mkdir()
    image = tmp_path / "pixel.png"
    image.write_bytes(_tiny_png())
    schema = tmp_path / "schema.json"
    schema.write_text('{"type": "object"}', encoding="utf-8")
    with MockModelServer() as mock:
        (home / "config.toml").write_text(
            f'model = "gpt-5.5"\nmodel_provider = "mock"\n[model_providers.mock]\n'
            f'name = "mock"\nbase_url = "{mock.url}"\nenv_key = "CODEX_API_KEY"\n'
            "request_max_retries = 0\nstream_max_retries = 0\n",
            encoding="utf-8",
        )
        mock.enqueue(response(message("Accepted.")))
        argv = [
            str(PYCODEX), "exec", "--experimental-json",
            "--config", 'openai_base_url="http://127.0.0.1:9/v1"',
            "--model", "gpt-5.5",
            "--thread-source", "user",
            "--sandbox", "workspace-write",
            "--cd", str(workspace),
            "--add-dir", str(extra_dir),
            "--skip-git-repo-check",
            "--output-schema", str(schema),
            "--cyber-access-program", "daybreak_blue",
            "--config", 'model_reasoning_effort="low"',
            "--config", "sandbox_workspace_write.network_access=false",
            "--config", 'web_search="live"',
            "--config", 'approval_policy="on-request"',
            "--image", str(image),
        ]  # fmt: skip
        proc = subprocess.run(
            argv,
            input="prompt from stdin",
            capture_output=True,
            text=True,
            timeout=60,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(tmp_path),
                "PYCODEX_HOME": str(home),
                "CODEX_HOME": str(tmp_path / "no-codex-home"),
                "CODEX_API_KEY": API_KEY,
                "CODEX_INTERNAL_ORIGINATOR_OVERRIDE": "codex_sdk_ts",
            },
        )
        assert proc.returncode == 0, proc.stderr
        events = [json.loads(line) for line in proc.stdout.splitlines()]
        assert events[-1]["type"] == "turn.completed"
        [request] = mock.model_requests()
    _assert_common_request(request)
    assert request.body["reasoning"]["effort"] == "low"
    assert request.body["text"]["format"]["schema"] == {"type": "object"}
    assert "prompt from stdin" in _input_texts(request)
