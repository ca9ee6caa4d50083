"""Skills: `SKILL.md` files whose name and description the model is told about.

Where they are found (:func:`skill_roots`), most specific first:

* the repository's ``.codex/skills`` and ``.agents/skills``, in the working directory and
  each directory above it up to the repository root (scope ``repo``);
* ``$PYCODEX_HOME/skills`` (scope ``user``).

Any ``SKILL.md`` below a root counts (a skill is a directory: its instructions, scripts,
references). Its frontmatter must give a ``name`` (at most 64 characters) and a
``description`` (at most 1024); a file without them is reported as an error, not used.
When two skills share a name, the first found (the most specific) wins.

The model sees only the list (:func:`render_skills_instructions`): name, description and
path; it opens a `SKILL.md` itself when a task calls for it, so the bodies cost nothing
until used. The block is a `<skills_instructions>` part of the developer message that
also carries the permissions, as Codex 0.163 sends it.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from .instructions import find_repo_root
from .prompts_custom import parse_frontmatter

SKILL_FILE = "SKILL.md"
MAX_NAME_CHARS = 64
MAX_DESCRIPTION_CHARS = 1024
MAX_SKILLS = 200
REPO_SKILL_DIRS = (".codex/skills", ".agents/skills")


class Skill(msgspec.Struct, frozen=True):
    name: str
    description: str
    path: Path
    scope: str  # "repo" | "user"


class SkillError(msgspec.Struct, frozen=True):
    path: Path
    message: str


class SkillsFound(msgspec.Struct, frozen=True):
    skills: list[Skill]
    errors: list[SkillError]


def skill_roots(home: Path, cwd: Path) -> list[tuple[Path, str]]:
    """Skill directories that exist, with their scope, most specific first."""
    top = find_repo_root(cwd) or cwd
    chain = [cwd, *cwd.parents]
    dirs = chain[: chain.index(top) + 1] if top in chain else [cwd]
    roots = [(d / sub, "repo") for d in dirs for sub in REPO_SKILL_DIRS]
    roots.append((home / "skills", "user"))
    return [(root, scope) for root, scope in roots if root.is_dir()]


def load_skills(home: Path, cwd: Path) -> SkillsFound:
    skills: list[Skill] = []
    errors: list[SkillError] = []
    seen: set[str] = set()
    for root, scope in skill_roots(home, cwd):
        for path in _skill_files(root):
            skill = _load(path, scope)
            if isinstance(skill, SkillError):
                errors.append(skill)
            elif skill.name not in seen and len(skills) < MAX_SKILLS:
                seen.add(skill.name)
                skills.append(skill)
    return SkillsFound(skills=skills, errors=errors)


def _skill_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for directory, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if SKILL_FILE in files:
            found.append(Path(directory) / SKILL_FILE)
    return found


def _load(path: Path, scope: str) -> Skill | SkillError:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return SkillError(path=path, message=f"cannot read: {exc}")
    meta, _ = parse_frontmatter(text)
    name = " ".join(meta.get("name", "").split())
    description = " ".join(meta.get("description", "").split())
    if not name or not description:
        return SkillError(path=path, message="the frontmatter needs a `name` and a `description`")
    if len(name) > MAX_NAME_CHARS:
        return SkillError(path=path, message=f"`name` is longer than {MAX_NAME_CHARS} characters")
    if len(description) > MAX_DESCRIPTION_CHARS:
        return SkillError(path=path, message=f"`description` is longer than {MAX_DESCRIPTION_CHARS} characters")
    return Skill(name=name, description=description, path=path, scope=scope)


def render_skills_instructions(skills: list[Skill]) -> str | None:
    """The `<skills_instructions>` block the model is given (None: no skills)."""
    if not skills:
        return None
    lines = [
        "<skills_instructions>",
        "## Skills",
        "A skill is a folder of local instructions (its `SKILL.md`, sometimes with scripts, "
        "templates or references beside it) for a particular kind of task. These are "
        "available in this session:",
    ]
    lines.extend(f"- {s.name}: {s.description} (file: {s.path.as_posix()})" for s in skills)
    lines += [
        "## Using skills",
        "- Use a skill when the user names it (for example `$name`) or when the task plainly "
        "matches its description; use each one only for the turn that calls for it.",
        "- Before following a skill, read its `SKILL.md`, as much as the task needs. Open the "
        "other files it points to only when they are needed; prefer running its scripts and "
        "reusing its templates over rewriting them.",
        "- Say in one line which skill you are using. If a skill cannot be read or does not "
        "fit after all, say so briefly and carry on without it.",
        "</skills_instructions>",
    ]
    return "\n".join(lines)
