"""`pycodex app-server generate-json-schema` / `generate-ts`: the protocol as pycodex runs it,
from its own types — checked against real requests, against Codex's published schemas (the
differences are exactly the listed ones, each a deliberate choice the README explains) and,
for TypeScript, by the TypeScript compiler."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pycodex.frontends.app_server.methods import EXPERIMENTAL_METHODS
from pycodex.frontends.app_server.schema_export import implemented_params

PYCODEX = Path(sys.executable).parent / "pycodex"
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "app-server-schema" / "stable"
TSC = Path(os.environ.get("TSC_BIN", Path.home() / ".cache/pycodex-ci/typescript/node_modules/.bin/tsc"))

# Params types whose fields differ from Codex's, and how. "unread": fields Codex defines that
# pycodex does not act on (accepted and ignored, never refused); "optional": fields Codex
# requires that pycodex can do without; "shape": a different layout.
PARAMS_DIFFERENCES: dict[str, dict[str, list[str]]] = {
    "LoginAccountParams": {"shape": ["one object with `type` and every variant's fields, checked per type"]},
    "ThreadForkParams": {"unread": ["approvalsReviewer", "excludeTurns", "lastTurnId", "serviceTier", "threadSource"]},
    "ThreadResumeParams": {"unread": ["approvalsReviewer", "excludeTurns", "personality", "serviceTier"]},
    "ThreadStartParams": {"unread": ["serviceName", "sessionStartSource", "threadSource"]},
    "TurnInterruptParams": {"optional": ["turnId"]},
    "TurnStartParams": {"unread": ["approvalsReviewer", "clientUserMessageId", "disabledPluginIds", "parentTurnId",
                                   "personality", "rootTurnId", "serviceTier", "serviceTierForTurn", "toolOutput",
                                   "turnTrigger"]},
    "TurnSteerParams": {"unread": ["clientUserMessageId"], "optional": ["expectedTurnId"]},
}
# Thread items pycodex never sends, and fields of the ones it sends that it never fills.
ITEMS_NEVER_SENT = {"hookPrompt", "functionCallOutput", "plan", "dynamicToolCall", "collabAgentToolCall",
                    "subAgentActivity", "sleep", "imageGeneration"}
ITEM_FIELDS_NEVER_SENT = {"mcpToolCall": ["mcpAppResourceUri"]}


def generate(tmp_path: Path, command: str, *extra: str) -> Path:
    out = tmp_path / command
    done = subprocess.run([str(PYCODEX), "app-server", command, "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return out


def methods_of(client_request: dict[str, Any]) -> set[str]:
    return {variant["properties"]["method"]["enum"][0] for variant in client_request["oneOf"]}


def test_json_schema_files_and_the_methods_they_cover(tmp_path: Path) -> None:
    out = generate(tmp_path, "generate-json-schema")
    for name in ("ClientRequest.json", "ThreadItem.json", "pycodex_app_server_protocol.schemas.json",
                 "v2/ThreadStartParams.json", "v2/CommandExecutionItem.json"):
        assert (out / name).is_file(), name
    stable = methods_of(json.loads((out / "ClientRequest.json").read_text()))
    assert {"initialize", "thread/start", "turn/start", "turn/interrupt", "account/read", "thread/revert"} <= stable
    assert not stable & EXPERIMENTAL_METHODS
    everything = methods_of(json.loads((generate(tmp_path, "generate-json-schema", "--experimental")
                                        / "ClientRequest.json").read_text()))
    assert stable <= everything and everything - stable <= EXPERIMENTAL_METHODS
    assert "thread/goal/set" not in everything  # a Codex method pycodex does not implement


def test_the_schemas_accept_real_requests_and_refuse_bad_ones(tmp_path: Path) -> None:
    bundle = json.loads((generate(tmp_path, "generate-json-schema")
                         / "pycodex_app_server_protocol.schemas.json").read_text())
    schema = {**bundle["definitions"]["ClientRequest"], "definitions": bundle["definitions"]}
    validator = jsonschema.Draft7Validator(schema)
    good = {"id": 1, "method": "thread/start", "params": {"cwd": "/w", "approvalPolicy": "never", "sandbox": "read-only"}}
    validator.validate(good)
    validator.validate({"id": "a", "method": "turn/start",
                        "params": {"threadId": "t", "input": [{"type": "text", "text": "hi"}]}})
    assert not validator.is_valid({"id": 1, "method": "thread/start", "params": {"cwd": 5}})
    assert not validator.is_valid({"id": 1, "method": "turn/start", "params": {"input": []}})  # no threadId
    assert not validator.is_valid({"id": 1, "method": "thread/goal/set", "params": {}})


def _reference(name: str) -> dict[str, Any] | None:
    for path in (REFERENCE / "v2" / f"{name}.json", REFERENCE / f"{name}.json"):
        if path.is_file():
            return dict(json.loads(path.read_text()))
    return None


def test_params_match_codexs_schemas_but_for_the_listed_differences(tmp_path: Path) -> None:
    if not REFERENCE.is_dir():
        pytest.skip(f"Codex's schemas are not at {REFERENCE}")
    out = generate(tmp_path, "generate-json-schema", "--experimental")
    differences: dict[str, dict[str, list[str]]] = {}
    compared = 0
    client_params = {t.__name__ for t in implemented_params(True).values()}
    for path in sorted((out / "v2").glob("*Params.json")):
        name = path.stem
        if name not in client_params:
            continue  # server -> client request params: see the outbound test
        reference = _reference(name)
        if reference is None:
            continue  # pycodex's own shared types (ThreadIdParams, EmptyParams)
        compared += 1
        ours = json.loads(path.read_text())
        ref_props, our_props = set(reference.get("properties", {})), set(ours.get("properties", {}))
        found: dict[str, list[str]] = {}
        if not ref_props and "oneOf" in reference:
            found["shape"] = PARAMS_DIFFERENCES.get(name, {}).get("shape", ["?"])
        else:
            if ref_props - our_props:
                found["unread"] = sorted(ref_props - our_props)
            assert not our_props - ref_props, f"{name}: fields Codex does not have: {our_props - ref_props}"
            optional = set(reference.get("required", [])) - set(ours.get("required", []))
            if optional:
                found["optional"] = sorted(optional)
        if found:
            differences[name] = found
    assert compared >= 25
    assert differences == PARAMS_DIFFERENCES


def test_thread_items_match_codexs_but_for_the_listed_differences(tmp_path: Path) -> None:
    bundle_path = REFERENCE / "codex_app_server_protocol.v2.schemas.json"
    if not bundle_path.is_file():
        pytest.skip(f"Codex's schemas are not at {bundle_path}")
    reference = {variant["properties"]["type"]["enum"][0]: variant
                 for variant in json.loads(bundle_path.read_text())["definitions"]["ThreadItem"]["oneOf"]}
    ours_doc = json.loads((generate(tmp_path, "generate-json-schema") / "ThreadItem.json").read_text())
    ours = {d["properties"]["type"]["enum"][0]: d for d in ours_doc["definitions"].values()
            if "type" in d.get("properties", {})}
    assert set(reference) - set(ours) == ITEMS_NEVER_SENT
    assert not set(ours) - set(reference)
    for kind, schema in ours.items():
        ref = reference[kind]
        assert sorted(set(ref["properties"]) - set(schema["properties"])) == ITEM_FIELDS_NEVER_SENT.get(kind, []), kind
        assert not set(schema["properties"]) - set(ref["properties"]), kind
        # pycodex writes every field of an item (null when unset): all are required.
        assert set(ref.get("required", [])) - {"arguments"} <= set(schema["required"]), kind


# Outbound messages that differ from Codex's, and how ("never": fields pycodex never sends;
# "beyond": fields Codex 0.163 also sends beyond its stable schema; "shape": one object with
# each variant's optional fields where Codex has a union).
OUTBOUND_DIFFERENCES: dict[str, dict[str, set[str]]] = {
    "AccountLoginCompletedNotification": {"never": {"onboardingEntrypoint"}},
    "CommandExecutionRequestApprovalParams": {"never": {"networkApprovalContext", "proposedNetworkPolicyAmendments"},
                                              "beyond": {"availableDecisions"}},
    "McpServerElicitationRequestParams": {"shape": {"elicitationId", "message", "mode", "requestedSchema", "url"}},
}


def test_notifications_and_server_requests_match_codexs_schemas(tmp_path: Path) -> None:
    """Every notification and server request is typed; their fields are Codex's but for the
    listed differences, and every field Codex requires is always sent."""
    bundle_path = REFERENCE / "codex_app_server_protocol.v2.schemas.json"
    if not bundle_path.is_file():
        pytest.skip(f"Codex's schemas are not at {bundle_path}")
    from pycodex.frontends.app_server.outbound_types import NOTIFICATIONS, SERVER_REQUESTS

    reference = json.loads(bundle_path.read_text())["definitions"]
    out = generate(tmp_path, "generate-json-schema")
    assert methods_of(json.loads((out / "ServerNotification.json").read_text())) == set(NOTIFICATIONS)
    assert methods_of(json.loads((out / "ServerRequest.json").read_text())) == set(SERVER_REQUESTS)
    ours = json.loads((out / "pycodex_app_server_protocol.schemas.json").read_text())["definitions"]
    differences: dict[str, dict[str, set[str]]] = {}
    for params in {**NOTIFICATIONS, **SERVER_REQUESTS}.values():
        name = params.__name__
        ref = reference.get(name) or _reference(name)
        assert ref is not None, name
        mine = set(ours[name]["properties"])
        found = {"never": set(ref.get("properties", {})) - mine,
                 "beyond" if "oneOf" not in ref else "shape": mine - set(ref.get("properties", {}))}
        found = {k: v for k, v in found.items() if v}
        if found:
            differences[name] = found
        assert set(ref.get("required", [])) <= set(ours[name].get("required", [])), name
    assert differences == OUTBOUND_DIFFERENCES


# Fields Codex 0.163 sends beyond its stable schema (its transcripts show them), and so does pycodex.
SENT_BEYOND_THE_SCHEMA = {
    "Thread": {"environments", "extra", "canAcceptDirectInput", "daybreakEnabled"},
    "ThreadStartResponse": {"runtimeWorkspaceRoots", "activePermissionProfile", "multiAgentMode"},
    "ThreadStartedNotification": set(),
}


def test_typed_results_and_the_thread_object_match_codexs(tmp_path: Path) -> None:
    bundle_path = REFERENCE / "codex_app_server_protocol.v2.schemas.json"
    if not bundle_path.is_file():
        pytest.skip(f"Codex's schemas are not at {bundle_path}")
    reference = json.loads(bundle_path.read_text())["definitions"]
    out = generate(tmp_path, "generate-json-schema")
    ours = json.loads((out / "pycodex_app_server_protocol.schemas.json").read_text())["definitions"]
    assert "thread/started" in methods_of(json.loads((out / "ServerNotification.json").read_text()))
    for name, beyond in SENT_BEYOND_THE_SCHEMA.items():
        mine, ref = set(ours[name]["properties"]), set(reference[name]["properties"])
        assert mine - ref == beyond, name
        assert ref <= mine, name
        assert set(reference[name].get("required", [])) <= set(ours[name]["required"]), name


# Results that differ from Codex's response types, and how ("never": fields pycodex never
# sends; "beyond": fields Codex 0.163 sends beyond its stable schema, and pycodex too).
RESULT_DIFFERENCES: dict[str, dict[str, set[str]]] = {
    "account/rateLimits/read": {"never": {"accountId", "ordinaryUsageAllowed", "rateLimitResetCredits",
                                          "rateLimitUpsell"}},
    "thread/list": {"beyond": {"readStates"}},
    "thread/read": {"beyond": {"readState"}},
    "thread/start": {"beyond": SENT_BEYOND_THE_SCHEMA["ThreadStartResponse"]},
    "thread/fork": {"beyond": SENT_BEYOND_THE_SCHEMA["ThreadStartResponse"]},
    "thread/resume": {"beyond": SENT_BEYOND_THE_SCHEMA["ThreadStartResponse"],
                      "never": {"collaborationMode", "itemsBackwardsCursor", "turnsBackwardsCursor"}},
}


def test_every_result_is_typed_and_matches_codexs_but_for_the_listed_differences(tmp_path: Path) -> None:
    """The dispatcher converts every answer into its method's type; those types are Codex's
    response types but for the listed differences (empty answers share one `EmptyResponse`)."""
    import typing

    from pycodex.frontends.app_server.app import build_dispatcher
    from pycodex.frontends.app_server.result_types import METHOD_RESULTS
    from tests.support.app_server_traffic import _definitions, _response_types

    implemented = set(build_dispatcher({}, log=lambda _line: None).params_types())
    assert implemented == set(METHOD_RESULTS)
    ours = json.loads((generate(tmp_path, "generate-json-schema", "--experimental")
                       / "pycodex_app_server_protocol.schemas.json").read_text())["definitions"]
    reference, names = _definitions(), _response_types()
    differences: dict[str, dict[str, set[str]]] = {}
    for method, result in sorted(METHOD_RESULTS.items()):
        ref = reference.get(names.get(method, ""))
        variants = typing.get_args(result) or (result,)
        if ref is None or len(variants) > 1 or "properties" not in ref:
            continue  # experimental, a union, or an empty object (EmptyResponse)
        mine = ours[variants[0].__name__]
        found = {"never": set(ref["properties"]) - set(mine["properties"]),
                 "beyond": set(mine["properties"]) - set(ref["properties"])}
        found = {k: v for k, v in found.items() if v}
        if found:
            differences[method] = found
        assert set(ref.get("required", [])) <= set(mine["required"]), method
    assert differences == RESULT_DIFFERENCES
    for variant in typing.get_args(METHOD_RESULTS["account/login/start"]):
        tag = variant.__struct_config__.tag
        ref_variant = next(v for v in reference["LoginAccountResponse"]["oneOf"]
                           if v["properties"]["type"]["enum"] == [tag])
        assert set(ours[variant.__name__]["properties"]) == set(ref_variant["properties"]), tag


def test_typescript_types_compile(tmp_path: Path) -> None:
    out = generate(tmp_path, "generate-ts")
    start = (out / "ThreadStartParams.ts").read_text()
    assert "export type ThreadStartParams = {" in start and "cwd?: string | null" in start
    assert 'method: "thread/start"; params: ThreadStartParams' in (out / "ClientRequest.ts").read_text()
    if not os.access(TSC, os.X_OK) or shutil.which("node") is None:
        pytest.skip(f"TypeScript compiler not installed at {TSC} (.ci/run installs it with npm)")
    files = sorted(str(p) for p in out.glob("*.ts"))
    done = subprocess.run([str(TSC), "--noEmit", "--strict", "--isolatedModules", "--target", "es2020", *files],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
