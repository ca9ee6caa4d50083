"""`pycodex app-server generate-json-schema` / `generate-ts`: the protocol as pycodex runs it,
generated from the types it runs with — everything the server reads or sends:

* every request it answers: its params Struct, which the dispatcher decodes the params into;
* every method's result: `result_types.METHOD_RESULTS`, which the dispatcher converts each
  answer into before sending it;
* every notification and server→client request: `outbound_types` (the thread event stream's
  are built as `protocol.v2.notification_types` Structs; `Connection.notify`/`request`
  convert the others' params into their types);
* the thread items (`protocol.v2.items`).

Experimental methods are included with `--experimental` only, as in Codex. Layout of
`--out DIR` (Codex's): `ClientRequest.json`, `ServerNotification.json`, `ServerRequest.json`
(one variant per method), `ThreadItem.json`, `v2/<Type>.json` (one file per type, with the
definitions it needs) and the bundle `pycodex_app_server_protocol.schemas.json`.
`generate-ts` writes one `<Type>.ts` per type (the unions included) and an `index.ts`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import msgspec

Json = dict[str, Any]
SCHEMA_URI = "http://json-schema.org/draft-07/schema#"
BUNDLE = "pycodex_app_server_protocol.schemas.json"
_REF = "#/definitions/"


def implemented_params(experimental: bool) -> dict[str, type[Any]]:
    """method -> params type, for every method pycodex answers (stable ones only unless
    `experimental`)."""
    from pycodex.frontends.app_server.app import build_dispatcher
    from pycodex.frontends.app_server.methods import EXPERIMENTAL_METHODS

    dispatcher = build_dispatcher({}, log=lambda _line: None)
    methods = dispatcher.params_types()
    return {m: t for m, t in sorted(methods.items()) if experimental or m not in EXPERIMENTAL_METHODS}


def _item_types() -> list[type[Any]]:
    from pycodex.protocol.v2.items import ThreadItem

    return list(ThreadItem.__args__)


def json_schemas(experimental: bool) -> dict[str, Json]:
    """Relative path -> JSON Schema document."""
    from pycodex.frontends.app_server.outbound_types import NOTIFICATIONS, SERVER_REQUESTS
    from pycodex.frontends.app_server.result_types import METHOD_RESULTS

    notes: dict[str, type[Any]] = dict(NOTIFICATIONS)
    methods = implemented_params(experimental)
    items = _item_types()
    results: list[type[Any]] = []
    for method, result in METHOD_RESULTS.items():
        if method in methods:  # a union of variants (LoginAccountResponse) counts by its members
            results.extend(t for t in (get_args(result) or (result,)) if t not in results)
    types = sorted({*methods.values(), *items, *notes.values(), *SERVER_REQUESTS.values(), *results},
                   key=lambda t: t.__name__)
    _, definitions = msgspec.json.schema_components(types, ref_template=_REF + "{name}")
    for name in _written_whole(definitions, items, notes.values(), SERVER_REQUESTS.values(), results):
        # Sent with every field (null when unset): all of them are present.
        schema = definitions[name]
        schema["required"] = sorted(schema.get("properties", {}))
    definitions["RequestId"] = {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    client_request = {
        "$schema": SCHEMA_URI, "title": "ClientRequest",
        "oneOf": [_request_variant(method, params.__name__) for method, params in methods.items()],
        "definitions": _needed({"oneOf": [{"$ref": _REF + t.__name__} for t in methods.values()]}
                               | {"x": {"$ref": _REF + "RequestId"}}, definitions),
    }
    notifications: Json = {
        "$schema": SCHEMA_URI, "title": "ServerNotification",
        "oneOf": [_notification_variant(method, params.__name__)
                  for method, params in sorted(notes.items())],
    }
    notifications["definitions"] = _needed(notifications["oneOf"], definitions)
    server_requests: Json = {
        "$schema": SCHEMA_URI, "title": "ServerRequest",
        "oneOf": [_server_request_variant(method, params.__name__)
                  for method, params in sorted(SERVER_REQUESTS.items())],
    }
    server_requests["definitions"] = _needed(server_requests["oneOf"], definitions)
    item_union = {"oneOf": [{"$ref": _REF + t.__name__} for t in items]}
    thread_item = {"$schema": SCHEMA_URI, "title": "ThreadItem", **item_union,
                   "definitions": _needed(item_union, definitions)}
    files: dict[str, Json] = {"ClientRequest.json": client_request, "ServerNotification.json": notifications,
                              "ServerRequest.json": server_requests, "ThreadItem.json": thread_item}
    for name, schema in sorted(definitions.items()):
        needed = _needed(schema, definitions)
        needed.pop(name, None)
        document = {"$schema": SCHEMA_URI, **schema}
        if needed:
            document["definitions"] = needed
        files[f"v2/{name}.json"] = document
    files[BUNDLE] = {
        "$schema": SCHEMA_URI, "title": "PycodexAppServerProtocol",
        "definitions": {**definitions, "ClientRequest": {k: v for k, v in client_request.items()
                                                         if k not in ("$schema", "definitions")},
                        "ServerNotification": {"oneOf": notifications["oneOf"]},
                        "ServerRequest": {"oneOf": server_requests["oneOf"]},
                        "ThreadItem": item_union},
    }
    return files


def _written_whole(definitions: dict[str, Json], *roots: Any) -> set[str]:
    """What pycodex sends (items, notifications and the types inside them): encoded with
    every field. Request params are read, not written: their defaults stay optional."""
    names: set[str] = set()
    sparse: set[str] = set()  # types that leave unset fields out (`omit_defaults`)
    for group in roots:
        for t in group:
            names.add(t.__name__)
            names |= set(_needed({"$ref": _REF + t.__name__}, definitions))
            if getattr(getattr(t, "__struct_config__", None), "omit_defaults", False):
                sparse.add(t.__name__)
    return {n for n in names - sparse if "properties" in definitions.get(n, {})}


def _request_variant(method: str, params: str) -> Json:
    title = method[0].upper() + method[1:]
    required = ["id", "method"] if params == "EmptyParams" else ["id", "method", "params"]
    return {
        "title": f"{title}Request", "type": "object", "required": required,
        "properties": {
            "id": {"$ref": _REF + "RequestId"},
            "method": {"enum": [method], "type": "string", "title": f"{title}RequestMethod"},
            "params": {"$ref": _REF + params},
        },
    }


def _server_request_variant(method: str, params: str) -> Json:
    variant = _request_variant(method, params)
    variant["title"] = variant["title"].replace("Request", "ServerRequest", 1)
    return variant


def _notification_variant(method: str, params: str) -> Json:
    title = method[0].upper() + method[1:]
    return {
        "title": f"{title}Notification", "type": "object", "required": ["method", "params"],
        "properties": {
            "method": {"enum": [method], "type": "string", "title": f"{title}NotificationMethod"},
            "params": {"$ref": _REF + params},
        },
    }


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF):
            found.add(ref[len(_REF):])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _needed(root: Any, definitions: dict[str, Json]) -> dict[str, Json]:
    """The definitions `root` refers to, transitively."""
    seen: dict[str, Json] = {}
    todo = sorted(_refs(root))
    while todo:
        name = todo.pop()
        if name in seen or name not in definitions:
            continue
        seen[name] = definitions[name]
        todo.extend(sorted(_refs(definitions[name])))
    return dict(sorted(seen.items()))


def write_json_schema(out: Path, experimental: bool) -> list[Path]:
    return _write(out, {path: json.dumps(doc, indent=2, sort_keys=True) + "\n"
                        for path, doc in json_schemas(experimental).items()})


# --- TypeScript -----------------------------------------------------------------------------


def typescript(experimental: bool) -> dict[str, str]:
    """Relative path -> TypeScript source: one exported type per schema definition."""
    bundle = json_schemas(experimental)[BUNDLE]["definitions"]
    files: dict[str, str] = {}
    for name, schema in sorted(bundle.items()):
        body = _ts(schema)
        imports = sorted(_refs(schema) - {name})
        head = "".join(f'import type {{ {dep} }} from "./{dep}";\n' for dep in imports)
        files[f"{name}.ts"] = ("// Generated by `pycodex app-server generate-ts`; do not edit.\n"
                               f"{head}{chr(10) if head else ''}export type {name} = {body};\n")
    files["index.ts"] = "".join(f'export type {{ {n} }} from "./{n}";\n' for n in sorted(bundle))
    return files


def write_typescript(out: Path, experimental: bool) -> list[Path]:
    return _write(out, typescript(experimental))


def _ts(schema: Any) -> str:
    if not isinstance(schema, dict) or not schema:
        return "unknown"
    if "$ref" in schema:
        return str(schema["$ref"])[len(_REF):]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(dict.fromkeys(_ts(option) for option in schema[key]))
    if "enum" in schema:
        return " | ".join(json.dumps(value) for value in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(_ts({**schema, "type": one}) for one in kind)
    simple = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean", "null": "null"}
    if kind in simple:
        return simple[kind]
    if kind == "array":
        return f"Array<{_ts(schema.get('items'))}>"
    if kind == "object":
        return _ts_object(schema)
    return "unknown"


def _ts_object(schema: Json) -> str:
    properties = schema.get("properties")
    if not properties:
        extra = schema.get("additionalProperties")
        return f"{{ [key: string]: {_ts(extra) if isinstance(extra, dict) else 'unknown'} }}"
    required = set(schema.get("required", ()))
    fields = [f"{json.dumps(k) if not k.isidentifier() else k}{'' if k in required else '?'}: {_ts(v)}"
              for k, v in properties.items()]
    return "{ " + "; ".join(fields) + " }"


def _write(out: Path, files: dict[str, str]) -> list[Path]:
    written = []
    for relative, text in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
