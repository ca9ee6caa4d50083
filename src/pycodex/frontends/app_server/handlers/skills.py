"""`skills/list`: the skills pycodex would offer the model in each working directory (the
repo's `.codex/skills` / `.agents/skills`, then `$PYCODEX_HOME/skills`), with the files
that could not be read as errors rather than a failed request."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path

from pycodex.config.home import pycodex_home
from pycodex.context.skills import SkillsFound, load_skills
from pycodex.frontends.app_server.dispatcher import RequestContext
from pycodex.frontends.app_server.jsonrpc import JsonValue
from pycodex.frontends.app_server.params import SkillsListParams


class SkillsList:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    async def __call__(self, ctx: RequestContext, params: SkillsListParams) -> JsonValue:
        home = pycodex_home(self._env)
        cwds = params.cwds or [os.getcwd()]
        data = []
        for cwd in cwds:
            # File reads: off the loop.
            found = await asyncio.to_thread(load_skills, home, Path(cwd))
            data.append(_entry(cwd, found))
        return {"data": data}


def _entry(cwd: str, found: SkillsFound) -> dict[str, JsonValue]:
    skills: list[JsonValue] = [
        {
            "name": skill.name,
            "description": skill.description,
            "interface": None,
            "path": str(skill.path),
            "scope": skill.scope,
            "enabled": True,
            "pluginId": None,
        }
        for skill in found.skills
    ]
    errors: list[JsonValue] = [{"path": str(e.path), "message": e.message} for e in found.errors]
    return {"cwd": cwd, "skills": skills, "errors": errors}
