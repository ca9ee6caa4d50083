"""`pycodex doctor [--json]`: is this installation healthy, and if not, what to do.

Checks, each `ok`, `warning` or `fail` with a one-line summary, details and (when not ok)
a remediation: the runtime (pycodex, Python), the config (every file found, parsed or
not — a broken config.toml is a failed check naming the file and the error, not a crash),
credentials (what the configured provider will use, as `pycodex login status` says), the
provider answering at all (one HTTP request, 3 s at most: a warning when it does not),
the sandbox backend (as `pycodex sandbox doctor` finds it), the MCP servers configured (not
started), git and ripgrep. `--json` prints the same report in the envelope of
`codex doctor --json` (`schemaVersion`, `overallStatus`, `checks` by id). Exits 1 when a
check failed.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from pycodex import CODEX_COMPAT_VERSION, __version__

PROVIDER_TIMEOUT_S = 3.0
_MARKS = {"ok": "✓", "warning": "⚠", "fail": "✗"}


@dataclass
class Check:
    id: str
    category: str
    status: str = "ok"
    summary: str = ""
    details: dict[str, str] = field(default_factory=dict)
    remediation: str | None = None
    duration_ms: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "status": self.status, "summary": self.summary,
                "details": self.details, "remediation": self.remediation, "durationMs": self.duration_ms}


def _runtime() -> Check:
    return Check("runtime", "runtime", summary=f"pycodex {__version__} on Python {platform.python_version()}", details={
        "version": __version__, "codex compatibility": CODEX_COMPAT_VERSION,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
    })


def _config(state: dict[str, Any]) -> Check:
    from pycodex.config.config import ConfigOverrides, load_config
    from pycodex.config.errors import ConfigError
    from pycodex.config.home import codex_home, pycodex_home

    home = pycodex_home()
    check = Check("config.load", "config", details={"PYCODEX_HOME": str(home), "cwd": os.getcwd()})
    for label, path in (("config.toml", home / "config.toml"), ("Codex config.toml", codex_home() / "config.toml")):
        check.details[label] = f"{path} ({'found' if path.is_file() else 'missing'})"
    try:
        config = load_config(ConfigOverrides(config_overrides=state["overrides"]))
    except ConfigError as exc:
        check.status, check.summary = "fail", f"config does not load: {exc}"
        check.remediation = "Fix the file named above (or move it aside) and run `pycodex doctor` again."
        return check
    state["config"] = config
    check.summary = "config loaded"
    check.details.update({
        "model": f"{config.model} · {config.model_provider_id}",
        "approval policy": str(config.approval_policy),
        "sandbox mode": str(config.sandbox_mode),
        "MCP servers": str(len(config.mcp_servers)),
        "feature flags enabled": str(sum(config.features.values())),
    })
    for warning in config.warnings:
        check.status, check.summary = "warning", "config loaded with warnings"
        check.details.setdefault("warnings", warning)
    return check


def _credentials(state: dict[str, Any]) -> Check:
    from pycodex.auth.credential import load_auth, policy_from_config
    from pycodex.auth.errors import AuthError
    from pycodex.auth.status import login_status
    from pycodex.auth.store import AuthFileError

    config = state["config"]
    policy = policy_from_config(config)
    check = Check("auth.credentials", "auth")
    try:
        loaded = load_auth(policy.store_mode, config.pycodex_home, config.codex_home)
    except (AuthFileError, AuthError) as exc:
        check.status, check.summary = "fail", str(exc)
        check.remediation = "Run `pycodex login` again (or remove the broken file)."
        return check
    report = login_status(config.model_provider_id, config.model_provider, env=os.environ,
                          loaded=loaded, policy=policy)
    check.summary = report.lines[0] if report.lines else "no credential"
    check.details = {f"line {i + 1}": line for i, line in enumerate(report.lines)}
    if not report.ok:
        check.status = "warning"
        check.remediation = "Run `pycodex login` or set the provider's API key variable."
    return check


def _provider(state: dict[str, Any]) -> Check:
    from pycodex.http import httpx2

    config = state["config"]
    base = config.model_provider.base_url or "https://api.openai.com/v1"
    check = Check("provider.reachable", "network", details={"provider": config.model_provider_id, "base URL": base})
    try:
        response = httpx2.get(base, timeout=PROVIDER_TIMEOUT_S, follow_redirects=False)
    except httpx2.HTTPError as exc:
        check.status, check.summary = "warning", f"{base} did not answer: {type(exc).__name__}: {exc}"
        check.remediation = "Check the network, a proxy (HTTPS_PROXY), or the provider's base_url."
        return check
    check.summary = f"{base} answered (HTTP {response.status_code})"
    return check


def _sandbox(state: dict[str, Any]) -> Check:
    from pycodex.core import sandbox_policy_for
    from pycodex.sandbox.launcher import sandbox_status

    config = state["config"]
    status = sandbox_status(sandbox_policy_for(config))
    check = Check("sandbox.backend", "sandbox", details=dict(status.details))
    check.details.update({f"{name} unavailable": why for name, why in status.failures.items()})
    if status.backend == "unavailable":
        check.status, check.summary = "fail", f"no sandbox backend works: {status.reason}"
        check.remediation = "See `pycodex sandbox doctor` for the fix (bubblewrap, user namespaces)."
    else:
        check.summary = f"backend: {status.backend}" + (" (degraded)" if status.degraded else "")
        if status.degraded or status.warnings:
            check.status = "warning"
            check.details.update({f"warning {i + 1}": w for i, w in enumerate(status.warnings)})
    return check


def _mcp(state: dict[str, Any]) -> Check:
    servers = state["config"].mcp_servers
    check = Check("mcp.config", "mcp", summary=f"{len(servers)} MCP server(s) configured (not started)")
    for name, server in servers.items():
        where = server.url if server.url else " ".join([server.command or "", *(server.args or [])])
        enabled = "disabled" if server.enabled is False else "enabled"
        check.details[name] = f"{'http' if server.url else 'stdio'} · {enabled} · {where}"
    if not servers:
        check.summary = "no MCP servers configured"
    return check


def _tools() -> Check:
    """git is needed (undo snapshots, reviews, the git context of a turn); rg is only what
    models like to search with, so its absence is a detail, not a warning."""
    git, rg = shutil.which("git"), shutil.which("rg")
    check = Check("tools.path", "environment", summary="git found" if git else "git not found", details={
        "git": git or "not found",
        "rg": rg or "not found (models often search with it; they fall back to grep)",
    })
    if git is None:
        check.status = "warning"
        check.remediation = "Install git: undo, reviews and the repository context need it."
    return check


def run_checks(overrides: list[str]) -> list[Check]:
    state: dict[str, Any] = {"overrides": overrides}
    checks = [_timed(_runtime), _timed(lambda: _config(state))]
    if "config" in state:
        for probe in (_credentials, _provider, _sandbox, _mcp):
            checks.append(_timed(lambda probe=probe: probe(state)))  # type: ignore[misc]
    checks.append(_timed(_tools))
    return checks


def _timed(probe: Callable[[], Check]) -> Check:
    started = time.monotonic()
    try:
        check = probe()
    except Exception as exc:  # a check must report, never crash the report
        name = getattr(probe, "__name__", "check").strip("_")
        check = Check(name, "internal", "fail", f"the check itself failed: {type(exc).__name__}: {exc}")
    check.duration_ms = int((time.monotonic() - started) * 1000)
    return check


def overall(checks: list[Check]) -> str:
    statuses = {check.status for check in checks}
    return "fail" if "fail" in statuses else "warning" if "warning" in statuses else "ok"


def _human(checks: list[Check]) -> None:
    click.echo(f"pycodex doctor v{__version__} · {platform.system().lower()}-{platform.machine()}\n")
    for check in checks:
        click.echo(f"  {_MARKS[check.status]} {check.id:<20} {check.summary}")
        for key, value in check.details.items():
            click.echo(f"      {key:<24} {value}")
        if check.remediation:
            click.echo(f"      → {check.remediation}")
    counts = {status: sum(c.status == status for c in checks) for status in _MARKS}
    click.echo(f"\n{counts['ok']} ok · {counts['warning']} warning(s) · {counts['fail']} failed")


@click.command("doctor", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-c", "--config", "config_overrides", multiple=True, metavar="key=value",
              help="Override a config value for this check.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def doctor_command(config_overrides: tuple[str, ...], as_json: bool) -> None:
    """Check the installation, config, credentials, provider, sandbox and MCP servers."""
    from pycodex.cli.common import root_config_overrides

    checks = run_checks([*root_config_overrides(), *config_overrides])
    status = overall(checks)
    if as_json:
        click.echo(json.dumps({
            "schemaVersion": 1,
            "generatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "overallStatus": status,
            "pycodexVersion": __version__,
            "codexVersion": CODEX_COMPAT_VERSION,
            "checks": {check.id: check.to_json() for check in checks},
        }, indent=2, ensure_ascii=False))
    else:
        _human(checks)
    sys.exit(1 if status == "fail" else 0)

