"""Drive the *installed* `pycodex exec` as a real subprocess against the mock model.

`ExecHarness` owns one isolated world per test: a git workspace, a `PYCODEX_HOME` whose
`config.toml` selects the mock provider, and a scrubbed environment. `run()` runs the CLI to
completion and returns a :class:`Result`; with `--json` every stdout line is parsed and
validated against the JSON Schema pycodex ships (`exec_events.schema.json`), so a stream a
client could not parse fails the test that produced it. `spawn()` starts the CLI for tests
that must act while it runs (SIGINT). Every process started here runs in its own process
group, which `close()` kills: nothing outlives the test.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from tests.support.mock_model import MockModelServer, RecordedRequest, function_call

PYCODEX = Path(sys.executable).parent / "pycodex"
DEFAULT_TIMEOUT_S = 20.0
JSON_FLAGS = ("--json", "--experimental-json")

Json = dict[str, Any]


@cache
def event_validator() -> jsonschema.protocols.Validator:
    text = (resources.files("pycodex.frontends.exec") / "exec_events.schema.json").read_text()
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)  # type: ignore[no-any-return]


def parse_jsonl(stdout: str) -> list[Json]:
    """Every stdout line as an event; fails on a non-JSON line or a schema violation."""
    validator = event_validator()
    events: list[Json] = []
    for number, line in enumerate(stdout.splitlines(), 1):
        try:
            event = json.loads(line)
        except ValueError as exc:
            raise AssertionError(f"stdout line {number} is not JSON: {line!r}") from exc
        errors = sorted(validator.iter_errors(event), key=str)
        if errors:
            raise AssertionError(
                f"stdout line {number} violates exec_events.schema.json: {errors[0].message}\n{line}"
            )
        events.append(event)
    return events


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str
    events: list[Json] | None = None
    elapsed_s: float = 0.0

    def _events(self) -> list[Json]:
        assert self.events is not None, "not a --json run"
        return self.events

    def pairs(self) -> list[tuple[str, str | None]]:
        """(event type, item type) of every event: the shape of the stream."""
        return [(e["type"], e["item"]["type"] if "item" in e else None) for e in self._events()]

    def items(self, item_type: str | None = None, event: str = "item.completed") -> list[Json]:
        return [
            e["item"]
            for e in self._events()
            if e["type"] == event and (item_type is None or e["item"]["type"] == item_type)
        ]

    def of_type(self, event_type: str) -> list[Json]:
        return [e for e in self._events() if e["type"] == event_type]

    @property
    def last(self) -> Json:
        return self._events()[-1]


def pairs_of_jsonl(text: str) -> list[tuple[str, str | None]]:
    """The (event type, item type) sequence of a reference capture."""
    out: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        event = json.loads(line)
        out.append((event["type"], event["item"]["type"] if "item" in event else None))
    return out


# --- request helpers ------------------------------------------------------------------------

def shell_call(script: str, call_id: str = "call_1", **extra: Any) -> Json:
    """A `shell` function call running `bash -c <script>` (no login shell: no profile noise)."""
    return function_call("shell", {"command": ["bash", "-c", script], **extra}, call_id)


def input_items(request: RecordedRequest, item_type: str) -> list[Json]:
    return [i for i in request.body["input"] if i.get("type") == item_type]


def call_outputs(request: RecordedRequest) -> list[tuple[str, str]]:
    """(call_id, output) of every function_call_output in a Responses request, in order."""
    return [(i["call_id"], i["output"]) for i in input_items(request, "function_call_output")]


def last_user_text(request: RecordedRequest) -> str:
    users = [i for i in request.body["input"] if i.get("type") == "message" and i["role"] == "user"]
    return "".join(part["text"] for part in users[-1]["content"] if part["type"] == "input_text")


def read_rollout(path: Path) -> list[Json]:
    """Every line of a rollout file, each of which must be a JSON object."""
    lines = path.read_text(encoding="utf-8").splitlines()
    parsed: list[Json] = []
    for number, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise AssertionError(f"{path}:{number} is not JSON: {line[:200]!r}") from exc
        assert isinstance(obj, dict), f"{path}:{number} is not an object"
        parsed.append(obj)
    return parsed


def pids_matching(pattern: str) -> list[int]:
    """PIDs whose full command line contains `pattern` (pgrep -f), excluding pgrep itself."""
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=False)
    return [int(p) for p in found.stdout.split() if int(p) != os.getpid()]


def wait_until_gone(pattern: str, timeout_s: float = 3.0) -> list[int]:
    """Wait for processes matching `pattern` to disappear; returns those still alive."""
    deadline = time.monotonic() + timeout_s
    while (alive := pids_matching(pattern)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def kill_matching(pattern: str) -> None:
    for pid in pids_matching(pattern):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


# --- the harness ----------------------------------------------------------------------------

@dataclass
class ExecHarness:
    root: Path
    mock: MockModelServer
    workspace: Path = field(init=False)
    home: Path = field(init=False)
    env: dict[str, str] = field(init=False)
    _procs: list[subprocess.Popen[str]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.workspace = self.root / "workspace"
        self.home = self.root / "pycodex-home"
        user_home = self.root / "home"
        tmpdir = self.root / "tmp"
        for directory in (self.workspace, self.home, user_home, tmpdir, self.root / "codex-home"):
            directory.mkdir()
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "SHELL": "/bin/bash",
            "HOME": str(user_home),
            "TMPDIR": str(tmpdir),
            "PYCODEX_HOME": str(self.home),
            "CODEX_HOME": str(self.root / "codex-home"),
            "MOCK_KEY": "x",
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        self.write_config()
        self._init_git()

    def write_config(self, *, base_url: str | None = None, extra: str = "") -> Path:
        path = self.home / "config.toml"
        path.write_text(
            'model = "gpt-5.5"\n'
            'model_provider = "mock"\n'
            "\n"
            "[model_providers.mock]\n"
            'name = "mock"\n'
            f'base_url = "{base_url or self.mock.url}"\n'
            'wire_api = "responses"\n'
            'env_key = "MOCK_KEY"\n'
            "request_max_retries = 0\n"
            "stream_max_retries = 0\n"
            "stream_idle_timeout_ms = 5000\n" + extra,
            encoding="utf-8",
        )
        return path

    def _init_git(self) -> None:
        (self.workspace / "existing.txt").write_text("old line\n", encoding="utf-8")
        git = ["git", "-c", "user.name=pycodex-tests", "-c", "user.email=tests@pycodex.invalid"]
        for args in (["init", "-q"], ["add", "existing.txt"], ["commit", "-q", "-m", "initial"]):
            subprocess.run(
                [*git, *args], cwd=self.workspace, env=self.env, check=True, capture_output=True
            )

    # running

    def spawn(
        self,
        *args: str,
        stdin: str | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [str(PYCODEX), "exec", *args],
            cwd=cwd or self.workspace,
            env=env if env is not None else self.env,
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            start_new_session=True,
        )
        self._procs.append(proc)
        return proc

    def run(
        self,
        *args: str,
        stdin: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        """Run `pycodex exec ARGS` to completion (stdin: /dev/null unless text is given)."""
        started = time.monotonic()
        proc = self.spawn(*args, stdin=stdin, cwd=cwd, env=env)
        try:
            stdout, stderr = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill(proc)
            stdout, stderr = proc.communicate()
            raise AssertionError(
                f"pycodex exec {' '.join(args)} did not finish in {timeout}s\n"
                f"stdout:\n{stdout}\nstderr:\n{stderr}"
            ) from None
        return self.result(proc, stdout, stderr, args, time.monotonic() - started)

    @staticmethod
    def result(
        proc: subprocess.Popen[str], stdout: str, stderr: str, args: tuple[str, ...], elapsed: float
    ) -> Result:
        events = parse_jsonl(stdout) if any(a in JSON_FLAGS for a in args) else None
        assert proc.returncode is not None
        return Result(proc.returncode, stdout, stderr, events, elapsed)

    def rollouts(self) -> list[Path]:
        return sorted((self.home / "sessions").rglob("rollout-*.jsonl"))

    @staticmethod
    def _kill(proc: subprocess.Popen[str]) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def close(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                self._kill(proc)
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
