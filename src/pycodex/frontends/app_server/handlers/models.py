"""`model/list`: the catalogue, paged (the cursor is the index of the next entry, as a string)."""

from __future__ import annotations

from pycodex.frontends.app_server.dispatcher import RequestContext
from pycodex.frontends.app_server.errors import invalid_request
from pycodex.frontends.app_server.jsonrpc import JsonValue
from pycodex.frontends.app_server.model_catalog import catalog
from pycodex.frontends.app_server.params import ModelListParams


class ModelList:
    async def __call__(self, ctx: RequestContext, params: ModelListParams) -> JsonValue:
        models = catalog(bool(params.include_hidden))
        start = 0
        if params.cursor is not None:
            if not params.cursor.isdigit() or int(params.cursor) > len(models):
                raise invalid_request(f"invalid cursor: {params.cursor}")
            start = int(params.cursor)
        end = len(models) if not params.limit else min(start + params.limit, len(models))
        next_cursor = str(end) if end < len(models) else None
        return {"data": models[start:end], "nextCursor": next_cursor}
