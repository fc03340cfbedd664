"""A password in an endpoint URL (user:password@host) is never echoed back."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fsengine.config import ConfigError, load_config, redact_url

SECRET = "hunter2-s3cret"


@pytest.mark.parametrize(
    "url",
    [
        f"https://alice:{SECRET}@bigquery.example.com",
        f"http://alice:{SECRET}@127.0.0.1:9050",
        f"http://alice:{SECRET}@127.0.0.1:9050/some/path",
        f"ftp://alice:{SECRET}@127.0.0.1",
        f"https://alice:{SECRET}@",
        f"alice:{SECRET}@127.0.0.1:9050",
    ],
)
def test_api_endpoint_errors_never_show_the_password(url):
    with pytest.raises(ConfigError) as raised:
        load_config(project="fse-test-redact", api_endpoint=url, environ={}, cwd="/nonexistent")
    assert SECRET not in str(raised.value)
    assert "***@" in str(raised.value)


def test_storage_endpoint_errors_never_show_the_password():
    with pytest.raises(ConfigError) as raised:
        load_config(
            project="fse-test-redact", storage_endpoint=f"alice:{SECRET}@127.0.0.1:9060", environ={}, cwd="/nonexistent"
        )
    assert SECRET not in str(raised.value)


def test_the_environment_is_redacted_too():
    with pytest.raises(ConfigError) as raised:
        load_config(
            project="fse-test-redact",
            environ={"FSENGINE_API_ENDPOINT": f"https://bob:{SECRET}@example.com"},
            cwd="/nonexistent",
        )
    assert SECRET not in str(raised.value)


def test_the_cli_never_echoes_the_password(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fsengine",
            "snapshot",
            "--start",
            "2025-11-04",
            "--end",
            "2025-11-05",
            "--out",
            str(tmp_path / "snap"),
            "--api-endpoint",
            f"http://alice:{SECRET}@127.0.0.1:9",
            "--anonymous",
            "--project",
            "fse-test-redact",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert done.returncode == 2
    assert SECRET not in done.stdout + done.stderr
    assert "***@" in done.stderr


def test_redact_url_keeps_everything_but_the_userinfo():
    assert redact_url("https://u:p@host:1") == "https://***@host:1"
    assert redact_url("u:p@127.0.0.1:9") == "***@127.0.0.1:9"
    assert redact_url("http://127.0.0.1:9050") == "http://127.0.0.1:9050"
    assert redact_url("127.0.0.1:9060") == "127.0.0.1:9060"
