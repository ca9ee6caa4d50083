"""`update_plan`: the model keeps a short checklist the user can watch."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from pycodex.protocol.events import PlanStep as EventPlanStep
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


class PlanStep(msgspec.Struct, forbid_unknown_fields=True):
    step: str
    status: Literal["pending", "in_progress", "completed"]


class PlanArgs(msgspec.Struct, forbid_unknown_fields=True):
    plan: list[PlanStep]
    explanation: str | None = None


class PlanHandler:
    name = "update_plan"

    def spec(self) -> dict[str, Any]:
        return PLAN_TOOL_SPEC

    async def handle(self, call: ToolCall, ctx: ToolContext) -> ToolOutput:
        try:
            args = msgspec.json.decode(call.payload or "{}", type=PlanArgs)
        except msgspec.DecodeError as exc:
            raise RespondToModel(f"failed to parse function arguments: {exc}") from exc
        steps = [EventPlanStep(step=s.step, status=s.status) for s in args.plan]
        ctx.emit(PlanUpdateEvent(explanation=args.explanation, plan=steps))
        return ToolOutput(text="Plan updated")
