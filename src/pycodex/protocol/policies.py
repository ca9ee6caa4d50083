"""Sandbox and approval policies, and the small enums that travel with a turn's settings.

Enumerations are ``StrEnum`` rather than ``Literal``: config and CLI code need the list of
valid values at runtime (click choices, error messages naming the allowed values),
``SandboxMode("bogus")`` fails with a ``ValueError`` naming the value, and members *are*
``str`` so they compare equal to, and serialize as, the exact wire strings.

Wire shape: the core/rollout form is kebab-case with snake_case fields, e.g.
``{"type": "read-only"}`` (0.163 rollout ``turn_context.sandbox_policy``) and
``{"type": "workspace-write", "writable_roots": [], "network_access": false,
"exclude_tmpdir_env_var": false, "exclude_slash_tmp": false}``. The app-server v2 API uses a
camelCase rendering (``{"type": "workspaceWrite", "writableRoots": [], "networkAccess":
false, ...}``, ``{"type": "readOnly", "networkAccess": false}``); convert with
:meth:`SandboxPolicy.to_app_server` / :meth:`SandboxPolicy.from_app_server`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self

import msgspec

from pycodex.protocol._wire import OmitFalse, WireError, WireModel, convert, wire_union


class SandboxMode(StrEnum):
    """The user-facing choice (`--sandbox`, `sandbox_mode` in config.toml)."""

    READ_ONLY = "read-only"
    WORKSPACE_WRITE = "workspace-write"
    DANGER_FULL_ACCESS = "danger-full-access"


class AskForApproval(StrEnum):
    UNTRUSTED = "untrusted"
    ON_FAILURE = "on-failure"
    ON_REQUEST = "on-request"
    NEVER = "never"


class ReviewDecision(StrEnum):
    """A user's answer to an approval request (core protocol; snake_case on the wire).

    App-server v2 speaks ``accept`` / ``acceptForSession`` / ``decline`` / ``cancel``
    instead; the app-server front end translates.
    """

    APPROVED = "approved"
    APPROVED_FOR_SESSION = "approved_for_session"
    DENIED = "denied"
    ABORT = "abort"


class ExecPolicyAmendment(WireModel, kw_only=True):
    """The body of an "approve and remember" answer: the command prefix to allow from now on
    (Codex's `ExecPolicyAmendment`, a bare list of strings on the wire)."""

    proposed_execpolicy_amendment: Annotated[list[str], msgspec.Meta(min_length=1)]


class ApprovedExecPolicyAmendment(WireModel, kw_only=True):
    """`{"approved_execpolicy_amendment": {"proposed_execpolicy_amendment": [...]}}`:
    approve this command and add `prefix_rule(pattern=[...], decision="allow")` to the
    user's rules so commands with that prefix are not asked about again."""

    approved_execpolicy_amendment: ExecPolicyAmendment

    @property
    def prefix(self) -> list[str]:
        return self.approved_execpolicy_amendment.proposed_execpolicy_amendment


# What a client may answer to a command approval request.
ExecReviewAnswer = ReviewDecision | ApprovedExecPolicyAmendment


class ReasoningEffort(StrEnum):
    NONE = "none"
    MINIMAL = "minimal"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    XHIGH = "xhigh"


class ReasoningSummary(StrEnum):
    AUTO = "auto"
    CONCISE = "concise"
    DETAILED = "detailed"
    NONE = "none"


class Verbosity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class NetworkAccess(StrEnum):
    RESTRICTED = "restricted"
    ENABLED = "enabled"


class SandboxPolicy(WireModel, kw_only=True):
    """Base of the sandbox policy variants (``isinstance(p, SandboxPolicy)`` holds for every
    variant). As a field type use :data:`AnySandboxPolicy`, which validates to the right
    variant by ``type``; the base itself is abstract and never decoded.
    """

    type: str
    _V2_TYPE: ClassVar[str] = ""

    # --- constructors ------------------------------------------------------------------

    @staticmethod
    def parse(data: Any) -> SandboxPolicy:
        """Validate the core/rollout wire form; raises :class:`WireError` (a ``ValueError``)."""
        policy: SandboxPolicy = SANDBOX_POLICY_UNION.parse(data)
        return policy

    @classmethod
    def from_wire(cls, data: Any) -> Self:
        if cls is SandboxPolicy:
            raise WireError("SandboxPolicy is abstract: use SandboxPolicy.parse() or a variant")
        return convert(data, cls)

    @staticmethod
    def from_mode(
        mode: SandboxMode | str,
        *,
        writable_roots: Iterable[str] = (),
        network_access: bool = False,
        exclude_tmpdir_env_var: bool = False,
        exclude_slash_tmp: bool = False,
    ) -> SandboxPolicy:
        """The policy for a ``sandbox_mode``; the workspace-write knobs apply only to it."""
        match SandboxMode(mode):
            case SandboxMode.READ_ONLY:
                return ReadOnlyPolicy()
            case SandboxMode.WORKSPACE_WRITE:
                return WorkspaceWritePolicy(
                    writable_roots=list(writable_roots),
                    network_access=network_access,
                    exclude_tmpdir_env_var=exclude_tmpdir_env_var,
                    exclude_slash_tmp=exclude_slash_tmp,
                )
            case SandboxMode.DANGER_FULL_ACCESS:
                return DangerFullAccessPolicy()

    @staticmethod
    def from_app_server(data: dict[str, Any]) -> SandboxPolicy:
        """Parse the app-server v2 camelCase form (``{"type": "workspaceWrite", ...}``)."""
        v2_to_core = {cls._V2_TYPE: cls for cls in _VARIANTS}
        kind = data.get("type")
        variant = v2_to_core.get(kind) if isinstance(kind, str) else None
        if variant is None:
            raise ValueError(f"unknown app-server sandbox policy type {kind!r}")
        fields: dict[str, Any] = {}
        for key, value in data.items():
            if key != "type":
                fields[_camel_to_snake(key)] = value
        return variant.from_wire(fields)

    # --- queries -----------------------------------------------------------------------

    @property
    def mode(self) -> SandboxMode | None:
        """The matching ``SandboxMode``; None for ``external-sandbox``."""
        return None

    def has_full_disk_write_access(self) -> bool:
        raise NotImplementedError

    def has_full_network_access(self) -> bool:
        raise NotImplementedError

    def to_app_server(self) -> dict[str, Any]:
        """The app-server v2 camelCase rendering of this policy."""
        data = self.to_wire()
        out: dict[str, Any] = {"type": self._V2_TYPE}
        for key, value in data.items():
            if key != "type":
                out[_snake_to_camel(key)] = value
        return out


class ReadOnlyPolicy(SandboxPolicy, kw_only=True):
    type: Literal["read-only"] = "read-only"
    # Newer Codex versions may carry it; 0.163's core form omits it when false.
    network_access: OmitFalse = False
    _V2_TYPE: ClassVar[str] = "readOnly"

    @property
    def mode(self) -> SandboxMode:
        return SandboxMode.READ_ONLY

    def has_full_disk_write_access(self) -> bool:
        return False

    def has_full_network_access(self) -> bool:
        return self.network_access

    def to_app_server(self) -> dict[str, Any]:
        # v2 always spells out networkAccess for readOnly (thread/start response).
        return {"type": self._V2_TYPE, "networkAccess": self.network_access}


class WorkspaceWritePolicy(SandboxPolicy, kw_only=True):
    type: Literal["workspace-write"] = "workspace-write"
    writable_roots: list[str] = msgspec.field(default_factory=list)
    network_access: bool = False
    exclude_tmpdir_env_var: bool = False
    exclude_slash_tmp: bool = False
    _V2_TYPE: ClassVar[str] = "workspaceWrite"

    @property
    def mode(self) -> SandboxMode:
        return SandboxMode.WORKSPACE_WRITE

    def has_full_disk_write_access(self) -> bool:
        return False

    def has_full_network_access(self) -> bool:
        return self.network_access


class DangerFullAccessPolicy(SandboxPolicy, kw_only=True):
    type: Literal["danger-full-access"] = "danger-full-access"
    _V2_TYPE: ClassVar[str] = "dangerFullAccess"

    @property
    def mode(self) -> SandboxMode:
        return SandboxMode.DANGER_FULL_ACCESS

    def has_full_disk_write_access(self) -> bool:
        return True

    def has_full_network_access(self) -> bool:
        return True


class ExternalSandboxPolicy(SandboxPolicy, kw_only=True):
    """Codex runs inside a sandbox someone else set up: full disk, chosen network."""

    type: Literal["external-sandbox"] = "external-sandbox"
    network_access: NetworkAccess = NetworkAccess.RESTRICTED
    _V2_TYPE: ClassVar[str] = "externalSandbox"

    def has_full_disk_write_access(self) -> bool:
        return True

    def has_full_network_access(self) -> bool:
        return self.network_access is NetworkAccess.ENABLED


_VARIANTS: tuple[type[SandboxPolicy], ...] = (
    ReadOnlyPolicy,
    WorkspaceWritePolicy,
    DangerFullAccessPolicy,
    ExternalSandboxPolicy,
)
SANDBOX_POLICY_UNION = wire_union("sandbox policy", _VARIANTS)
if TYPE_CHECKING:
    AnySandboxPolicy = SandboxPolicy
else:
    # A field typed `AnySandboxPolicy` validates to the variant named by `type`.
    AnySandboxPolicy = SANDBOX_POLICY_UNION

SANDBOX_POLICY_VARIANTS = _VARIANTS


def _snake_to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _camel_to_snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
