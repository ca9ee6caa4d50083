"""`command/exec` processes while they run: which connection owns which `processId`, how
their output is captured or streamed, and how each ends.

A process belongs to the connection that started it (ids are connection-scoped, as in
Codex). Its answer is deferred until it exits (:mod:`.deferred`), so the connection keeps
taking `command/exec/write` / `terminate` / `resize` meanwhile; when the connection closes
the deferred work is cancelled, and cancellation kills the process group and reaps it.

Output: each stream is read to its end; at most `cap` bytes of it are kept (the rest is
read and dropped, so a chatty command never blocks on a full pipe). Streamed output goes
out as `command/exec/outputDelta` notifications (base64) and is not repeated in the answer.
A timeout kills the group and answers exit code 124, as Codex does.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass

from pycodex.core import StartedCommand
from pycodex.frontends.app_server.dispatcher import Peer
from pycodex.frontends.app_server.jsonrpc import JsonValue

TIMEOUT_EXIT_CODE = 124
DEFAULT_TIMEOUT_S = 10.0  # Codex's default for command/exec
DEFAULT_OUTPUT_CAP = 1024 * 1024  # bytes per stream
# After the leader exited, how long its output may still take to arrive (children that
# inherited the pipes keep them open) before the group is killed.
DRAIN_GRACE_S = 0.5
READ_CHUNK = 64 * 1024
OUTPUT_DELTA = "command/exec/outputDelta"


@dataclass
class RunningExec:
    command: StartedCommand
    process_id: str | None
    stream_stdin: bool


@dataclass(frozen=True)
class OutputPlan:
    stream: bool  # stream as notifications (else buffer for the answer)
    cap: int | None  # bytes kept per stream; None: no cap
    timeout_s: float | None  # None: no timeout


class ExecRegistry:
    """The running `command/exec` processes of every connection, by (connection, id)."""

    def __init__(self) -> None:
        self._running: dict[tuple[int, str], RunningExec] = {}

    def get(self, peer: Peer, process_id: str) -> RunningExec | None:
        return self._running.get((id(peer), process_id))

    def claim(self, peer: Peer, running: RunningExec) -> bool:
        """Record a client-named process; False when the id is already running."""
        if running.process_id is None:
            return True
        key = (id(peer), running.process_id)
        if key in self._running:
            return False
        self._running[key] = running
        return True

    def release(self, peer: Peer, running: RunningExec) -> None:
        if running.process_id is not None and self.get(peer, running.process_id) is running:
            del self._running[(id(peer), running.process_id)]

    async def run(self, peer: Peer, running: RunningExec, plan: OutputPlan) -> JsonValue:
        """Wait for the process (killing it at the timeout) and its output; the answer."""
        command = running.command
        streams = [("stdout", command.stdout)] + ([("stderr", command.stderr)] if command.stderr else [])
        pumps = {
            name: asyncio.create_task(_pump(peer, running.process_id, name, reader, plan))
            for name, reader in streams
        }
        try:
            timed_out = False
            try:
                code = await asyncio.wait_for(command.wait(), plan.timeout_s)
            except TimeoutError:
                timed_out = True
                command.kill()
                code = await command.wait()
            _, late = await asyncio.wait(pumps.values(), timeout=DRAIN_GRACE_S)
            if late:
                command.kill()  # whatever still holds the pipes goes with the leader
                await asyncio.wait(late)
            out = {name: task.result() for name, task in pumps.items()}
            return {
                "exitCode": TIMEOUT_EXIT_CODE if timed_out else code,
                "stdout": out.get("stdout", ""),
                "stderr": out.get("stderr", ""),
            }
        finally:
            self.release(peer, running)
            for task in pumps.values():
                task.cancel()
            await command.close()


async def _pump(
    peer: Peer, process_id: str | None, name: str, reader: asyncio.StreamReader, plan: OutputPlan
) -> str:
    """Read `reader` to its end; what was kept of it (empty when streamed)."""
    kept = bytearray()
    seen = 0
    streaming = plan.stream and process_id is not None
    while chunk := await _read(reader):
        if plan.cap is not None and seen >= plan.cap:
            continue  # over the cap: drained, not kept
        part = chunk if plan.cap is None else chunk[: plan.cap - seen]
        seen += len(part)
        capped = plan.cap is not None and seen >= plan.cap
        if not streaming:
            kept += part
            continue
        params = {
            "processId": process_id, "stream": name,
            "deltaBase64": base64.b64encode(part).decode("ascii"), "capReached": capped,
        }
        try:
            await peer.notify(OUTPUT_DELTA, params)
        except Exception:  # the connection is going away: keep draining, stop sending
            streaming = False
    return kept.decode("utf-8", errors="replace")


async def _read(reader: asyncio.StreamReader) -> bytes:
    """The next chunk, or b"" at the end (a PTY reports its end as EIO)."""
    with contextlib.suppress(OSError):
        return await reader.read(READ_CHUNK)
    return b""
