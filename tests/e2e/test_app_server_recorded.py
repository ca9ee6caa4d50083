"""Recorded threads over stdio against the installed `pycodex app-server`: thread/list,
read (includeTurns), turns/list, archive, unarchive, delete, name/set and model/list —
results and notifications checked against Codex's v2 schemas and transcripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_app_server_commands import check_notes, conforms, result_of
from tests.e2e.test_app_server_support import reference_examples
from tests.e2e.test_app_server_threads import Client, client, shell, start_thread, workspace
from tests.support.mock_model import MockModelServer, hang, http_error, message, response
from tests.support.shared import APP_SERVER_REFERENCE

pytestmark = pytest.mark.e2e
NOTICE = json.loads((APP_SERVER_REFERENCE / "examples.json").read_text())["server_notifications"][
    "deprecationNotice"]
Json = dict[str, Any]
__all__ = ["client", "workspace"]  # fixtures reused from the thread tests


def run_turn(c: Client, thread_id: str, text: str) -> Json:
    """One turn to its end; the `turn/completed` params."""
    answer = c.call("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": text}]})
    assert "result" in answer, answer
    return c.until("turn/completed", threadId=thread_id)


def after(c: Client, answer_method: str, params: Json, note: str) -> tuple[Json, Json]:
    """Call, then read the notification `note` that follows the answer; (answer, its params)."""
    before = len(c.notes)
    answer = c.call(answer_method, params)
    assert all(m != note for m, _ in c.notes[before:]), f"{note} came before the answer"
    return answer, c.until(note)


@pytest.fixture
def history(client: Client, mock_model: MockModelServer, workspace: Path) -> str:
    """A thread with a shell turn, a text turn and a failed turn."""
    mock_model.enqueue(
        response(shell("echo hello-from-tool", "call_1")), response(message("All done.")),
        response(message("Just text.")),
        http_error(400),
    )
    thread_id = start_thread(client, workspace)
    assert run_turn(client, thread_id, "[[shell]] run it")["turn"]["status"] == "completed"
    assert run_turn(client, thread_id, "second")["turn"]["status"] == "completed"
    assert run_turn(client, thread_id, "[[error400]] x")["turn"]["status"] == "failed"
    return thread_id


def test_list_and_read_rebuild_the_turns(client: Client, history: str, workspace: Path) -> None:
    listed = result_of(client.call("thread/list", {}), "ThreadListResponse")
    assert [t["id"] for t in listed["data"]] == [history] and listed["nextCursor"] is None
    entry = listed["data"][0]
    expected_keys = list(reference_examples()["thread/list"]["result"]["data"][0])
    assert list(entry) == expected_keys
    assert entry["preview"] == "[[shell]] run it" and entry["cwd"] == str(workspace)
    assert entry["status"] == {"type": "idle"} and entry["originator"] == "ide_client"
    assert entry["modelProvider"] == "mock" and entry["turns"] == []

    before = len(client.notes)
    read = result_of(client.call("thread/read", {"threadId": history, "includeTurns": True}),
                     "ThreadReadResponse")
    notice = [p for m, p in client.notes[before:] if m == "deprecationNotice"]
    assert notice == [NOTICE]
    turns = read["thread"]["turns"]
    assert [t["status"] for t in turns] == ["completed", "completed", "failed"]
    assert [[i["type"] for i in t["items"]] for t in turns] == [
        ["userMessage", "commandExecution", "agentMessage"], ["userMessage", "agentMessage"], ["userMessage"]]
    assert all(t["itemsView"] == "full" and t["startedAt"] and t["completedAt"] for t in turns)
    assert all(isinstance(t["durationMs"], int) for t in turns)
    command = turns[0]["items"][1]
    assert command["aggregatedOutput"] == "hello-from-tool\n" and command["exitCode"] == 0
    assert turns[1]["items"][1]["text"] == "Just text."
    assert "mock HTTP 400" in turns[2]["error"]["message"]
    assert list(turns[0]) == list(reference_examples()["thread/turns/list"]["result"]["data"][0])

    bare = result_of(client.call("thread/read", {"threadId": history}), "ThreadReadResponse")
    assert bare["thread"]["turns"] == [] and bare["thread"]["id"] == history
    check_notes(client)


def test_turns_list_pages_newest_first(client: Client, history: str) -> None:
    first = result_of(client.call("thread/turns/list", {"threadId": history, "limit": 2}),
                      "ThreadTurnsListResponse")
    assert [t["status"] for t in first["data"]] == ["failed", "completed"]
    assert all(t["itemsView"] == "summary" for t in first["data"])
    # Summary: the first user message and the last agent message.
    assert [i["type"] for i in first["data"][1]["items"]] == ["userMessage", "agentMessage"]
    assert json.loads(first["nextCursor"])["requestedThreadId"] == history
    rest = result_of(client.call("thread/turns/list", {"threadId": history, "limit": 2,
                                                       "cursor": first["nextCursor"]}),
                     "ThreadTurnsListResponse")
    assert [t["items"][0]["content"][0]["text"] for t in rest["data"]] == ["[[shell]] run it"]
    # The command item is left out of the summary.
    assert [i["type"] for i in rest["data"][0]["items"]] == ["userMessage", "agentMessage"]
    full = client.call("thread/turns/list", {"threadId": history, "itemsView": "full", "limit": 1,
                                             "sortDirection": "asc"})["result"]["data"]
    assert [i["type"] for i in full[0]["items"]] == ["userMessage", "commandExecution", "agentMessage"]
    assert rest["nextCursor"] is None

    bad = client.call("thread/turns/list", {"threadId": history, "cursor": "nope"})
    assert bad["error"] == {"code": -32600, "message": "invalid cursor: nope"}


def test_interrupted_turn_is_recorded_as_interrupted(
    client: Client, mock_model: MockModelServer, workspace: Path
) -> None:
    mock_model.enqueue(hang())
    thread_id = start_thread(client, workspace)
    turn_id = client.call("turn/start", {"threadId": thread_id,
                                         "input": [{"type": "text", "text": "[[slow]] x"}]})["result"]["turn"]["id"]
    client.until("turn/started", threadId=thread_id)
    client.call("turn/interrupt", {"threadId": thread_id, "turnId": turn_id})
    client.until("turn/completed", threadId=thread_id)
    turns = client.call("thread/turns/list", {"threadId": thread_id})["result"]["data"]
    assert [(t["id"], t["status"]) for t in turns] == [(turn_id, "interrupted")]
    assert turns[0]["completedAt"] is not None and turns[0]["durationMs"] is not None


def test_name_set_then_announced(client: Client, history: str) -> None:
    answer, note = after(client, "thread/name/set", {"threadId": history, "name": "named thread"},
                         "thread/name/updated")
    assert answer["result"] == {}
    assert note == {"threadId": history, "threadName": "named thread"}
    assert client.call("thread/list", {})["result"]["data"][0]["name"] == "named thread"
    check_notes(client)


def test_archive_unarchive_delete(client: Client, history: str) -> None:
    answer, note = after(client, "thread/archive", {"threadId": history}, "thread/archived")
    assert answer["result"] == {} and note == {"threadId": history}
    assert ("thread/status/changed", {"threadId": history, "status": {"type": "notLoaded"}}) in client.notes
    assert client.call("thread/list", {})["result"]["data"] == []
    archived = result_of(client.call("thread/list", {"archived": True}), "ThreadListResponse")["data"]
    assert [t["id"] for t in archived] == [history]
    assert archived[0]["status"] == {"type": "notLoaded"} and "/archived_sessions/" in archived[0]["path"]
    assert client.call("thread/loaded/list", {})["result"]["data"] == []

    answer, note = after(client, "thread/unarchive", {"threadId": history}, "thread/unarchived")
    thread = result_of(answer, "ThreadUnarchiveResponse")["thread"]
    assert thread["id"] == history and "/sessions/" in thread["path"] and note == {"threadId": history}
    assert [t["id"] for t in client.call("thread/list", {})["result"]["data"]] == [history]

    answer, note = after(client, "thread/delete", {"threadId": history}, "thread/deleted")
    assert answer["result"] == {} and note == {"threadId": history}
    assert client.call("thread/list", {})["result"] == {
        "data": [], "readStates": {}, "nextCursor": None, "backwardsCursor": None}
    check_notes(client)


def test_unknown_threads_get_codexs_errors(client: Client) -> None:
    missing = "01a1fee3-0000-7000-8000-000000000000"
    for method in ("thread/read", "thread/turns/list", "thread/archive", "thread/unarchive", "thread/delete"):
        answer = client.call(method, {"threadId": missing})
        assert answer["error"] == {"code": -32600, "message": f"no rollout found for thread id {missing}"}, method
    named = client.call("thread/name/set", {"threadId": missing, "name": "x"})
    assert named["error"] == {"code": -32600, "message": f"thread not found: {missing}"}


def test_list_pages_and_filters(client: Client, mock_model: MockModelServer, workspace: Path) -> None:
    ids = []
    for n in range(3):
        mock_model.enqueue(response(message(f"answer {n}")))
        thread_id = start_thread(client, workspace)
        run_turn(client, thread_id, f"task {n}")
        ids.append(thread_id)
    page = client.call("thread/list", {"limit": 2})["result"]
    assert [t["id"] for t in page["data"]] == ids[::-1][:2] and page["nextCursor"]
    rest = client.call("thread/list", {"limit": 2, "cursor": page["nextCursor"]})["result"]
    assert [t["id"] for t in rest["data"]] == [ids[0]] and rest["nextCursor"] is None
    assert client.call("thread/list", {"cwd": "/elsewhere"})["result"]["data"] == []
    excluded = client.call("thread/list", {"excludedThreadIds": [ids[2]]})["result"]["data"]
    assert [t["id"] for t in excluded] == [ids[1], ids[0]]
    assert [t["id"] for t in client.call("thread/list", {"searchTerm": "task 1"})["result"]["data"]] == [ids[1]]


def test_model_list_is_codexs_catalogue(client: Client) -> None:
    answer = client.call("model/list", {})
    expected = reference_examples()["model/list"]["result"]
    assert result_of(answer, "ModelListResponse") == expected
    with_hidden = client.call("model/list", {"includeHidden": True})["result"]["data"]
    assert len(with_hidden) > len(expected["data"]) and any(m["hidden"] for m in with_hidden)
    first = client.call("model/list", {"limit": 3})["result"]
    rest = client.call("model/list", {"cursor": first["nextCursor"]})["result"]
    assert [m["id"] for m in first["data"] + rest["data"]] == [m["id"] for m in expected["data"]]
    assert conforms("ModelListResponse", rest)["nextCursor"] is None
