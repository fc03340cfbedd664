"""The settings of every BigQuery call, in one place: project, dataset and table names,
endpoints, whether to use credentials, and timeouts. The clients themselves are built from a
Config by fsengine.bigquery.clients.

Precedence: command-line flags > environment > `fsengine.toml` > built-in defaults. The
defaults are production: project `nba-props-platform`, the nine source tables of
`fsengine.snapshot.sources`, target `nba_predictions.ml_feature_store_v2`, Google's endpoints and
Application Default Credentials. Tests and local runs point the same code at an emulator with
`--api-endpoint`, `--storage-endpoint` and `--anonymous`.

Environment variables: FSENGINE_CONFIG (toml path), FSENGINE_PROJECT, FSENGINE_LOCATION,
FSENGINE_API_ENDPOINT, FSENGINE_STORAGE_ENDPOINT, FSENGINE_ANONYMOUS (1/0),
FSENGINE_CALL_TIMEOUT, FSENGINE_JOB_TIMEOUT, FSENGINE_READ_TIMEOUT (seconds).

`fsengine.toml` (all keys optional; unknown keys are an error, so typos do not pass silently):

    project = "nba-props-platform"
    location = "US"
    api_endpoint = "http://127.0.0.1:9050"      # REST; http:// only for a loopback host
    storage_endpoint = "127.0.0.1:9060"         # gRPC Storage Read, plain text, loopback only
    anonymous = true                            # only together with a custom endpoint
    call_timeout = 60                           # seconds per API call
    job_timeout = 900                           # seconds per BigQuery job (load, MERGE, query)
    read_timeout = 1800                         # seconds per Storage Read stream attempt
    target = "nba_predictions.ml_feature_store_v2"
    [tables]                                    # source table -> dataset.table actually read
    "nba_raw.odds_api_player_points_props" = "nba_raw_test.odds_api_player_points_props"

Credentials are never stored in a Config and never printed.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from fsengine.bigquery.tables import TableId, validate_dataset, validate_project, validate_table  # noqa: F401 (re-exported)
from fsengine.errors import ConfigError  # noqa: F401 (re-exported: raised for every bad setting)
from fsengine.snapshot.sources import SOURCE_TABLES

DEFAULT_PROJECT = "nba-props-platform"
DEFAULT_TARGET = "nba_predictions.ml_feature_store_v2"
DEFAULT_CALL_TIMEOUT = 60.0
DEFAULT_JOB_TIMEOUT = 900.0
DEFAULT_READ_TIMEOUT = 1800.0
CONFIG_FILE_NAME = "fsengine.toml"

_TOML_KEYS = {
    "project",
    "location",
    "api_endpoint",
    "storage_endpoint",
    "anonymous",
    "call_timeout",
    "job_timeout",
    "read_timeout",
    "target",
    "tables",
}


# --------------------------------------------------------------------------- endpoints


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact_url(text: str | None) -> str:
    """`text` with any userinfo (user:password@) of a URL or HOST:PORT replaced by `***@`,
    for every message that shows an endpoint."""
    if text is None:
        return ""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)?[^/@\s]*@", lambda m: f"{m.group(1) or ''}***@", str(text))


def validate_api_endpoint(url: str) -> str:
    """REST endpoint URL. https anywhere; http (plain text) only for a loopback host."""
    shown = repr(redact_url(url)) if isinstance(url, str) else repr(url)
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except (ValueError, TypeError, AttributeError):
        raise ConfigError(
            f"--api-endpoint {shown}: expected a URL such as https://host or http://127.0.0.1:PORT"
        ) from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise ConfigError(f"--api-endpoint {shown}: expected a URL such as https://host or http://127.0.0.1:PORT")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            f"--api-endpoint {shown}: credentials do not belong in the URL (give only scheme, host "
            "and port; credentials come from Application Default Credentials)"
        )
    if parts.scheme == "http" and not is_loopback(hostname):
        raise ConfigError(
            f"--api-endpoint {shown}: plain-text http is only allowed for a loopback address "
            "(127.0.0.1, ::1, localhost); use https"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"--api-endpoint {shown}: give only scheme, host and port")
    return url.rstrip("/")


def parse_storage_endpoint(text: str) -> tuple[str, int]:
    """gRPC Storage Read endpoint HOST:PORT; it is spoken in plain text, so loopback only."""
    match = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[^:\[\]]+):(\d{1,5})", text or "")
    if not match or not 0 < int(match[2]) < 65536:
        raise ConfigError(f"--storage-endpoint {redact_url(text)!r}: expected HOST:PORT, e.g. 127.0.0.1:9060")
    host = match[1]
    if not is_loopback(host):
        raise ConfigError(
            f"--storage-endpoint {redact_url(text)!r}: a custom Storage Read endpoint is spoken in plain text and is "
            "only allowed for a loopback address (127.0.0.1, ::1, localhost); leave it unset for BigQuery"
        )
    return host, int(match[2])


# --------------------------------------------------------------------------- the config


def _default_tables() -> Mapping[str, TableId]:
    return MappingProxyType({t.key: TableId(None, t.dataset, t.table) for t in SOURCE_TABLES})


@dataclass(frozen=True)
class Config:
    project: str = DEFAULT_PROJECT
    location: str | None = None
    api_endpoint: str | None = None
    storage_endpoint: str | None = None
    anonymous: bool = False
    call_timeout: float = DEFAULT_CALL_TIMEOUT
    job_timeout: float = DEFAULT_JOB_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    tables: Mapping[str, TableId] = field(default_factory=_default_tables)
    target: TableId = field(default_factory=lambda: TableId.parse(DEFAULT_TARGET, "target", with_project=False))

    def __post_init__(self) -> None:
        validate_project(self.project)
        if self.location is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,64}", self.location):
            raise ConfigError(f"location {self.location!r} is not a BigQuery location such as US or europe-west1")
        if self.api_endpoint is not None:
            object.__setattr__(self, "api_endpoint", validate_api_endpoint(self.api_endpoint))
        if self.storage_endpoint is not None:
            parse_storage_endpoint(self.storage_endpoint)
        if self.anonymous and self.api_endpoint is None and self.storage_endpoint is None:
            raise ConfigError(
                "--anonymous is only allowed together with a custom endpoint (--api-endpoint and/or "
                "--storage-endpoint); BigQuery itself needs credentials"
            )
        for name in ("call_timeout", "job_timeout", "read_timeout"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 86_400:
                raise ConfigError(f"{name} {value!r}: expected a number of seconds in (0, 86400]")
        unknown = set(self.tables) - {t.key for t in SOURCE_TABLES}
        missing = {t.key for t in SOURCE_TABLES} - set(self.tables)
        if unknown or missing:
            raise ConfigError(
                f"tables: unknown source tables {sorted(unknown)}, missing {sorted(missing)} "
                f"(known: {[t.key for t in SOURCE_TABLES]})"
            )
        object.__setattr__(self, "tables", MappingProxyType(dict(self.tables)))

    # -- names
    def table_id(self, source_key: str) -> str:
        """Fully qualified `project.dataset.table` read for a source table key."""
        return f"{self.project}.{self.tables[source_key]}"

    @property
    def target_id(self) -> str:
        return f"{self.project}.{self.target}"

    def describe(self) -> str:
        """One line for logs (no credentials exist in a Config, so none can leak)."""
        return (
            f"project={self.project} api={self.api_endpoint or 'BigQuery'} "
            f"storage={self.storage_endpoint or 'BigQuery'} "
            f"credentials={'anonymous' if self.anonymous else 'application default'}"
        )


def _float(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} {value!r}: expected a number of seconds") from None


def _bool(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{what} {value!r}: expected 1/0, true/false")


def read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    unknown = set(data) - _TOML_KEYS
    if unknown:
        raise ConfigError(f"config file {path}: unknown keys {sorted(unknown)} (known: {sorted(_TOML_KEYS)})")
    return data


def load_config(
    *,
    project: str | None = None,
    location: str | None = None,
    api_endpoint: str | None = None,
    storage_endpoint: str | None = None,
    anonymous: bool | None = None,
    call_timeout: float | None = None,
    job_timeout: float | None = None,
    read_timeout: float | None = None,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> Config:
    """Build the Config from flags (the keyword arguments; None = not given), the environment,
    the toml file (`config_file`, else $FSENGINE_CONFIG, else ./fsengine.toml if present) and
    the defaults, in that order of precedence."""
    env = os.environ if environ is None else environ
    file_path = config_file or env.get("FSENGINE_CONFIG")
    if file_path is not None:
        file_path = Path(file_path)
        if not file_path.is_file():
            raise ConfigError(f"config file {file_path} does not exist")
    else:
        candidate = Path(cwd or Path.cwd()) / CONFIG_FILE_NAME
        file_path = candidate if candidate.is_file() else None
    toml = read_toml(file_path) if file_path else {}
    where = f"config file {file_path}" if file_path else ""

    def pick(flag: Any, env_name: str, key: str) -> tuple[Any, str]:
        if flag is not None:
            return flag, "flag"
        if env.get(env_name) not in (None, ""):
            return env[env_name], f"${env_name}"
        if key in toml:
            return toml[key], f"{where}: {key}"
        return None, ""

    values: dict[str, Any] = {}
    for key, flag, env_name in (
        ("project", project, "FSENGINE_PROJECT"),
        ("location", location, "FSENGINE_LOCATION"),
        ("api_endpoint", api_endpoint, "FSENGINE_API_ENDPOINT"),
        ("storage_endpoint", storage_endpoint, "FSENGINE_STORAGE_ENDPOINT"),
    ):
        value, source = pick(flag, env_name, key)
        if value is not None:
            if not isinstance(value, str):
                raise ConfigError(f"{source}: {key} must be a string, got {value!r}")
            values[key] = value
    value, source = pick(anonymous, "FSENGINE_ANONYMOUS", "anonymous")
    if value is not None:
        values["anonymous"] = _bool(value, source)
    timeouts: tuple[tuple[str, float | None, str], ...] = (
        ("call_timeout", call_timeout, "FSENGINE_CALL_TIMEOUT"),
        ("job_timeout", job_timeout, "FSENGINE_JOB_TIMEOUT"),
        ("read_timeout", read_timeout, "FSENGINE_READ_TIMEOUT"),
    )
    for key, timeout_flag, env_name in timeouts:
        timeout_value, source = pick(timeout_flag, env_name, key)
        if timeout_value is not None:
            values[key] = _float(timeout_value, source)
    if "target" in toml:
        values["target"] = TableId.parse(toml["target"], f"{where}: target", with_project=False)
    if "tables" in toml:
        overrides = toml["tables"]
        if not isinstance(overrides, dict):
            raise ConfigError(f'{where}: [tables] must be a table of "<dataset>.<table>" = "<dataset>.<table>"')
        tables = dict(_default_tables())
        for key, text in overrides.items():
            if key not in tables:
                raise ConfigError(f"{where}: [tables] names unknown source table {key!r} (known: {sorted(tables)})")
            tables[key] = TableId.parse(text, f"{where}: [tables] {key}", with_project=False)
        values["tables"] = tables
    return Config(**values)


def with_overrides(config: Config, **changes: Any) -> Config:
    """A copy of config with some fields changed (validated again)."""
    return replace(config, **changes)
