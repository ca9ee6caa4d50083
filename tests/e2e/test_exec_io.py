"""`pycodex exec` inputs and outputs: prompt from stdin, `-o`, `--output-schema`, human mode.

Messages follow Codex (`reference/exec/exit_codes.txt`, `spec/codex_reference.md` §2.2-2.3).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from tests.support.exec_cli import ExecHarness, last_user_text, shell_call
from tests.support.mock_model import MockModelServer, http_error, message, response

pytestmark = pytest.mark.e2e


# --- prompt sources ---------------------------------------------------------------------------

@pytest.mark.parametrize("prompt_args", [("-",), ()], ids=["dash", "absent"])
def test_prompt_from_stdin(harness: ExecHarness, prompt_args: tuple[str, ...]) -> None:
    harness.mock.enqueue(response(message("Just text, no tools.")))

    r = harness.run("--json", *prompt_args, stdin="[[text]] from stdin\n")

    assert r.rc == 0, r.stderr
    assert "Reading prompt from stdin..." in r.stderr
    assert [i["text"] for i in r.items("agent_message")] == ["Just text, no tools."]
    [req] = harness.mock.model_requests()
    assert last_user_text(req) == "[[text]] from stdin\n"


def test_prompt_argument_plus_piped_stdin(harness: ExecHarness) -> None:
    harness.mock.enqueue(response(message("Just text, no tools.")))

    r = harness.run("--json", "summarise this", stdin="line one\nline two\n")

    assert r.rc == 0, r.stderr
    assert "Reading additional input from stdin..." in r.stderr
    [req] = harness.mock.model_requests()
    assert last_user_text(req) == "summarise this\n\n<stdin>\nline one\nline two\n</stdin>"


def test_prompt_argument_with_empty_stdin_is_fine(harness: ExecHarness) -> None:
    harness.mock.enqueue(response(message("ok")))

    r = harness.run("--json", "just the argument", stdin="")

    assert r.rc == 0, r.stderr
    assert last_user_text(harness.mock.model_requests()[0]) == "just the argument"


@pytest.mark.parametrize(
    ("prompt_args", "stdin"),
    [(("-",), ""), (("-",), " \n\n"), ((), None)],
    ids=["dash-empty", "dash-blank", "absent-devnull"],
)
def test_empty_stdin_prompt_fails(
    harness: ExecHarness, prompt_args: tuple[str, ...], stdin: str | None
) -> None:
    r = harness.run("--json", *prompt_args, stdin=stdin)

    assert r.rc == 1
    assert r.stdout == ""
    assert r.stderr.splitlines() == ["Reading prompt from stdin...", "Error: No prompt provided via stdin."]
    assert harness.mock.requests == []


# --- -o / --output-last-message ---------------------------------------------------------------

def test_output_last_message_is_the_last_agent_message(harness: ExecHarness) -> None:
    harness.mock.enqueue(response(message("First message."), message("Second message.")))
    out = harness.root / "last.txt"

    r = harness.run("--json", "-o", str(out), "[[twomsg]]")

    assert r.rc == 0, r.stderr
    assert [i["text"] for i in r.items("agent_message")] == ["First message.", "Second message."]
    assert out.read_bytes() == b"Second message."  # no trailing newline
    # Written atomically: no temporary file left next to it.
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".last.txt")) == []


def test_output_last_message_relative_path_in_human_mode(harness: ExecHarness) -> None:
    harness.mock.enqueue(response(shell_call("echo hello-from-tool")), response(message("All done.")))

    r = harness.run("-s", "danger-full-access", "-o", "answer.txt", "[[shell]]")

    assert r.rc == 0, r.stderr
    assert r.stdout == "All done.\n"
    assert (harness.workspace / "answer.txt").read_text(encoding="utf-8") == "All done."


def test_output_last_message_not_created_on_failed_turn(harness: ExecHarness) -> None:
    harness.mock.enqueue(http_error(400))
    out = harness.root / "last.txt"

    r = harness.run("--json", "-o", str(out), "[[error400]]")

    assert r.rc == 1
    assert r.last["type"] == "turn.failed"
    assert not out.exists()


# --- --output-schema --------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "ok": {"type": "boolean"}},
    "required": ["answer", "ok"],
    "additionalProperties": False,
}


def test_output_schema_request_shape(harness: ExecHarness) -> None:
    schema_file = harness.root / "schema.json"
    schema_file.write_text(json.dumps(SCHEMA), encoding="utf-8")
    harness.mock.enqueue(response(message('{"answer": "42", "ok": true}')))
    out = harness.root / "last.txt"

    r = harness.run("--json", "--output-schema", str(schema_file), "-o", str(out), "[[schema]]")

    assert r.rc == 0, r.stderr
    [req] = harness.mock.model_requests()
    assert req.body["text"]["format"] == {
        "type": "json_schema",
        "strict": True,
        "schema": SCHEMA,
        "name": "codex_output_schema",
    }
    assert req.body["text"]["verbosity"] == "low"  # gpt-5.5's catalog default, next to format
    assert out.read_text(encoding="utf-8") == '{"answer": "42", "ok": true}'


def test_no_output_schema_means_no_text_format(harness: ExecHarness) -> None:
    harness.mock.enqueue(response(message("ok")))

    r = harness.run("--json", "hi")

    assert r.rc == 0, r.stderr
    # As reference/requests/exec_shell.request1.shape.json: only gpt-5.5's default verbosity.
    assert harness.mock.model_requests()[0].body["text"] == {"verbosity": "low"}


def test_configured_verbosity_wins_and_unknown_models_get_none(harness: ExecHarness) -> None:
    harness.mock.enqueue(response(message("ok")), response(message("ok")))

    first = harness.run("--json", "-c", "model_verbosity=high", "hi")
    second = harness.run("--json", "-m", "my-local-model", "hi")

    assert first.rc == 0 and second.rc == 0, first.stderr + second.stderr
    a, b = harness.mock.model_requests()
    assert a.body["text"] == {"verbosity": "high"}
    assert "text" not in b.body


def test_output_schema_missing_file(harness: ExecHarness) -> None:
    missing = harness.root / "nonexistent.json"

    r = harness.run("--json", "--output-schema", str(missing), "hi")

    assert r.rc == 1
    assert r.stdout == ""
    assert (
        f"Failed to read output schema file {missing}: No such file or directory"
        in r.stderr.splitlines()[-1]
    )
    assert harness.mock.requests == []


def test_output_schema_invalid_json(harness: ExecHarness) -> None:
    bad = harness.root / "bad.json"
    bad.write_text("{oops}", encoding="utf-8")

    r = harness.run("--json", "--output-schema", str(bad), "hi")

    assert r.rc == 1
    assert r.stdout == ""
    last = r.stderr.splitlines()[-1]
    assert f"Output schema file {bad} is not valid JSON:" in last
    assert "line 1 column 2" in last
    assert harness.mock.requests == []


# --- human mode -------------------------------------------------------------------------------

def test_human_mode_shell_transcript(harness: ExecHarness, mock_model: MockModelServer) -> None:
    mock_model.enqueue(response(shell_call("echo hello-from-tool")), response(message("All done.")))

    r = harness.run("-s", "danger-full-access", "[[shell]] x")

    assert r.rc == 0, r.stderr
    # stdout: the final message alone, so `pycodex exec ... > answer.md` works.
    assert r.stdout == "All done.\n"
    err = r.stderr.splitlines()
    assert "\x1b[" not in r.stderr  # not a TTY: no colour
    ws = str(harness.workspace)
    # Banner, as in reference/exec/human.shell.stderr.
    assert err.count("--------") == 2
    banner = err[err.index("--------") + 1 : len(err) - err[::-1].index("--------") - 1]
    keys = [line.split(":", 1)[0] for line in banner]
    assert keys == [
        "workdir", "model", "provider", "approval", "sandbox",
        "reasoning effort", "reasoning summaries", "session id",
    ]
    assert f"workdir: {ws}" in banner
    assert "model: gpt-5.5" in banner and "provider: mock" in banner
    assert "approval: never" in banner and "sandbox: danger-full-access" in banner
    assert re.fullmatch(r"session id: [0-9a-f-]{36}", banner[-1])
    # Blocks in order: user + prompt, exec + command + result, codex + message, tokens.
    after = err[len(err) - err[::-1].index("--------") :]
    i_user = after.index("user")
    assert after[i_user + 1] == "[[shell]] x"
    i_exec = after.index("exec")
    assert after[i_exec + 1] == f"bash -c 'echo hello-from-tool' in {ws}"
    assert re.fullmatch(r" succeeded in \d+ms:", after[i_exec + 2])
    assert after[i_exec + 3] == "hello-from-tool"
    assert after[i_exec + 4] == ""  # Codex: output verbatim, then a line break
    i_codex = after.index("codex")
    assert after[i_codex + 1] == "All done."
    i_tokens = after.index("tokens used")
    assert after[i_tokens + 1] == "180"  # (200 - 40 cached) + 20 output, as Codex prints
    assert i_user < i_exec < i_codex < i_tokens


def test_human_mode_failed_turn(harness: ExecHarness) -> None:
    harness.mock.enqueue(http_error(400))

    r = harness.run("[[error400]]")

    assert r.rc == 1
    assert r.stdout == ""
    errors = [line for line in r.stderr.splitlines() if line.startswith("ERROR: ")]
    assert errors and "mock HTTP 400" in errors[-1]


def test_project_doc_fallback_filenames_from_config(harness: ExecHarness) -> None:
    (harness.workspace / "CLAUDE.md").write_text("Use tabs, never spaces.", encoding="utf-8")
    harness.mock.enqueue(response(message("ok")), response(message("ok")))

    without = harness.run("--json", "hi")
    with_fallback = harness.run("--json", "-c", 'project_doc_fallback_filenames=["CLAUDE.md"]', "hi")

    assert without.rc == 0 and with_fallback.rc == 0, without.stderr + with_fallback.stderr
    first, second = (json.dumps(r.body["input"]) for r in harness.mock.model_requests())
    assert "Use tabs, never spaces." not in first
    assert "Use tabs, never spaces." in second


def test_attached_image_is_framed_as_codex_frames_it(harness: ExecHarness) -> None:
    image = harness.workspace / "shot.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n-not-really-decoded-")
    harness.mock.enqueue(response(message("a shot")))

    r = harness.run("--json", "what is this?", "-i", "shot.png")

    assert r.rc == 0, r.stderr
    [request] = harness.mock.model_requests()
    last_user = [i for i in request.body["input"] if i.get("role") == "user"][-1]
    data = base64.b64encode(image.read_bytes()).decode()
    assert last_user["content"] == [
        {"type": "input_text", "text": f'<image name=[Image #1] path="{image}">'},
        {"type": "input_image", "image_url": f"data:image/png;base64,{data}", "detail": "high"},
        {"type": "input_text", "text": "</image>"},
        {"type": "input_text", "text": "what is this?"},
    ]


def test_an_early_exit_waits_for_the_tls_prewarm(harness: ExecHarness, tmp_path: Path) -> None:
    """The CA bundle is loaded on a background thread from the start; a run that ends at
    once (no prompt) must not exit under it. With a large bundle the thread is certainly
    still inside OpenSSL at exit: without the wait, some of these runs die by SIGSEGV."""
    system_bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    if not system_bundle.is_file():
        pytest.skip(f"no system CA bundle at {system_bundle} to build a slow one from")
    big = tmp_path / "big-bundle.pem"
    big.write_bytes(system_bundle.read_bytes() * 10)
    env = {**harness.env, "SSL_CERT_FILE": str(big)}
    codes = [harness.run("-", stdin=" \n", env=env).rc for _ in range(4)]
    assert codes == [1, 1, 1, 1]
