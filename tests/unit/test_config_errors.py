"""Bad configuration: one-line errors naming file, line, key; unknown keys as warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycodex.config import ConfigError
from pycodex.config.keypath import format_key_path, locate_key
from tests.support.config_world import World, write


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def error_of(world: World, **overrides: object) -> str:
    with pytest.raises(ConfigError) as excinfo:
        world.load(**overrides)
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_malformed_toml_reports_path_line_and_column(world: World) -> None:
    path = world.user_config('model = "ok"\nmodel_provider = \n')
    assert error_of(world) == f"{path}:2:18: invalid value"


def test_malformed_toml_at_end_of_document(world: World) -> None:
    path = world.user_config('model = "ok"\nmodel = "unterminated')
    message = error_of(world)
    assert message.startswith(f"{path}:2:")
    assert "unterminated string" in message


def test_malformed_project_file_is_fatal_when_trusted(world: World) -> None:
    world.trust(world.repo)
    path = write(world.repo / ".codex" / "config.toml", "[tools\n")
    assert error_of(world).startswith(f"{path}:1:")


def test_invalid_utf8_is_reported_with_position(world: World) -> None:
    path = world.pycodex_home / "config.toml"
    path.write_bytes(b'model = "ok"\nmodel = "\xff"\n')
    assert error_of(world) == f"{path}:2:10: invalid UTF-8"


def test_wrong_type_names_source_line_key_and_expected_type(world: World) -> None:
    path = world.user_config('model = "x"\n\nmodel_provider = 123\n')
    assert error_of(world) == (
        f"{path}:3:1: invalid type for `model_provider`: expected a string, got integer 123"
    )


def test_wrong_type_in_nested_table_is_located(world: World) -> None:
    path = world.user_config('[history]\npersistence = "none"\nmax_bytes = "big"\n')
    assert error_of(world) == (
        f'{path}:3:1: invalid type for `history.max_bytes`: expected an integer, got string "big"'
    )


def test_wrong_type_is_not_coerced(world: World) -> None:
    world.user_config("hide_agent_reasoning = 1\n")
    assert "expected a boolean, got integer 1" in error_of(world)


def test_wrong_type_in_a_lower_layer_is_reported_even_when_overridden(world: World) -> None:
    # A broken file stays broken: the error must not depend on today's -c flags.
    path = world.user_config("hide_agent_reasoning = 1\n")
    message = error_of(world, config_overrides=["hide_agent_reasoning=false"])
    assert message.startswith(f"{path}:1:1: invalid type for `hide_agent_reasoning`")


def test_wrong_type_in_dash_c_names_the_override(world: World) -> None:
    assert error_of(world, config_overrides=["model_provider=123"]) == (
        "-c/--config override: invalid type for `model_provider`: expected a string, got integer 123"
    )


def test_wrong_type_in_array_element(world: World) -> None:
    path = world.user_config('notify = ["notify-send", 3]\n')
    assert error_of(world) == (
        f"{path}:1:1: invalid type for `notify[1]`: expected a string, got integer 3"
    )


def test_unknown_keys_are_warnings(world: World) -> None:
    path = world.user_config(
        'model = "m"\ntotally_unknown_key = 1\n[history]\ncolour = "red"\n'
        "[features]\nnot_a_feature = true\n"
    )
    config = world.load(config_overrides=["other_unknown=2"])
    assert config.model == "m"
    assert set(config.warnings) == {
        f"unknown configuration field `totally_unknown_key` in {path}",
        f"unknown configuration field `history.colour` in {path}",
        f"unknown configuration field `features.not_a_feature` in {path}",
        "unknown configuration field `other_unknown` in -c/--config override",
    }
    assert "not_a_feature" not in config.features


def test_unknown_key_is_an_error_with_strict(world: World) -> None:
    assert error_of(world, strict=True, config_overrides=["totally_unknown_key=1"]) == (
        "unknown configuration field `totally_unknown_key` in -c/--config override"
    )


def test_unknown_key_in_provider_table_is_a_warning_not_a_type_error(world: World) -> None:
    path = world.user_config('[model_providers.x]\nname = "X"\nbase_url = "http://h/v1"\nfoo = 1\n')
    config = world.load(config_overrides=["model_provider=x"])
    assert config.model_provider.name == "X"
    assert config.warnings == (f"unknown configuration field `model_providers.x.foo` in {path}",)


@pytest.mark.parametrize(
    ("key", "choices"),
    [
        ("approval_policy", "`untrusted`, `on-failure`, `on-request`, `never`"),
        ("sandbox_mode", "`read-only`, `workspace-write`, `danger-full-access`"),
    ],
)
def test_bad_enum_value_lists_valid_values(world: World, key: str, choices: str) -> None:
    path = world.user_config(f'{key} = "bogus"\n')
    assert error_of(world) == (
        f'{path}:1:1: invalid value for `{key}`: expected one of {choices}, got string "bogus"'
    )


def test_bad_approval_flag_is_an_error_naming_the_flags(world: World) -> None:
    assert error_of(world, approval_policy="sometimes").startswith(
        "command-line flags: invalid value for `approval_policy`"
    )


def test_unknown_reasoning_effort_warns_and_passes_through(world: World) -> None:
    config = world.load(config_overrides=['model_reasoning_effort="bogus"'])
    assert config.model_reasoning_effort == "bogus"
    (warning,) = config.warnings
    assert "model_reasoning_effort `bogus`" in warning
    assert "-c/--config override" in warning


def test_known_reasoning_effort_does_not_warn(world: World) -> None:
    config = world.load(config_overrides=['model_reasoning_effort="xhigh"'])
    assert config.model_reasoning_effort == "xhigh"
    assert config.warnings == ()


def test_update_plan_boolean_is_an_error(world: World) -> None:
    path = world.user_config("[tools]\nupdate_plan = true\n")
    message = error_of(world)
    assert message.startswith(f"{path}:2:1: invalid type for `tools.update_plan`: expected a table")
    assert "enabled = true" in message


def test_update_plan_table_is_accepted(world: World) -> None:
    world.user_config("[tools.update_plan]\nenabled = false\n")
    assert world.load().tools.update_plan is False


def test_web_search_accepts_boolean_or_table_only(world: World) -> None:
    world.user_config("[tools]\nweb_search = true\n")
    assert world.load().tools.web_search is True
    world.user_config("[tools]\nweb_search = 3\n")
    assert "expected a boolean or a table, got integer 3" in error_of(world)


def test_mcp_server_needs_exactly_one_transport(world: World) -> None:
    path = world.user_config('[mcp_servers.docs]\ncommand = "x"\nurl = "http://h"\n')
    assert error_of(world) == (
        f"{path}: invalid `mcp_servers.docs`: set exactly one of `command` (stdio) "
        "or `url` (streamable HTTP)"
    )


def test_mcp_servers_parse(world: World) -> None:
    world.user_config(
        '[mcp_servers.docs]\ncommand = "docs-mcp"\nargs = ["--stdio"]\nenv = { A = "1" }\n'
        "startup_timeout_sec = 20\n"
        '[mcp_servers.remote]\nurl = "https://h/mcp"\nbearer_token_env_var = "TOKEN"\nenabled = false\n'
    )
    servers = world.load().mcp_servers
    assert servers["docs"].args == ["--stdio"]
    assert servers["docs"].env == {"A": "1"}
    assert servers["docs"].startup_timeout_sec == 20
    assert servers["remote"].bearer_token_env_var == "TOKEN"
    assert servers["remote"].enabled is False


def test_missing_cwd_is_an_error(world: World) -> None:
    assert "does not exist" in error_of(world, cwd=world.repo / "nope")


def test_config_error_is_always_one_line() -> None:
    assert str(ConfigError("first\nsecond")) == "first second"


def test_format_key_path_quotes_non_bare_segments() -> None:
    assert format_key_path(["projects", "/a/b", "trust_level"]) == 'projects."/a/b".trust_level'
    assert format_key_path(["notify", 1]) == "notify[1]"


def test_locate_key_understands_headers_dotted_keys_and_falls_back_to_prefix() -> None:
    text = (
        "# comment\n"
        'model = "m"\n'
        "[model_providers.x]\n"
        '  name = "X"\n'
        "sandbox_workspace_write.network_access = true\n"
        '[projects."/a/b"]\n'
        'trust_level = "trusted"\n'
        "[history]\n"
        "inline = { a = 1 }\n"
    )
    assert locate_key(text, ["model"]) == (2, 1)
    assert locate_key(text, ["model_providers", "x", "name"]) == (4, 3)
    assert locate_key(
        text, ["model_providers", "x", "sandbox_workspace_write", "network_access"]
    ) == (5, 1)
    assert locate_key(text, ["projects", "/a/b", "trust_level"]) == (7, 1)
    assert locate_key(text, ["history", "inline", "a"]) == (9, 1)  # inside an inline table
    assert locate_key(text, ["absent"]) is None


@pytest.mark.parametrize(
    ("text", "line", "key", "rule", "got"),
    [
        (
            "[history]\nmax_bytes = -1\n",
            2,
            "history.max_bytes",
            "greater than or equal to 0",
            "integer -1",
        ),
        ("model_context_window = 0\n", 1, "model_context_window", "greater than 0", "integer 0"),
        (
            '[mcp_servers.x]\ncommand = "c"\nstartup_timeout_sec = -1.5\n',
            3,
            "mcp_servers.x.startup_timeout_sec",
            "greater than or equal to 0",
            "float -1.5",
        ),
        (
            '[model_providers.x]\nname = "X"\nstream_idle_timeout_ms = 0\n',
            3,
            "model_providers.x.stream_idle_timeout_ms",
            "greater than 0",
            "integer 0",
        ),
    ],
)
def test_out_of_range_number_names_the_bound(
    world: World, text: str, line: int, key: str, rule: str, got: str
) -> None:
    path = world.user_config(text)
    assert error_of(world) == (
        f"{path}:{line}:1: invalid value for `{key}`: input should be {rule}, got {got}"
    )


def test_type_error_is_found_past_a_table_missing_a_required_key(world: World) -> None:
    # `x` may get its `name` from another layer, so its absence must not hide `y`'s error.
    path = world.user_config(
        '[model_providers.x]\nbase_url = "u"\n[model_providers.y]\nbase_url = 3\n'
    )
    assert error_of(world) == (
        f"{path}:4:1: invalid type for `model_providers.y.base_url`: "
        "expected a string, got integer 3"
    )


def test_every_unknown_key_is_warned_with_its_full_path_in_schema_order(world: World) -> None:
    path = world.user_config(
        "zz_top = 1\n"
        '[profiles.p.model_providers.x]\nname = "X"\nfoo = 1\nbar = 2\n'
        '[model_providers.y]\nname = "Y"\nbaz = 3\n'
    )
    warnings = world.load().warnings
    # Declared tables first (model_providers before profiles), unknown keys after them.
    assert warnings == tuple(
        f"unknown configuration field `{key}` in {path}"
        for key in (
            "model_providers.y.baz",
            "profiles.p.model_providers.x.foo",
            "profiles.p.model_providers.x.bar",
            "zz_top",
        )
    )


def test_first_error_is_the_first_in_schema_order_not_file_order(world: World) -> None:
    path = world.user_config("model_provider = 2\nmodel = 1\n")
    assert error_of(world).startswith(f"{path}:2:1: invalid type for `model`:")


def test_choices_are_listed_in_schema_order(world: World) -> None:
    world.user_config('[tools]\nshell_type = "zsh"\n')
    assert "expected one of `shell`, `unified_exec`, `local_shell`, got" in error_of(world)


def test_integer_is_a_number_but_boolean_is_not(world: World) -> None:
    world.user_config('[mcp_servers.x]\ncommand = "c"\nstartup_timeout_sec = 20\n')
    timeout = world.load().mcp_servers["x"].startup_timeout_sec
    assert (timeout, type(timeout)) == (20.0, float)
    world.user_config('[mcp_servers.x]\ncommand = "c"\nstartup_timeout_sec = true\n')
    assert "expected a number, got boolean true" in error_of(world)


def test_float_is_not_an_integer(world: World) -> None:
    world.user_config('[model_providers.x]\nname = "X"\nrequest_max_retries = 1.5\n')
    assert "expected an integer, got float 1.5" in error_of(world)


def test_toml_date_is_not_a_string(world: World) -> None:
    path = world.user_config("model = 1979-05-27\n")
    assert error_of(world) == (
        f"{path}:1:1: invalid type for `model`: expected a string, got date 1979-05-27"
    )


def test_array_of_tables_where_a_table_is_expected(world: World) -> None:
    path = world.user_config("[[history]]\nmax_bytes = 1\n")
    assert error_of(world) == (
        f"{path}:1:1: invalid type for `history`: expected a table, got an array"
    )
