"""Shared pytest fixtures. BigQuery: one `local-bigquery` emulator per test session (tests/bqemu.py).

Tests that use `bq_emulator` are marked `bigquery` automatically; deselect them with
`pytest -m "not bigquery"`. Each test should work in its own project (`bq_project`): the
emulator keeps projects apart, so tests never see each other's datasets.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bqemu import Emulator  # noqa: E402

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
