"""Tools the provider runs itself (OpenAI's hosted `web_search`): offered, never handled.

The model's use of a hosted tool comes back as its own output item (`web_search_call`),
not as a function call, so the router never dispatches to these; they only contribute
their definition to the request.
"""

from __future__ import annotations

from typing import Any

from pycodex.tools.base import RespondToModel, ToolCall, ToolContext, ToolOutput


class WebSearchTool:
    name = "web_search"

    def __init__(self, *, live: bool) -> None:
        # "cached" search uses the provider's index only; "live" may fetch pages.
        self._live = live

    def spec(self) -> dict[str, Any]:
        return {
            "type": "web_search",
            "external_web_access": self._live,
            "search_content_types": ["text", "image"],
        }

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput:
        raise RespondToModel("web_search runs on the provider's side; it cannot be called as a function")
