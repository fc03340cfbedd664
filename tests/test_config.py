"""fsengine.config: precedence (flags > env > toml > defaults), identifier and endpoint rules,
and that credentials never show up in what a Config prints."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsengine.bigquery.clients import bigquery_client, read_client
from fsengine.config import (
    DEFAULT_CALL_TIMEOUT,
    Config,
    ConfigError,
    load_config,
    validate_dataset,
    validate_project,
    validate_table,
)
from fsengine.snapshot.sources import SOURCE_TABLES

NO_FILE = "/nonexistent-dir"


def test_defaults_are_production():
    config = load_config(environ={}, cwd=NO_FILE)
    assert config.project == "nba-props-platform"
    assert config.api_endpoint is None and config.storage_endpoint is None and not config.anonymous
    assert config.target_id == "nba-props-platform.nba_predictions.ml_feature_store_v2"
    assert [config.table_id(t.key) for t in SOURCE_TABLES] == [f"nba-props-platform.{t.key}" for t in SOURCE_TABLES]
    assert config.call_timeout == DEFAULT_CALL_TIMEOUT and config.job_timeout > 0 and config.read_timeout > 0


def _write_toml(folder, text):
    path = folder / "fsengine.toml"
    path.write_text(text)
    return path


def test_precedence_flag_over_env_over_toml_over_default(tmp_path):
    _write_toml(tmp_path, 'project = "toml-project"\ncall_timeout = 11\njob_timeout = 12\nread_timeout = 13\n')
    env = {"FSENGINE_PROJECT": "env-project", "FSENGINE_CALL_TIMEOUT": "21", "FSENGINE_JOB_TIMEOUT": "22"}
    config = load_config(project="flag-project", call_timeout=31, environ=env, cwd=tmp_path)
    assert config.project == "flag-project"  # flag wins
    assert config.call_timeout == 31
    assert config.job_timeout == 22  # env over toml
    assert config.read_timeout == 13  # toml over default
    assert load_config(environ=env, cwd=tmp_path).project == "env-project"
    assert load_config(environ={}, cwd=tmp_path).project == "toml-project"
    assert load_config(environ={}, cwd=NO_FILE).project == "nba-props-platform"


def test_config_file_from_flag_and_env(tmp_path):
    a = tmp_path / "a.toml"
    a.write_text('project = "from-flag-file"\n')
    b = tmp_path / "b.toml"
    b.write_text('project = "from-env-file"\n')
    assert load_config(config_file=a, environ={"FSENGINE_CONFIG": str(b)}, cwd=NO_FILE).project == "from-flag-file"
    assert load_config(environ={"FSENGINE_CONFIG": str(b)}, cwd=NO_FILE).project == "from-env-file"
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(config_file=tmp_path / "missing.toml", environ={}, cwd=NO_FILE)


def test_toml_tables_target_and_unknown_keys(tmp_path):
    _write_toml(
        tmp_path, 'target = "scratch.fs_v2"\n[tables]\n"nba_raw.odds_api_player_points_props" = "raw_copy.odds"\n'
    )
    config = load_config(environ={}, cwd=tmp_path)
    assert config.table_id("nba_raw.odds_api_player_points_props") == "nba-props-platform.raw_copy.odds"
    assert (
        config.table_id("nba_analytics.player_game_summary") == "nba-props-platform.nba_analytics.player_game_summary"
    )
    assert config.target_id == "nba-props-platform.scratch.fs_v2"

    _write_toml(tmp_path, 'projcet = "typo"\n')
    with pytest.raises(ConfigError, match="unknown keys.*projcet"):
        load_config(environ={}, cwd=tmp_path)
    _write_toml(tmp_path, '[tables]\n"nba_raw.nope" = "a.b"\n')
    with pytest.raises(ConfigError, match="nba_raw.nope"):
        load_config(environ={}, cwd=tmp_path)
    _write_toml(tmp_path, '[tables]\n"nba_raw.odds_api_player_points_props" = "bad-dataset.odds"\n')
    with pytest.raises(ConfigError, match="bad-dataset"):
        load_config(environ={}, cwd=tmp_path)
    _write_toml(tmp_path, "project = [1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(environ={}, cwd=tmp_path)


@pytest.mark.parametrize("project", ["my-project", "abcdef", "a" * 30, "example.com:my-project", "p2024-x1"])
def test_valid_projects(project):
    assert validate_project(project) == project


@pytest.mark.parametrize(
    "project", ["short", "a" * 31, "My-Project", "1project", "project-", "my_project", "my project", "", "p`; drop"]
)
def test_invalid_projects_are_named(project):
    with pytest.raises(ConfigError) as raised:
        load_config(project=project, environ={}, cwd=NO_FILE)
    assert repr(project) in str(raised.value)


@given(st.from_regex(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", fullmatch=True))
def test_every_well_formed_project_id_is_accepted(project):
    assert Config(project=project).project == project


@given(st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=60))
def test_dataset_names_of_letters_digits_underscores_are_accepted(name):
    assert validate_dataset(name) == name


@pytest.mark.parametrize("name", ["", "with-dash", "with.dot", "with space", "é", "a" * 1025])
def test_invalid_dataset_names(name):
    with pytest.raises(ConfigError, match="dataset"):
        validate_dataset(name)


@pytest.mark.parametrize("name", ["ml_feature_store_v2", "with-dash", "with space", "données"])
def test_valid_table_names(name):
    assert validate_table(name) == name


@pytest.mark.parametrize("name", ["", "a.b", "tick`", "semi;colon", "quote'", "a" * 1025, "ü" * 600])
def test_invalid_table_names(name):
    with pytest.raises(ConfigError, match="table"):
        validate_table(name)


def test_endpoints_and_anonymous_rules():
    ok = load_config(
        api_endpoint="http://127.0.0.1:9050/",
        storage_endpoint="127.0.0.1:9060",
        anonymous=True,
        environ={},
        cwd=NO_FILE,
    )
    assert ok.api_endpoint == "http://127.0.0.1:9050"
    assert load_config(api_endpoint="https://bq.example.com", environ={}, cwd=NO_FILE).api_endpoint
    assert load_config(storage_endpoint="[::1]:9060", environ={}, cwd=NO_FILE).storage_endpoint == "[::1]:9060"
    assert load_config(storage_endpoint="localhost:9060", environ={}, cwd=NO_FILE)
    with pytest.raises(ConfigError, match="plain-text http is only allowed for a loopback"):
        load_config(api_endpoint="http://10.0.0.5:9050", environ={}, cwd=NO_FILE)
    with pytest.raises(ConfigError, match="only allowed for a loopback"):
        load_config(storage_endpoint="bigquerystorage.example.com:443", environ={}, cwd=NO_FILE)
    with pytest.raises(ConfigError, match="HOST:PORT"):
        load_config(storage_endpoint="127.0.0.1", environ={}, cwd=NO_FILE)
    with pytest.raises(ConfigError, match="expected a URL"):
        load_config(api_endpoint="127.0.0.1:9050", environ={}, cwd=NO_FILE)
    with pytest.raises(ConfigError, match="--anonymous is only allowed together with a custom endpoint"):
        load_config(anonymous=True, environ={}, cwd=NO_FILE)
    with pytest.raises(ConfigError, match="--anonymous is only allowed"):
        load_config(environ={"FSENGINE_ANONYMOUS": "1"}, cwd=NO_FILE)
    # anonymous with only a REST endpoint: the Storage Read client would reach Google itself
    rest_only = load_config(api_endpoint="http://127.0.0.1:9050", anonymous=True, environ={}, cwd=NO_FILE)
    with pytest.raises(ConfigError, match="custom endpoint for every API"):
        read_client(rest_only)
    with pytest.raises(ConfigError, match="FSENGINE_ANONYMOUS"):
        load_config(environ={"FSENGINE_ANONYMOUS": "maybe"}, cwd=NO_FILE)


@pytest.mark.parametrize("value", ["0", "-1", "abc", "100000"])
def test_bad_timeouts(value):
    with pytest.raises(ConfigError, match="FSENGINE_READ_TIMEOUT|read_timeout"):
        load_config(environ={"FSENGINE_READ_TIMEOUT": value}, cwd=NO_FILE)


def test_emulator_clients_are_built_from_config():
    config = load_config(
        environ={
            "FSENGINE_API_ENDPOINT": "http://127.0.0.1:9",
            "FSENGINE_STORAGE_ENDPOINT": "127.0.0.1:10",
            "FSENGINE_ANONYMOUS": "true",
            "FSENGINE_PROJECT": "my-project",
        },
        cwd=NO_FILE,
    )
    client = bigquery_client(config)
    assert client.project == "my-project"
    assert client._connection.API_BASE_URL == "http://127.0.0.1:9"
    assert read_client(config) is not None


def test_missing_adc_is_a_clear_error_and_leaks_no_secret(tmp_path, monkeypatch):
    secret = "SECRET-REFRESH-TOKEN-do-not-print-0123456789"
    bogus = tmp_path / "adc.json"
    bogus.write_text(json.dumps({"type": "service_account", "private_key": secret, "client_email": "x"}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(bogus))
    config = load_config(environ={}, cwd=NO_FILE)
    with pytest.raises(ConfigError) as raised:
        bigquery_client(config)
    assert "Application Default Credentials" in str(raised.value)
    for text in (str(raised.value), repr(raised.value.__cause__), repr(config), config.describe()):
        assert secret not in text
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
