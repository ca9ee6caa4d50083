"""Putting one question (an approval, an MCP elicitation) to every connection subscribed to
a thread: the first usable answer wins.

Whatever the outcome — answered, every connection failed, or the asker was cancelled (the
turn ended) — each connection that was asked then hears `serverRequest/resolved` with its
own request id, so no client keeps a stale prompt. An answer that does not parse (the
`parse` callable raises ValueError), a JSON-RPC error, a timeout or a closed connection is
no answer; with no answer at all the result is None and the caller decides (decline).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from pycodex.frontends.app_server.dispatcher import Peer
from pycodex.frontends.app_server.jsonrpc import JsonValue

log = logging.getLogger(__name__)
T = TypeVar("T")


async def first_answer(
    peers: Sequence[Peer],
    method: str,
    params: JsonValue,
    parse: Callable[[JsonValue], T],
    *,
    thread_id: str,
    answer_within: float,
) -> T | None:
    if not peers:
        return None
    sent: dict[int, int] = {}  # index of the peer -> its request id
    asks = [
        asyncio.create_task(
            _answer_of(peer, method, params, parse, answer_within, functools.partial(sent.__setitem__, i))
        )
        for i, peer in enumerate(peers)
    ]
    try:
        for next_done in asyncio.as_completed(asks):
            answer = await next_done
            if answer is not None:
                return answer
        return None
    finally:
        for ask in asks:
            ask.cancel()
        for index, request_id in sent.items():
            with contextlib.suppress(Exception):  # a connection that is gone needs no telling
                await peers[index].notify("serverRequest/resolved", {"threadId": thread_id, "requestId": request_id})


async def _answer_of(
    peer: Peer,
    method: str,
    params: JsonValue,
    parse: Callable[[JsonValue], T],
    answer_within: float,
    on_sent: Callable[[int], None],
) -> T | None:
    try:
        result = await peer.request(method, params, answer_within=answer_within, on_sent=on_sent)
        return parse(result)
    except ValueError as exc:
        log.warning("%s: %s", method, exc)
        return None
    except Exception as exc:  # rejected, timed out, connection gone: not an answer
        log.info("%s unanswered: %s", method, exc)
        return None
