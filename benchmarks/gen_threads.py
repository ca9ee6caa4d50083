"""Generate synthetic pycodex threads for the thread-store benchmarks.

    .venv/bin/python benchmarks/gen_threads.py HOME [--threads 10000] [--big-mb 0]

Writes `--threads` small rollouts (a few turns each, spread over 60 days and 20 working
directories) under HOME/sessions/YYYY/MM/DD/, in the format the recorder writes, and —
with `--big-mb N` — one tool-heavy rollout of about N MB whose thread id is printed. The
index is not built here: the first `ThreadIndex(HOME)` builds it (that time is reported by
bench_threads.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import uuid
from pathlib import Path
from typing import Any

BASE = dt.datetime(2026, 1, 1, 9, 0, 0)


def _thread_id(when: dt.datetime, rnd: random.Random) -> str:
    ms = int(when.replace(tzinfo=dt.UTC).timestamp() * 1000)
    value = (ms << 80) | (0x7 << 76) | (rnd.getrandbits(12) << 64) | (0b10 << 62) | rnd.getrandbits(62)
    return str(uuid.UUID(int=value))


def _ts(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class _Writer:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = path.open("w", encoding="utf-8")
        self.ordinal = 0

    def line(self, when: dt.datetime, kind: str, payload: dict[str, Any]) -> None:
        obj = {"timestamp": _ts(when), "ordinal": self.ordinal, "type": kind, "payload": payload}
        self.fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.ordinal += 1

    def close(self) -> None:
        self.fh.close()


def _user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def write_thread(home: Path, rnd: random.Random, when: dt.datetime, turns: int, output_bytes: int,
                 cwd: str) -> tuple[str, Path]:
    tid = _thread_id(when, rnd)
    path = home / "sessions" / f"{when:%Y}" / f"{when:%m}" / f"{when:%d}" / (
        f"rollout-{when:%Y-%m-%dT%H-%M-%S}-{tid}.jsonl"
    )
    w = _Writer(path)
    w.line(when, "session_meta", {
        "id": tid, "timestamp": _ts(when), "cwd": cwd, "originator": "pycodex_exec",
        "cli_version": "0.1.0", "source": "exec", "model_provider": "openai",
        "base_instructions": {"text": "You are a coding agent." * 20},
        "git": {"commit_hash": "0" * 40, "branch": "main"},
    })
    w.line(when, "response_item", {"type": "message", "role": "developer",
                                   "content": [{"type": "input_text", "text": "instructions " * 50}]})
    w.line(when, "response_item", _user(f"<environment_context>\n  <cwd>{cwd}</cwd>\n</environment_context>"))
    total = 0
    filler = "output line with some text\n" * (output_bytes // 27 + 1)
    for t in range(turns):
        when += dt.timedelta(seconds=rnd.randint(5, 600))
        turn_id = str(uuid.uuid4())
        ask = f"task {t}: please fix issue #{rnd.randint(1, 9999)} in module {rnd.choice('abcdefgh')}"
        w.line(when, "event_msg", {"type": "task_started", "turn_id": turn_id})
        w.line(when, "response_item", _user(ask))
        w.line(when, "event_msg", {"type": "user_message", "message": ask, "local_images": []})
        w.line(when, "turn_context", {"turn_id": turn_id, "cwd": cwd, "approval_policy": "never",
                                      "sandbox_policy": {"type": "read-only"}, "model": "gpt-5.5",
                                      "effort": None, "summary": "none"})
        call = f"call_{t}"
        w.line(when, "response_item", {"type": "function_call", "name": "shell", "call_id": call,
                                       "arguments": json.dumps({"command": ["bash", "-lc", "make test"]})})
        w.line(when, "response_item", {"type": "function_call_output", "call_id": call,
                                       "output": filler[:output_bytes]})
        w.line(when, "response_item", {"type": "message", "role": "assistant",
                                       "content": [{"type": "output_text", "text": f"Done with task {t}."}]})
        w.line(when, "event_msg", {"type": "agent_message", "message": f"Done with task {t}."})
        total += 2200
        usage = {"input_tokens": total, "cached_input_tokens": 0, "cache_write_input_tokens": 0,
                 "output_tokens": 100, "reasoning_output_tokens": 0, "total_tokens": total + 100}
        w.line(when, "event_msg", {"type": "token_count", "info": {
            "total_token_usage": usage, "last_token_usage": usage, "model_context_window": 258400}})
        w.line(when, "event_msg", {"type": "task_complete", "turn_id": turn_id,
                                   "last_agent_message": f"Done with task {t}."})
    w.close()
    return tid, path


def generate(home: Path, threads: int, big_mb: int, seed: int = 7) -> str | None:
    rnd = random.Random(seed)
    cwds = [f"/home/user/project{i}" for i in range(20)]
    for i in range(threads):
        when = BASE + dt.timedelta(seconds=int(i * 60 * 24 * 3600 / max(threads, 1)))
        write_thread(home, rnd, when, rnd.randint(1, 4), rnd.randint(200, 2000), rnd.choice(cwds))
    if big_mb <= 0:
        return None
    turns = big_mb * 1_000_000 // 11_700  # ~11.7 kB per tool turn
    tid, _ = write_thread(home, rnd, BASE + dt.timedelta(days=61), turns, 9_000, cwds[0])
    return tid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("home", type=Path)
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--big-mb", type=int, default=0)
    args = parser.parse_args()
    big = generate(args.home, args.threads, args.big_mb)
    print(f"wrote {args.threads} threads under {args.home}" + (f"; big thread {big}" if big else ""))


if __name__ == "__main__":
    main()
