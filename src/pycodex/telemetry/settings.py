"""`[otel]` in config.toml, as Codex spells it:

    [otel]
    environment = "staging"              # default "dev"
    log_user_prompt = false              # prompts are redacted unless true
    exporter = "none"                    # the default: nothing exported, nothing imported
    exporter = { otlp-http = { endpoint = "https://otel.example.com/v1/logs",
                               protocol = "binary",   # or "json"
                               headers = { "x-otlp-api-key" = "${OTLP_TOKEN}" } } }
    exporter = { otlp-grpc = { endpoint = "http://localhost:4317", headers = { ... } } }

`${VAR}` in a header value is replaced by the environment variable (empty when unset).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

ExporterKind = Literal["otlp-http", "otlp-grpc"]
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class TelemetryConfigError(Exception):
    """`[otel]` is malformed; the message names the key."""


class OtelSettings(msgspec.Struct, frozen=True):
    exporter: ExporterKind
    endpoint: str
    protocol: Literal["binary", "json"] = "binary"
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    environment: str = "dev"
    log_user_prompt: bool = False


def expand_env(value: str, env: Mapping[str, str]) -> str:
    return _VAR.sub(lambda m: env.get(m.group(1), ""), value)


def _headers(table: Any, env: Mapping[str, str], where: str) -> dict[str, str]:
    if table is None:
        return {}
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise TelemetryConfigError(f"{where}.headers must be a table of strings")
    return {str(k).lower(): expand_env(v, env) for k, v in table.items()}


def otel_settings(
    otel: Mapping[str, Any], env: Mapping[str, str], key: str = "exporter"
) -> OtelSettings | None:
    """The exporter `[otel]` enables for logs (`key = "exporter"`) or traces
    (`"trace_exporter"`), or None (absent or "none")."""
    exporter = otel.get(key, "none")
    if exporter == "none" or exporter is None:
        return None
    if not isinstance(exporter, dict) or len(exporter) != 1:
        raise TelemetryConfigError(
            f'otel.{key} must be "none", {{ otlp-http = {{...}} }} or {{ otlp-grpc = {{...}} }}'
        )
    ((kind, table),) = exporter.items()
    where = f"otel.{key}.{kind}"
    if kind not in ("otlp-http", "otlp-grpc") or not isinstance(table, dict):
        raise TelemetryConfigError(f"unknown exporter `{kind}` in otel.{key}")
    endpoint = table.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise TelemetryConfigError(f"{where}.endpoint must be a URL")
    protocol = table.get("protocol", "binary")
    if protocol not in ("binary", "json"):
        raise TelemetryConfigError(f'{where}.protocol must be "binary" or "json"')
    return OtelSettings(
        exporter=kind,
        endpoint=endpoint,
        protocol=protocol,
        headers=_headers(table.get("headers"), env, where),
        environment=str(otel.get("environment", "dev")),
        log_user_prompt=otel.get("log_user_prompt") is True,
    )
