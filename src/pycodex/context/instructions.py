"""Base instructions and user instructions (AGENTS.md files).

Base instructions are pycodex's own text (`prompts/base_instructions.md`), replaceable by
`model_instructions_file`. User instructions come from AGENTS.md files: the global one in
the pycodex home, then the project's, from the repository root down to the working
directory, so more specific guidance comes last and wins ties.
"""

from __future__ import annotations

from pathlib import Path

AGENTS_FILENAMES = ("AGENTS.override.md", "AGENTS.md")
PROJECT_DOC_SEPARATOR = "\n\n--- project-doc ---\n\n"
DEFAULT_PROJECT_DOC_MAX_BYTES = 32 * 1024


class InstructionsError(Exception):
    """An instructions file named in the config cannot be read."""


def default_base_instructions() -> str:
    # Beside this module (importlib.resources would import zipfile & co. for one read).
    return (Path(__file__).parent / "prompts" / "base_instructions.md").read_text(encoding="utf-8")


def load_base_instructions(model_instructions_file: Path | None) -> str:
    if model_instructions_file is None:
        return default_base_instructions()
    try:
        return model_instructions_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InstructionsError(
            f"failed to read model_instructions_file {model_instructions_file}: {exc.strerror}"
        ) from exc


def find_repo_root(cwd: Path) -> Path | None:
    """The nearest ancestor of `cwd` (inclusive) containing `.git` (dir or file)."""
    for candidate in (cwd, *cwd.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _read_capped(path: Path, budget: int) -> str | None:
    try:
        with path.open("rb") as fh:
            data = fh.read(budget)
    except OSError:
        return None
    text = data.decode("utf-8", errors="ignore").strip()
    return text or None


def _agents_file_in(directory: Path, fallbacks: tuple[str, ...] = ()) -> Path | None:
    """The directory's instructions file: AGENTS.override.md, AGENTS.md, then the
    configured fallbacks (`project_doc_fallback_filenames`, e.g. CLAUDE.md), first found."""
    for name in (*AGENTS_FILENAMES, *fallbacks):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def project_doc_paths(cwd: Path, fallbacks: tuple[str, ...] = ()) -> list[Path]:
    """AGENTS.md files from the repo root (or cwd outside a repo) down to `cwd`."""
    root = find_repo_root(cwd) or cwd
    chain = [cwd, *cwd.parents]
    dirs = list(reversed(chain[: chain.index(root) + 1])) if root in chain else [cwd]
    return [p for d in dirs if (p := _agents_file_in(d, fallbacks)) is not None]


def load_user_instructions(
    *,
    home: Path,
    cwd: Path,
    max_bytes: int = DEFAULT_PROJECT_DOC_MAX_BYTES,
    fallback_filenames: tuple[str, ...] = (),
) -> str | None:
    """The combined AGENTS.md text, or None when there is none.

    `max_bytes` caps the project docs together (a huge generated AGENTS.md must not eat the
    context window); the global file is read separately under the same cap.
    """
    parts: list[str] = []
    global_doc = _agents_file_in(home)
    if global_doc is not None and (text := _read_capped(global_doc, max_bytes)):
        parts.append(text)
    project_parts: list[str] = []
    budget = max_bytes
    for path in project_doc_paths(cwd, fallback_filenames):
        if budget <= 0:
            break
        text = _read_capped(path, budget)
        if text:
            project_parts.append(text)
            budget -= len(text.encode("utf-8"))
    if project_parts:
        joined = "\n\n".join(project_parts)
        parts.append(joined if not parts else PROJECT_DOC_SEPARATOR.lstrip("\n") + joined)
    if not parts:
        return None
    return "\n\n".join(parts)


def format_user_instructions(cwd: Path, text: str) -> str:
    """The message part the model sees; framed so it is not mistaken for the user's prompt."""
    return f"# AGENTS.md instructions for {cwd}\n\n<INSTRUCTIONS>\n{text}\n</INSTRUCTIONS>"


def skills_instructions(home: Path, cwd: Path) -> str | None:
    """The `<skills_instructions>` block for a thread in `cwd` (see `.skills`), or None.

    Most threads have no skills: that is told by a few `stat`s here, and the skills
    module is imported only when a skills directory exists."""
    candidates = [home / "skills"]
    top = find_repo_root(cwd) or cwd
    for directory in (cwd, *cwd.parents):
        candidates += [directory / ".codex" / "skills", directory / ".agents" / "skills"]
        if directory == top:
            break
    if not any(c.is_dir() for c in candidates):
        return None
    from .skills import load_skills, render_skills_instructions

    return render_skills_instructions(load_skills(home, cwd).skills)
