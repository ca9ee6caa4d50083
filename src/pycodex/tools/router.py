"""`ToolRouter`: which tools the model is offered, and which handler answers a call."""

from __future__ import annotations

import json
from collections.abc import Iterable

from pycodex.protocol.models import (
    ContentItem,
    CustomToolCallItem,
    CustomToolCallOutputItem,
    FunctionCallItem,
    FunctionCallOutputItem,
    LocalShellCallItem,
    ResponseItem,
)
from pycodex.tools.base import (
    FatalToolError,
    RespondToModel,
    ToolCall,
    ToolContext,
    ToolHandler,
    ToolOutput,
)

ToolResponse = FunctionCallOutputItem | CustomToolCallOutputItem


class ToolRouter:
    """`handlers` are offered to the model; `hidden` ones are not, but calls to them are
    still answered (e.g. `shell` for a model offered `exec_command`, or a history written
    under another model)."""

    def __init__(self, handlers: Iterable[ToolHandler], hidden: Iterable[ToolHandler] = ()) -> None:
        self._handlers: dict[str, ToolHandler] = {h.name: h for h in handlers}
        self._offered = list(self._handlers)
        for handler in hidden:
            self._handlers.setdefault(handler.name, handler)

    def specs(self) -> list[dict[str, object]]:
        return [self._handlers[name].spec() for name in self._offered]

    @staticmethod
    def to_call(item: ResponseItem) -> ToolCall | None:
        """The tool call an output item asks for, or None when it is not a call."""
        if isinstance(item, FunctionCallItem):
            name = f"{item.namespace}__{item.name}" if item.namespace else item.name
            return ToolCall(name=name, call_id=item.call_id, kind="function", payload=item.arguments)
        if isinstance(item, CustomToolCallItem):
            return ToolCall(name=item.name, call_id=item.call_id, kind="custom", payload=item.input)
        if isinstance(item, LocalShellCallItem):
            call_id = item.call_id or item.id
            if not call_id:
                raise RespondToModel("LocalShellCall without call_id or id")
            return ToolCall(
                name="shell",
                call_id=call_id,
                kind="local_shell",
                payload=json.dumps(item.action.to_wire()),
            )
        return None

    async def dispatch(self, call: ToolCall, ctx: ToolContext) -> ToolResponse:
        """Run the call; every outcome except a fatal one becomes an output item."""
        handler = self._handlers.get(call.name)
        if handler is None:
            return response_for(call, ToolOutput(text=f"unsupported call: {call.name}", success=False))
        try:
            output = await handler.handle(call, ctx)
        except RespondToModel as exc:
            output = ToolOutput(text=str(exc), success=False)
        except FatalToolError:
            raise
        return response_for(call, output)


def response_for(call: ToolCall, output: ToolOutput) -> ToolResponse:
    text: str | list[ContentItem] = list(output.content) if output.content is not None else output.text
    if call.kind == "custom":
        return CustomToolCallOutputItem(call_id=call.call_id, output=text)
    return FunctionCallOutputItem(call_id=call.call_id, output=text)
