"""OpenAI's server-side compaction: `POST {base_url}/responses/compact`.

Body `{model, input, instructions}` (the history to compact and the instructions the
thread runs with); answer `{"output": [items]}` — the user messages and one opaque
`compaction` item that later requests send back as is. One plain JSON request, not a
stream, on the thread's own wire (same auth, headers, proxies and connection pool).

A gateway or provider without the endpoint answers 404 (or 405/501):
:class:`RemoteCompactionUnsupported`, and the caller compacts locally — and, since the
answer will not change, the client remembers it and is not asked again
(:func:`remote_compaction_known_unsupported`).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import msgspec

from pycodex.client.client import ModelClient, classify_http_error
from pycodex.client.errors import ConnectionFailed, InvalidResponse, ModelClientError
from pycodex.client.headers import build_headers, endpoint_url
from pycodex.client.wire import WireError
from pycodex.protocol.models import ResponseItem, item_to_wire, parse_response_item

PATH = "responses/compact"
UNSUPPORTED_STATUSES = frozenset({404, 405, 501})

_unsupported: weakref.WeakSet[ModelClient] = weakref.WeakSet()


class RemoteCompactionUnsupported(ModelClientError):
    """The provider has no `/responses/compact`: compact locally instead."""


def remote_compaction_known_unsupported(client: ModelClient) -> bool:
    return client in _unsupported


async def compact_remotely(
    client: ModelClient, *, model: str, items: Sequence[ResponseItem], instructions: str
) -> list[ResponseItem]:
    """The provider's compacted replacement for `items`. Raises a `ModelClientError`
    (`ContextWindowExceeded` when the history is too big even for this endpoint)."""
    # The client's own auth and HTTP client: a private seam of this package, so remote
    # compaction sends exactly the credentials and headers a normal request does.
    api_key = await client._resolve_api_key()
    headers = build_headers(
        client.provider, api_key=api_key, originator=client.originator,
        user_agent_value=client.user_agent, thread_id=client.thread_id, env=client._env,
    )
    headers["accept"] = "application/json"
    url = endpoint_url(client.current_base_url(), PATH, client.provider.query_params)
    payload = msgspec.json.encode(
        {"model": model, "input": [item_to_wire(i) for i in items], "instructions": instructions}
    )
    try:
        response = await client._wire().post(url, headers, payload, timeouts=client._timeouts())
        try:
            body = await response.aread()
        finally:
            await response.aclose()
    except WireError as exc:
        raise ConnectionFailed(url, str(exc)) from None
    if response.status_code in UNSUPPORTED_STATUSES:
        _unsupported.add(client)
        raise RemoteCompactionUnsupported(f"{url} answered HTTP {response.status_code}")
    if not 200 <= response.status_code < 300:
        raise classify_http_error(response, body)
    return _output_items(body)


def _output_items(body: bytes) -> list[ResponseItem]:
    try:
        decoded = msgspec.json.decode(body)
        output = decoded["output"]
        if not isinstance(output, list):
            raise TypeError("`output` is not a list")
        return [parse_response_item(item) for item in output]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidResponse(f"compaction answer without a usable `output`: {exc}") from None
