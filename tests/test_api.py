"""The library API: fsengine.backfill / snapshot / push / run called from Python, each returning
its report. The BigQuery ones run against the emulator (tests/bqemu.py) like the CLI tests do."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_bq_snapshot import load_world
from test_push import DATASET, DATES, TABLE, count_rows, create_target, job_ids, make_rows, write_run

import fsengine
from fsengine.errors import FsengineError, InputError, PushRefused
from fsengine.output.schema import read_output
from fsengine.pipeline import BUNDLED_SNAPSHOT, BackfillReport, RunReport
from fsengine.snapshot.format import Snapshot
from fsengine.snapshot.sources import TABLES

START, END = dt.date(2025, 11, 10), dt.date(2025, 11, 12)


def test_import_is_cheap_and_the_four_names_are_the_functions():
    code = (
        "import sys, fsengine\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('duckdb', 'polars', 'pyarrow', 'google')]\n"
        "assert not heavy, heavy\n"
        # importing the subpackages of the same names must not hide the functions
        "import fsengine.push.merge, fsengine.snapshot.read\n"
        "from fsengine import snapshot\n"
        "assert all(callable(getattr(fsengine, n)) and type(getattr(fsengine, n)).__name__ == 'function'\n"
        "           for n in ('backfill', 'snapshot', 'push', 'run')), [fsengine.push, fsengine.snapshot]\n"
        "assert snapshot is fsengine.snapshot\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_backfill_returns_its_report(tmp_path):
    report = fsengine.backfill(tmp_path / "out", BUNDLED_SNAPSHOT, START, END, mode=fsengine.Mode.BACKFILL)
    assert isinstance(report, BackfillReport)
    rows = read_output(tmp_path / "out")
    assert report.rows == rows.num_rows > 0
    assert sorted(report.rows_per_date) == sorted(set(rows.column("game_date").to_pylist()))
    assert (report.start, report.end) == (START, END)
    assert "q06_last10" in report.timings


def test_backfill_refuses_bad_arguments_before_any_work(tmp_path):
    afile = tmp_path / "file"
    afile.write_text("")
    for kwargs, fragment in (
        (dict(out=afile), "not a folder"),
        (dict(out=""), "empty"),
        (dict(out=tmp_path / "o", mode="sometimes"), "--mode 'sometimes'"),
        (dict(out=tmp_path / "o", start=dt.date(1, 1, 1)), "first NBA game"),
    ):
        # a snapshot that does not exist: the argument is refused before it is looked at
        with pytest.raises(InputError, match=fragment) as raised:
            fsengine.backfill(snapshot_path=tmp_path / "nowhere", **kwargs)
        assert raised.value.exit_code == 2
    assert not (tmp_path / "o").exists()


def test_push_returns_its_report(bq_emulator, bq_project, tmp_path):
    client = bq_emulator.bigquery_client(bq_project)
    client.create_dataset(DATASET)
    target = f"{bq_project}.{DATASET}.{TABLE}"
    create_target(client, target)
    out = write_run(tmp_path, make_rows(dates=DATES[:2], per_date=10))
    # push reads the stored rows through the Storage Read API before any job: both endpoints
    settings = dict(
        project=bq_project,
        api_endpoint=bq_emulator.rest_url,
        storage_endpoint=bq_emulator.grpc_target,
        anonymous=True,
        environ={},
        cwd=tmp_path,
    )

    before = job_ids(client)
    dry = fsengine.push(out, dry_run=True, **settings)
    assert isinstance(dry, fsengine.PushReport) and dry.dry_run and dry.rows == 20
    assert job_ids(client) == before and count_rows(client, target) == 0

    report = fsengine.push(out, **settings)
    assert (report.target, report.inserted, report.updated, report.deleted) == (target, 20, 0, 0)
    assert count_rows(client, target) == 20
    with pytest.raises(PushRefused):
        fsengine.push(out, table="no_such_table", **settings)


@pytest.fixture(scope="module")
def fixture_world(bq_emulator):
    """The bundled fixture snapshot served by the emulator, in its own project."""
    project = "fse-api-world"
    client = bq_emulator.bigquery_client(project)
    world = {}
    for key, held in Snapshot.open(BUNDLED_SNAPSHOT).tables.items():
        required = {c.name for c in TABLES[key].columns if not c.nullable}
        fields = [(name, bq_type, name in required, None, None) for name, bq_type in held.column_types.items()]
        world[key] = (pa.concat_tables([pq.read_table(f) for f in held.files]), fields)
    load_world(client, project, world)
    client.create_dataset(f"{project}.{DATASET}", exists_ok=True)
    create_target(client, f"{project}.{DATASET}.{TABLE}")
    return project


def test_run_then_snapshot_return_their_reports(bq_emulator, fixture_world, tmp_path):
    project = fixture_world
    settings = dict(
        project=project,
        api_endpoint=bq_emulator.rest_url,
        storage_endpoint=bq_emulator.grpc_target,
        anonymous=True,
        environ={},
        cwd=tmp_path,
    )
    stages = []
    # the target is the v2_37features table (tests/contract_table.py): the run computes that contract
    report = fsengine.run(
        START,
        END,
        snapshot_dir=tmp_path / "snap",
        out=tmp_path / "out",
        mode="backfill",
        on_stage=stages.append,
        contract="v2_37features",
        **settings,
    )
    assert isinstance(report, RunReport)
    assert stages == [report.snapshot, report.backfill]  # each stage reported as soon as it was done
    assert not report.snapshot.reused and report.snapshot.rows > 0
    assert report.backfill.rows == report.push.rows == report.push.inserted > 0
    client = bq_emulator.bigquery_client(project)
    assert count_rows(client, f"{project}.{DATASET}.{TABLE}") == report.backfill.rows

    again = fsengine.snapshot(tmp_path / "snap", START, END, **settings)
    assert again.reused and again.out == tmp_path / "snap"
    with pytest.raises(FsengineError) as raised:
        fsengine.snapshot(tmp_path / "snap", END, START, **settings)
    assert raised.value.exit_code == 2
