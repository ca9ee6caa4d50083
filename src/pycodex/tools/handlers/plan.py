"""`update_plan`: the model keeps a short checklist the user can watch."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from pycodex.protocol.events import PlanUpdateEvent
from pycodex.tools.base import RespondToModel, ToolCall, ToolContext, ToolOutput

PLAN_TOOL_SPEC: dict[str, Any] = {
    "type": "function",
    "name": "update_plan",
    "description": (
        "Record or revise your step-by-step plan for the task. Send the whole plan each "
        "time; keep exactly one step in_progress until all are completed."
    ),
    "strict": False,
    "parameters": {
        "type": "object",
        "properties": {
            "explanation": {"type": "string", "description": "Why the plan changed, if it did."},
            "plan": {
                "type": "array",
                "description": "The steps, in order.",
                "items": {
                    "type": "object",
                    "properties": {
                        "step": {"type": "string"},
                        "status": {
                            "type": "string",
                            "enum": ["pending", "in_progress", "completed"],
                        },
                    },
                    "required": ["step", "status"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["plan"],
        "additionalProperties": False,
    },
}


class PlanStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    step: str
    status: Literal["pending", "in_progress", "completed"]


class PlanArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    explanation: str | None = None
    plan: list[PlanStep]


class PlanHandler:
    name = "update_plan"

    def spec(self) -> dict[str, Any]:
        return PLAN_TOOL_SPEC

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput:
        try:
            args = PlanArgs.model_validate_json(call.payload or "{}")
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "arguments"
            raise RespondToModel(
                f"failed to parse function arguments: {where}: {first['msg']}"
            ) from exc
        ctx.emit(PlanUpdateEvent.model_validate(args.model_dump(exclude_none=True)))
        return ToolOutput(text="Plan updated")
