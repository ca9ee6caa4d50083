"""Typed params of the requests the app-server validates today (v2, camelCase).

Shapes follow `reference/app-server-schema/stable/` (`v1/InitializeParams.json`,
`v2/*Params.json`). Optional fields default to None so an absent key and `null` mean the
same, as in Codex. `thread/start` is declared ahead of its handler so bad params and
experimental fields are answered exactly as Codex answers them even before the engine-backed
method lands.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from pycodex.frontends.app_server.validation import Params


class ClientInfo(msgspec.Struct, kw_only=True):
    name: str
    version: str
    title: str | None = None


class InitializeCapabilities(msgspec.Struct, kw_only=True, rename="camel"):
    experimental_api: bool = False
    opt_out_notification_methods: list[str] | None = None


class InitializeParams(Params, kw_only=True):
    client_info: ClientInfo
    capabilities: InitializeCapabilities | None = None


class ModelListParams(Params, kw_only=True):
    cursor: str | None = None
    include_hidden: bool | None = None
    limit: int | None = None


class ConfigReadParams(Params, kw_only=True):
    cwd: str | None = None
    include_layers: bool = False


class ConfigEditParams(msgspec.Struct, kw_only=True, rename="camel"):
    key_path: str
    value: Any
    merge_strategy: str


class ConfigValueWriteParams(Params, kw_only=True):
    key_path: str
    value: Any
    merge_strategy: str
    file_path: str | None = None
    expected_version: str | None = None


class ConfigBatchWriteParams(Params, kw_only=True):
    edits: list[ConfigEditParams]
    file_path: str | None = None
    expected_version: str | None = None
    reload_user_config: bool | None = None


class ThreadStartParams(Params, kw_only=True):
    EXPERIMENTAL_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"mockExperimentalField", "dynamicTools", "experimentalRawEvents"}
    )

    cwd: str | None = None
    model: str | None = None
    model_provider: str | None = None
    approval_policy: Any = None
    approvals_reviewer: str | None = None
    sandbox: str | None = None
    config: dict[str, Any] | None = None
    base_instructions: str | None = None
    developer_instructions: str | None = None
    ephemeral: bool | None = None
    service_tier: str | None = None
    personality: str | None = None


class EmptyParams(Params, kw_only=True):
    """For methods whose params pycodex does not look at (yet)."""


class _ThreadSettingsParams(Params, kw_only=True):
    """Settings a thread can be (re)opened with."""

    cwd: str | None = None
    model: str | None = None
    model_provider: str | None = None
    approval_policy: Any = None
    sandbox: str | None = None
    config: dict[str, Any] | None = None
    base_instructions: str | None = None
    developer_instructions: str | None = None


class ThreadResumeParams(_ThreadSettingsParams, kw_only=True):
    thread_id: str


class ThreadForkParams(_ThreadSettingsParams, kw_only=True):
    thread_id: str
    ephemeral: bool | None = None


class ThreadUnsubscribeParams(Params, kw_only=True):
    thread_id: str


class ThreadLoadedListParams(Params, kw_only=True):
    cursor: str | None = None
    limit: int | None = None


class TurnStartParams(Params, kw_only=True):
    thread_id: str
    input: list[dict[str, Any]]
    cwd: str | None = None
    approval_policy: Any = None
    sandbox_policy: dict[str, Any] | None = None
    model: str | None = None
    effort: str | None = None
    summary: str | None = None
    output_schema: Any = None


class TurnSteerParams(Params, kw_only=True):
    thread_id: str
    input: list[dict[str, Any]]
    expected_turn_id: str | None = None


class TurnInterruptParams(Params, kw_only=True):
    thread_id: str
    turn_id: str | None = None


class SkillsListParams(Params, kw_only=True):
    cwds: list[str] | None = None
    force_reload: bool | None = None


class ReviewStartParams(Params, kw_only=True):
    thread_id: str
    target: dict[str, Any]
    delivery: str | None = None
