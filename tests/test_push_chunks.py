"""`fsengine push` of several run folders (the parts of `fsengine plan`, each computed by its own
process): one load and one MERGE for all of them, the same rows in the target as the push of one
whole run; folders that overlap, hold different contracts or miss a chunk are refused, named.

Contract: v2_37features, named on the plan and the whole run (the target is the documented
v2_37 table of tests/contract_table.py)."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import subprocess
import sys

import pytest
from bqemu import create_target_table
from contract_table import NOT_EMITTED_SAMPLE, bigquery_fields
from test_push import DATASET, DATES, job_ids, make_rows, read_target, to_table
from typer.testing import CliRunner

from fsengine.cli import app
from fsengine.contracts import load_contract
from fsengine.errors import PushRefused
from fsengine.output.schema import output_schema, write_output
from fsengine.pipeline import BUNDLED_SNAPSHOT, backfill
from fsengine.push import push
from fsengine.push.checks import read_run_rows, run_folders

START, END = dt.date(2025, 11, 10), dt.date(2025, 11, 20)
AS_OF = dt.date(2100, 1, 1)
PARTS = 3
RUN_TIMESTAMPS = ("created_at", "updated_at", "quality_computed_at")


def _fsengine(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fsengine", *args], capture_output=True, text=True, timeout=600)


def test_pushing_the_chunk_folders_of_a_plan_equals_pushing_one_whole_run(tmp_path, bq_emulator, bq_project):
    contract = "v2_37features"  # the documented table below is the v2_37 one
    client = bq_emulator.bigquery_client(bq_project)
    client.create_dataset(DATASET)
    documented = bigquery_fields(extra_after={"opponent_team_abbr": NOT_EMITTED_SAMPLE})
    chunked_target, whole_target = (f"{bq_project}.{DATASET}.{name}" for name in ("from_chunks", "from_whole"))
    for target in (chunked_target, whole_target):
        create_target_table(client, target, documented)

    # The plan's commands, each run as its own process, exactly as printed.
    parent = tmp_path / "out"
    planned = _fsengine(
        "plan",
        "-s",
        str(BUNDLED_SNAPSHOT),
        "--start",
        START.isoformat(),
        "--end",
        END.isoformat(),
        "--chunks",
        str(PARTS),
        "--mode",
        "backfill",
        "--as-of",
        AS_OF.isoformat(),
        "--contract",
        contract,
        "-o",
        str(parent),
        "--json",
    )
    assert planned.returncode == 0, planned.stderr
    parts = json.loads(planned.stdout)
    assert len(parts) == PARTS
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "fsengine", *shlex.split(part["command"])[1:]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for part in parts
    ]
    for process in running:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    assert sorted(p.name for p in parent.iterdir()) == [f"chunk-000{i}-of-000{PARTS}" for i in range(1, PARTS + 1)]

    # Pushing the parent folder of the chunks: one load, one MERGE.
    wire = [
        "--project",
        bq_project,
        "--api-endpoint",
        bq_emulator.rest_url,
        "--storage-endpoint",
        bq_emulator.grpc_target,
        "--anonymous",
        "--dataset",
        DATASET,
    ]
    before = job_ids(client)
    result = CliRunner().invoke(app, ["push", str(parent), *wire, "--table", "from_chunks"])
    assert result.exit_code == 0, result.output
    assert len(job_ids(client) - before) == 2

    # One whole run of the same range, pushed as one folder.
    whole = backfill(tmp_path / "whole", BUNDLED_SNAPSHOT, START, END, mode="backfill", as_of=AS_OF, contract=contract)
    assert whole.rows > 0
    result = CliRunner().invoke(app, ["push", str(tmp_path / "whole"), *wire, "--table", "from_whole"])
    assert result.exit_code == 0, result.output

    def comparable(target):
        stored = read_target(bq_emulator, client, target)
        assert all(len(rows) == 1 for rows in stored.values())
        return {key: {k: v for k, v in rows[0].items() if k not in RUN_TIMESTAMPS} for key, rows in stored.items()}

    from_chunks, from_whole = comparable(chunked_target), comparable(whole_target)
    assert len(from_whole) == whole.rows
    assert len({date for _, date in from_whole}) > PARTS  # every part held dates
    assert from_chunks == from_whole

    # Naming the chunk folders one by one is the same push (the MERGE changes nothing now).
    again = CliRunner().invoke(
        app, ["push", *(str(p) for p in sorted(parent.iterdir())), *wire, "--table", "from_chunks"]
    )
    assert again.exit_code == 0, again.output
    assert "inserted I=0" in again.output
    assert comparable(chunked_target) == from_whole


# --------------------------------------------------------------------------- refusals (no BigQuery)


def _run(tmp_path, name, dates, players_offset=0):
    out = tmp_path / name
    write_output(to_table(make_rows(dates=dates, per_date=5, players_offset=players_offset)), out)
    return out


def test_folders_sharing_a_key_are_refused_naming_both(tmp_path):
    first = _run(tmp_path, "a", DATES[:2])
    second = _run(tmp_path, "b", DATES[1:])
    with pytest.raises(PushRefused) as refused:
        read_run_rows([first, second])
    message = str(refused.value)
    assert "5 keys" in message and f"in {first} and {second}" in message and str(DATES[1]) in message
    # different players on the same date do not overlap
    third = _run(tmp_path, "c", DATES[1:2], players_offset=100)
    assert read_run_rows([first, third]).num_rows == 15


def test_folders_of_different_contracts_are_refused_naming_them(tmp_path):
    ours = _run(tmp_path, "v37", DATES[:1])
    v54 = load_contract("v2_54features")
    other = tmp_path / "v54"
    write_output(output_schema(v54).empty_table(), other, contract=v54)
    with pytest.raises(PushRefused) as refused:
        read_run_rows([ours, other])
    assert f"v2_37features: {ours}" in str(refused.value) and f"v2_54features: {other}" in str(refused.value)


def test_a_folder_of_chunk_folders_must_hold_every_chunk(tmp_path):
    parent = tmp_path / "out"
    _run(parent, "chunk-0001-of-0003", DATES[:1])
    _run(parent, "chunk-0003-of-0003", DATES[2:])
    with pytest.raises(PushRefused, match=r"2 of the 3 chunks .* chunk\(s\) 2 missing"):
        push(parent, client=None, target="fse-chunks.nba_predictions.t")
    # named one by one, a subset is what the user asked for
    assert [f.name for f in run_folders(sorted(parent.iterdir()))] == ["chunk-0001-of-0003", "chunk-0003-of-0003"]
    _run(parent, "chunk-0002-of-0003", DATES[1:2])
    assert read_run_rows(parent).num_rows == 15
    with pytest.raises(PushRefused, match="given twice"):
        run_folders([parent / "chunk-0001-of-0003", parent])
    (tmp_path / "empty").mkdir()
    with pytest.raises(PushRefused, match="neither ml_feature_store_v2/ nor chunk folders"):
        run_folders(tmp_path / "empty")


def test_chunk_folders_are_known_by_their_run_records_whatever_their_names(tmp_path):
    """Cloud Run style folders (chunk-0, chunk-1: the runner's 0-based index) are the chunks of one
    run by the I/N `backfill --chunk` records; an incomplete or mixed set is refused."""
    start, end = dt.date(2025, 11, 10), dt.date(2025, 11, 14)
    parent = tmp_path / "out"
    backfill(parent / "chunk-0", BUNDLED_SNAPSHOT, start, end, mode="backfill", as_of=AS_OF, chunk=(1, 2))
    with pytest.raises(PushRefused, match=r"1 of the 2 chunks of its run; chunk\(s\) 2 missing"):
        run_folders(parent)
    backfill(parent / "chunk-1", BUNDLED_SNAPSHOT, start, end, mode="backfill", as_of=AS_OF, chunk=(2, 2))
    whole = backfill(tmp_path / "whole", BUNDLED_SNAPSHOT, start, end, mode="backfill", as_of=AS_OF)
    together = (
        read_run_rows(parent)
        .drop(list(RUN_TIMESTAMPS))
        .sort_by([("game_date", "ascending"), ("player_lookup", "ascending")])
    )
    alone = (
        read_run_rows(tmp_path / "whole")
        .drop(list(RUN_TIMESTAMPS))
        .sort_by([("game_date", "ascending"), ("player_lookup", "ascending")])
    )
    assert together.num_rows == whole.rows > 0 and together.equals(alone)
    # a part of another run (another --as-of) in the same parent
    backfill(parent / "chunk-1", BUNDLED_SNAPSHOT, start, end, mode="backfill", as_of=dt.date(2099, 1, 1), chunk=(2, 2))
    with pytest.raises(PushRefused, match="come from different runs"):
        run_folders(parent)
