"""`fsengine snapshot` against endpoints that do not answer: a closed loopback port, a TCP server
that accepts and never answers, and a Storage server that goes silent or dies in the middle of
a read. Every call honours --call-timeout / --read-timeout (the client library's default retry
would go on for 600 s) and the error names the endpoint.

The silent/dying server is a real loopback TCP relay in front of the emulator's gRPC port,
switched off when the first ReadRows call goes out.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time

import pytest
from netfaults import Relay, SilentServer, closed_port

from fsengine.bigquery.clients import read_client as make_read_client
from fsengine.config import load_config
from fsengine.errors import Unreachable
from fsengine.snapshot.read import take_snapshot

START, END = dt.date(2025, 11, 4), dt.date(2025, 11, 5)


def _cli_snapshot(tmp_path, api: str, storage: str, call_timeout: float, read_timeout: float):
    began = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fsengine",
            "snapshot",
            "--start",
            START.isoformat(),
            "--end",
            END.isoformat(),
            "--out",
            str(tmp_path / "snap"),
            "--api-endpoint",
            api,
            "--storage-endpoint",
            storage,
            "--anonymous",
            "--project",
            "fse-timeouts",
            "--call-timeout",
            str(call_timeout),
            "--read-timeout",
            str(read_timeout),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300"},
    )
    return done, time.monotonic() - began


# Interpreter start and imports take a few seconds on a loaded 2-core machine.
STARTUP = 15.0


@pytest.mark.parametrize("kind", ["closed", "silent"])
def test_an_unreachable_api_endpoint_fails_within_the_call_timeout(tmp_path, kind):
    server = SilentServer() if kind == "silent" else None
    port = server.port if server else closed_port()
    try:
        done, took = _cli_snapshot(tmp_path, f"http://127.0.0.1:{port}", f"127.0.0.1:{port}", 2, 4)
    finally:
        if server:
            server.close()
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert f"127.0.0.1:{port}" in done.stderr.replace("\n", "")
    assert took < 3 * 2 + STARTUP
    assert not (tmp_path / "snap").exists()


def _bounded(seconds: float, fn):
    """fn() in a thread; fails (instead of hanging the suite) if it runs longer than `seconds`."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            result["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds:g} s"
    if "error" in result:
        raise result["error"]
    return result.get("value")


def _config(emu, storage: str, **timeouts):
    return load_config(
        project="fse-timeouts",
        api_endpoint=emu.rest_url,
        storage_endpoint=storage,
        anonymous=True,
        environ={},
        cwd="/nonexistent",
        **timeouts,
    )


def _load_one_table_world(emu, project):
    from test_bq_snapshot import build_world, load_world

    world = build_world(seed=5, odds_rows=2000)
    load_world(emu.bigquery_client(project), project, world)


@pytest.fixture(scope="module")
def timeouts_world(bq_emulator):
    _load_one_table_world(bq_emulator, "fse-timeouts")
    return bq_emulator


@pytest.mark.parametrize("kind", ["closed", "silent"])
def test_an_unreachable_storage_endpoint_fails_within_the_call_timeout(timeouts_world, tmp_path, kind):
    server = SilentServer() if kind == "silent" else None
    port = server.port if server else closed_port()
    config = _config(timeouts_world, f"127.0.0.1:{port}", call_timeout=1.5, read_timeout=4)
    began = time.monotonic()
    try:
        with pytest.raises(Unreachable) as raised:
            _bounded(30, lambda: take_snapshot(config, START, END, tmp_path / "snap"))
    finally:
        if server:
            server.close()
    took = time.monotonic() - began
    assert f"Storage Read endpoint 127.0.0.1:{port}" in str(raised.value)
    assert "call timeout of 1.5 s" in str(raised.value)
    assert took < 2 * 1.5 + 5  # the live-schema calls to the emulator come first
    assert not (tmp_path / "snap").exists() and list(tmp_path.iterdir()) == []


def _first_read_trips(action):
    import grpc

    class Trip(grpc.UnaryStreamClientInterceptor):
        def intercept_unary_stream(self, continuation, details, request):
            if details.method.endswith("ReadRows"):
                action()
            return continuation(details, request)

    return Trip()


@pytest.mark.parametrize("how", ["silence", "kill"])
def test_a_storage_server_that_goes_silent_or_dies_mid_read_fails_within_the_timeouts(timeouts_world, tmp_path, how):
    relay = Relay(int(timeouts_world.grpc_target.rsplit(":", 1)[1]))
    config = _config(timeouts_world, f"127.0.0.1:{relay.port}", call_timeout=1, read_timeout=3)
    client = make_read_client(config, interceptors=[_first_read_trips(getattr(relay, how))])
    began = time.monotonic()
    try:
        with pytest.raises(Unreachable) as raised:
            _bounded(
                40, lambda: take_snapshot(config, START, END, tmp_path / "snap", read_client=client, max_streams=2)
            )
    finally:
        relay.kill()
        client.transport.close()
    took = time.monotonic() - began
    assert f"Storage Read endpoint 127.0.0.1:{relay.port}" in str(raised.value)
    assert took < 3 + 8 + 5, (took, str(raised.value))  # read timeout + one back-off + the schema calls
    assert not (tmp_path / "snap").exists() and list(tmp_path.iterdir()) == []


def test_the_cli_names_the_storage_endpoint_and_ends_in_time(timeouts_world, tmp_path):
    server = SilentServer()
    try:
        done, took = _cli_snapshot(tmp_path, timeouts_world.rest_url, f"127.0.0.1:{server.port}", 1.5, 4)
    finally:
        server.close()
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"127.0.0.1:{server.port}" in done.stderr.replace("\n", "")
    assert took < 2 * 1.5 + STARTUP + 10
