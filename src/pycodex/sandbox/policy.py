"""What a sandbox policy means on disk: the writable roots and their read-only subpaths.

``writable_roots(policy, cwd, env)`` is the one place that turns a
:class:`~pycodex.protocol.policies.SandboxPolicy` into concrete, canonical paths; every
backend (bwrap, the user-namespace shim, Landlock, Seatbelt) consumes its result.

* read-only -> no roots; danger-full-access / external-sandbox -> ``None`` (everything).
* workspace-write -> cwd + ``writable_roots`` (relative ones against cwd) + ``$TMPDIR``
  (unless ``exclude_tmpdir_env_var``) + ``/tmp`` (unless ``exclude_slash_tmp``); each
  canonicalised (symlinks resolved: a bind mount lands on the target anyway), missing
  ones dropped, duplicates removed, shallowest first.
* read-only subpaths of each root: ``.git`` (directory or file; a ``gitdir:`` file also
  protects the git directory it points to and that one's ``commondir``), ``.agents`` if
  present, and ``.codex`` / ``.pycodex``: always for the cwd root (even when missing, so a
  command cannot create project config that a later, unsandboxed run would trust), and
  for other roots when present.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pycodex.protocol.policies import (
    DangerFullAccessPolicy,
    ExternalSandboxPolicy,
    ReadOnlyPolicy,
    SandboxPolicy,
    WorkspaceWritePolicy,
)

# Names kept read-only inside every writable root (codex: PROTECTED_METADATA_PATH_NAMES,
# plus pycodex's own project directory).
GIT_DIR = ".git"
CONFIG_DIRS = (".codex", ".pycodex")
AGENTS_DIR = ".agents"


@dataclass(frozen=True)
class WritableRoot:
    root: Path
    # Paths that stay read-only although they lie under `root` (or, for a gitdir target,
    # possibly elsewhere). All absolute.
    read_only_subpaths: tuple[Path, ...] = ()
    # Protected names that do not exist (or are empty directories): the sandbox must keep
    # the command from creating them. A subset of `read_only_subpaths`.
    missing_subpaths: tuple[Path, ...] = field(default=())

    def is_writable(self, path: Path) -> bool:
        """Whether `path` (absolute, canonical) may be written under this root."""
        if not _is_within(path, self.root):
            return False
        return not any(_is_within(path, sub) for sub in self.read_only_subpaths)


def network_allowed(policy: SandboxPolicy) -> bool:
    return policy.has_full_network_access()


def writable_roots(
    policy: SandboxPolicy, cwd: Path, env: Mapping[str, str] | None = None
) -> list[WritableRoot] | None:
    """The writable roots of `policy` for commands run in `cwd`; None = unrestricted."""
    if isinstance(policy, DangerFullAccessPolicy | ExternalSandboxPolicy):
        return None
    if isinstance(policy, ReadOnlyPolicy):
        return []
    if not isinstance(policy, WorkspaceWritePolicy):
        raise TypeError(f"unsupported sandbox policy {type(policy).__name__}")
    environ = os.environ if env is None else env
    cwd_real = canonical(cwd)
    candidates: list[Path] = [cwd_real]
    for raw in policy.writable_roots:
        path = Path(os.path.expanduser(raw))
        candidates.append(path if path.is_absolute() else cwd_real / path)
    if not policy.exclude_tmpdir_env_var:
        tmpdir = environ.get("TMPDIR")
        if tmpdir and os.path.isabs(tmpdir):
            candidates.append(Path(tmpdir))
    if not policy.exclude_slash_tmp:
        candidates.append(Path("/tmp"))
    roots: list[Path] = []
    for candidate in candidates:
        real = canonical(candidate)
        if real.is_dir() and real not in roots:
            roots.append(real)
    roots.sort(key=lambda p: (len(p.parts), str(p)))
    return [_with_protected(root, is_cwd=root == cwd_real) for root in roots]


def canonical(path: Path) -> Path:
    return Path(os.path.realpath(os.path.abspath(path)))


def _with_protected(root: Path, *, is_cwd: bool) -> WritableRoot:
    protected: list[Path] = []
    missing: list[Path] = []

    def add(path: Path) -> None:
        if path not in protected:
            protected.append(path)

    git = root / GIT_DIR
    if git.is_symlink():
        # A symlinked .git is protected at its target; the link itself is not a mount
        # point (see the notes on TOCTOU in the launcher).
        target = canonical(git)
        if target.exists():
            add(target)
    elif git.is_dir():
        add(git)
    elif git.is_file():
        add(git)
        for target in _gitdir_targets(git):
            add(target)
    for name in CONFIG_DIRS:
        path = root / name
        if _is_missing_or_empty_dir(path):
            if is_cwd:
                add(path)
                missing.append(path)
        elif path.exists() or path.is_symlink():
            add(canonical(path) if path.is_symlink() else path)
    agents = root / AGENTS_DIR
    if agents.exists():
        add(canonical(agents) if agents.is_symlink() else agents)
    return WritableRoot(root, tuple(protected), tuple(missing))


def _gitdir_targets(git_file: Path) -> list[Path]:
    """`gitdir: X` in a worktree/submodule `.git` file: X and X's `commondir`."""
    try:
        text = git_file.read_text(errors="replace")
    except OSError:
        return []
    targets: list[Path] = []
    for line in text.splitlines():
        if line.startswith("gitdir:"):
            raw = line[len("gitdir:") :].strip()
            if not raw:
                continue
            gitdir = canonical(git_file.parent / raw)
            if gitdir.exists():
                targets.append(gitdir)
                common = gitdir / "commondir"
                try:
                    rel = common.read_text().strip()
                except OSError:
                    rel = ""
                if rel:
                    common_dir = canonical(gitdir / rel)
                    if common_dir.exists() and common_dir not in targets:
                        targets.append(common_dir)
            break
    return targets


def _is_missing_or_empty_dir(path: Path) -> bool:
    """Missing, or an empty real directory (possibly another sandbox's placeholder)."""
    if path.is_symlink():
        return False
    if not path.exists():
        return True
    if not path.is_dir():
        return False
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is None
    except OSError:
        return False


def _is_within(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents
