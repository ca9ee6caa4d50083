"""The sandbox capability probe and each backend's preflight run once per process, even when
several threads (two engine threads' first commands, each in a worker thread) ask at once:
the late ones wait for the first one's answer instead of running their own."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import pytest

from pycodex.sandbox import capabilities, launcher

DEADLINE_S = 10.0


class _WatchedLock:
    """A lock that tells when a thread starts waiting to enter it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entering = 0

    def __enter__(self) -> bool:
        self.entering += 1
        return self._lock.acquire()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._lock.release()


class _SlowProbe:
    """Counts its runs; the first one blocks until released."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.runs = 0
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, *args: object) -> Any:
        self.runs += 1
        self.entered.set()
        assert self.release.wait(DEADLINE_S)
        return self.answer


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def _two_callers(call: Callable[[], Any], probe: _SlowProbe, lock: _WatchedLock) -> list[Any]:
    answers: list[Any] = []
    threads = [threading.Thread(target=lambda: answers.append(call())) for _ in range(2)]
    threads[0].start()
    assert probe.entered.wait(DEADLINE_S)
    threads[1].start()
    # The second caller either waits at the lock (right) or runs a probe of its own (wrong).
    _wait(lambda: lock.entering >= 2 or probe.runs >= 2, "the second caller")
    probe.release.set()
    for thread in threads:
        thread.join(DEADLINE_S)
    return answers


@pytest.fixture
def fresh_probe(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(capabilities, "_probed", None)
    yield
    capabilities.reset()  # the next test probes the real machine again


def test_concurrent_callers_share_one_capability_probe(
    monkeypatch: pytest.MonkeyPatch, fresh_probe: None
) -> None:
    answer = object()
    probe, lock = _SlowProbe(answer), _WatchedLock()
    monkeypatch.setattr(capabilities, "_probe", probe)
    monkeypatch.setattr(capabilities, "_probe_lock", lock)
    answers = _two_callers(capabilities.probe, probe, lock)
    assert probe.runs == 1
    assert answers == [answer, answer]
    assert capabilities.probe() is answer  # cached: no third run
    assert probe.runs == 1


def test_concurrent_callers_share_one_preflight(monkeypatch: pytest.MonkeyPatch) -> None:
    probe, lock = _SlowProbe("no such luck"), _WatchedLock()
    monkeypatch.setattr(launcher, "_preflight_cache", {})
    monkeypatch.setattr(launcher, "_run_preflight", probe)
    monkeypatch.setattr(launcher, "_preflight_lock", lock)
    answers = _two_callers(lambda: launcher.preflight("landlock"), probe, lock)
    assert probe.runs == 1
    assert answers == ["no such luck", "no such luck"]
