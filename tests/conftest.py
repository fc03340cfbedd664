"""Shared pytest fixtures. BigQuery: one `local-bigquery` emulator per test session (tests/bqemu.py).

Tests that use `bq_emulator` are marked `bigquery` automatically; deselect them with
`pytest -m "not bigquery"`. Each test should work in its own project (`bq_project`): the
emulator keeps projects apart, so tests never see each other's datasets.

Hypothesis profiles (loaded here, before any test module builds its @settings): "ci" when the
environment variable CI is set — derandomized, so every CI run draws the same examples and a
failure reproduces with the same command; no deadline (2 shared cores); the failing example's
reproduction blob printed — and "dev" otherwise (random draws, the example database, blob
printed too). `pytest --hypothesis-profile=ci` picks one explicitly.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bqemu import Emulator  # noqa: E402
from ci_env import running_in_ci  # noqa: E402

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True, database=None)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if running_in_ci() else "dev")

_project_numbers = itertools.count(1)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "bigquery: talks to the local-bigquery emulator (built under .venv-bqemu/ on first use)"
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "bq_emulator" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.bigquery)


@pytest.fixture(scope="session")
def bq_emulator():
    """The running emulator: `.rest_url`, `.grpc_target` ("127.0.0.1:PORT"), `.project`,
    `.bigquery_client(project=None)`, `.read_client(interceptors=None)`."""
    emulator = Emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def bq_project(bq_emulator) -> str:
    """A project id no other test in this session uses (datasets live per project)."""
    return f"fse-test-{next(_project_numbers):05d}"
