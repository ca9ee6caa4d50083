"""Request URL and headers shared by both wire APIs (authorization, originator, user agent,
conversation ids, provider headers and query parameters)."""

from __future__ import annotations

import platform
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

from pycodex.config.providers import ModelProviderInfo

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"


def resolve_base_url(provider: ModelProviderInfo, env: Mapping[str, str]) -> str:
    # Only the built-in `openai` provider leaves base_url unset.
    base = provider.base_url or env.get("OPENAI_BASE_URL") or DEFAULT_OPENAI_BASE_URL
    return base.rstrip("/")


def endpoint_url(base_url: str, path: str, query_params: Mapping[str, str] | None) -> str:
    url = f"{base_url}/{path.lstrip('/')}"
    if query_params:
        url += ("&" if "?" in url else "?") + urlencode(query_params)
    return url


def _version_triplet(raw: str) -> str:
    # Codex prints semantic versions ("Debian 12.0.0"); os-release often says just "12".
    numbers = re.findall(r"\d+", raw)[:3]
    if not numbers:
        return raw or "unknown"
    return ".".join(str(int(n)) for n in numbers + ["0"] * (3 - len(numbers)))


def os_description(os_release: Path = Path("/etc/os-release")) -> str:
    system = platform.system()
    if system == "Darwin":
        return f"Mac OS {_version_triplet(platform.mac_ver()[0])}"
    if system == "Windows":
        return f"Windows {_version_triplet(platform.version())}"
    if system == "Linux":
        fields: dict[str, str] = {}
        try:
            for line in os_release.read_text(encoding="utf-8").splitlines():
                key, sep, value = line.partition("=")
                if sep:
                    fields[key.strip()] = value.strip().strip('"')
        except OSError:
            pass
        name = (fields.get("NAME") or "Linux").split()[0]
        return f"{name} {_version_triplet(fields.get('VERSION_ID', ''))}"
    return f"{system or 'unknown'} {platform.release()}".strip()


def terminal_description(env: Mapping[str, str]) -> str:
    program = env.get("TERM_PROGRAM", "").strip()
    if program:
        version = env.get("TERM_PROGRAM_VERSION", "").strip()
        return f"{program}/{version}" if version else program
    return env.get("TERM", "").strip() or "unknown"


def _header_safe(value: str) -> str:
    # Header values must be visible ASCII; anything else would make httpx refuse the request.
    return "".join(c if " " <= c <= "~" else "_" for c in value)


def user_agent(originator: str, version: str, env: Mapping[str, str]) -> str:
    """`<originator>/<version> (<OS> <version>; <arch>) <terminal> (<originator>; <version>)`."""
    arch = platform.machine() or "unknown"
    return _header_safe(
        f"{originator}/{version} ({os_description()}; {arch}) "
        f"{terminal_description(env)} ({originator}; {version})"
    )


def build_headers(
    provider: ModelProviderInfo,
    *,
    api_key: str | None,
    originator: str,
    user_agent_value: str,
    thread_id: str,
    env: Mapping[str, str],
) -> dict[str, str]:
    headers: dict[str, str] = {}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    headers["originator"] = originator
    headers["user-agent"] = user_agent_value
    headers["session-id"] = thread_id
    headers["thread-id"] = thread_id
    headers["x-client-request-id"] = thread_id
    headers["accept"] = "text/event-stream"
    headers["content-type"] = "application/json"
    for name, value in (provider.http_headers or {}).items():
        headers[name.lower()] = value
    for name, var in (provider.env_http_headers or {}).items():
        value = env.get(var, "").strip()
        if value:  # unset or empty env vars add nothing
            headers[name.lower()] = value
    return headers
