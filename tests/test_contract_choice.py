"""Choosing a contract from the command line (README "Contracts", decision D54-1): the default
is v2_54features; a format-1 snapshot is refused for it with a message naming what it lacks and
`--contract v2_37features`; `push --contract` refuses rows of the other contract before any
call; `report` and `explain` take the contract from the output they are given (its run record,
else its columns)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from fsengine.cli import app
from fsengine.contracts import load_contract
from fsengine.output.schema import RUN_RECORD, output_dir, read_output
from fsengine.pipeline import BUNDLED_SNAPSHOT
from fsengine.snapshot.format import Snapshot, write_snapshot
from fsengine.snapshot.sources import TABLES, columns_for

V37, V54 = "v2_37features", "v2_54features"
INJURY = "nba_raw.nbac_injury_report"
ACCURACY = "nba_predictions.prediction_accuracy"
DAY = dt.date(2025, 11, 20)
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def said(result) -> str:
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def format1(tmp_path_factory) -> Path:
    """A format-1 snapshot as round 1 wrote them: the bundled fixture's v2_37 tables and
    columns only, manifest format 1 without `contracts`."""
    source = Snapshot.open(BUNDLED_SNAPSHOT, contract=V37, verify_checksums=False)
    tables, bounds = {}, {}
    for key, held in source.tables.items():
        tables[key] = pa.concat_tables(pq.read_table(f) for f in held.files).select(columns_for(TABLES[key], [V37]))
        bounds[key] = (held.start, held.end)
    folder = write_snapshot(
        tmp_path_factory.mktemp("f1") / "snap",
        tables,
        bounds,
        snapshot_time=dt.datetime(2025, 12, 1, 6, tzinfo=dt.UTC),
        contracts=[V37],
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["contracts"]
    manifest["format"] = 1
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder


@pytest.fixture(scope="module")
def out54(tmp_path_factory) -> Path:
    """The default backfill (no --contract) of one date of the bundled fixture."""
    out = tmp_path_factory.mktemp("o54") / "out"
    result = invoke("backfill", "--out", out, "--start", DAY, "--end", DAY, "--mode", "backfill")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def out37(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("o37") / "out"
    result = invoke("backfill", "--out", out, "--start", DAY, "--end", DAY, "--mode", "backfill", "--contract", V37)
    assert result.exit_code == 0, result.output
    return out


# --------------------------------------------------------------------------- format 1 and the default


def test_a_format_1_snapshot_is_refused_for_the_default_contract(format1, tmp_path):
    result = invoke("backfill", "--snapshot", format1, "--out", tmp_path / "o")
    assert result.exit_code == 2, result.output
    text = said(result)
    assert f"snapshot {format1} was taken for contracts [{V37}]" in text
    assert f"contract {V54} also needs tables {INJURY}, {ACCURACY}" in text
    assert "more columns (e.g. nba_analytics.player_game_summary." in text
    assert f"--contract {V37}" in text
    assert not (tmp_path / "o").exists()  # no output, not even an empty folder


def test_plan_refuses_a_format_1_snapshot_for_v2_54features(format1, tmp_path):
    result = invoke("plan", "--chunks", 2, "--snapshot", format1, "--out", tmp_path)
    assert result.exit_code == 2, result.output
    assert f"--contract {V37}" in said(result) and "fsengine backfill" not in result.output


def test_the_same_format_1_snapshot_serves_v2_37features(format1, tmp_path):
    result = invoke(
        "backfill", "--snapshot", format1, "--out", tmp_path / "o", "--start", DAY, "--end", DAY, "--contract", V37
    )
    assert result.exit_code == 0, result.output
    rows = read_output(tmp_path / "o")
    assert rows.num_rows > 0 and len(rows.column("features")[0]) == 37


def test_a_previous_output_survives_the_refusal(format1, out54, tmp_path):
    import shutil

    out = tmp_path / "o"
    shutil.copytree(out54, out)
    before = read_output(out)
    result = invoke("backfill", "--snapshot", format1, "--out", out, "--start", DAY, "--end", DAY)
    assert result.exit_code == 2
    assert read_output(out).equals(before)


def test_default_run_is_v2_54features(out54):
    rows = read_output(out54)
    assert rows.num_columns == 251 and len(rows.column("features")[0]) == 60
    assert json.loads((out54 / RUN_RECORD).read_text())["contract"] == V54
    assert set(rows.column("feature_version").to_pylist()) == {V54}


def test_plan_passes_the_contract_to_every_part(tmp_path):
    result = invoke("plan", "--chunks", 2, "--out", tmp_path, "--as-of", "2025-11-20")
    assert result.exit_code == 0, result.output
    commands = [line for line in result.output.splitlines() if line.startswith("fsengine backfill")]
    assert len(commands) == 2 and all(f"--contract {V54}" in c for c in commands)
    result = invoke("plan", "--chunks", 2, "--out", tmp_path, "--as-of", "2025-11-20", "--contract", V37)
    assert all(f"--contract {V37}" in c for c in result.output.splitlines() if c.startswith("fsengine backfill"))


# --------------------------------------------------------------------------- push / run


CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: a call that were sent would fail differently


def test_push_contract_refuses_rows_of_the_other_contract_before_any_call(out37, out54):
    for out, asked, held in ((out37, V54, V37), (out54, V37, V54)):
        result = invoke(
            "push",
            out,
            "--contract",
            asked,
            "--dry-run",
            "--project",
            "fsengine-test",
            "--anonymous",
            "--api-endpoint",
            CLOSED_PORT,
            "--storage-endpoint",
            "127.0.0.1:9",
            "--call-timeout",
            "2",
        )
        assert result.exit_code == 2, result.output
        text = said(result)
        assert f"{output_dir(out)} holds rows of contract {held}" in text
        assert f"not of contract {asked}" in text and f"--contract {held}" in text
        assert "cannot read the schema" not in text  # refused before the first call


def test_push_contract_of_the_rows_passes_the_check(out54):
    """The check passes and the push goes on to the target (here: nobody listens, so it fails
    later, on the metadata call, with another message)."""
    result = invoke(
        "push",
        out54,
        "--contract",
        V54,
        "--dry-run",
        "--project",
        "fsengine-test",
        "--anonymous",
        "--api-endpoint",
        CLOSED_PORT,
        "--storage-endpoint",
        "127.0.0.1:9",
        "--call-timeout",
        "2",
    )
    assert "holds rows of contract" not in said(result)
    assert result.exit_code == 2 and "cannot read the schema of target fsengine-test.nba_predictions" in said(result)


def test_unknown_contract_is_refused_by_run_before_any_call(tmp_path):
    result = invoke(
        "run",
        "--start",
        "2025-11-20",
        "--end",
        "2025-11-20",
        "--contract",
        "v9",
        "--project",
        "fsengine-test",
        "--anonymous",
        "--api-endpoint",
        CLOSED_PORT,
        "--storage-endpoint",
        "127.0.0.1:9",
        "--snapshot",
        tmp_path / "s",
        "--out",
        tmp_path / "o",
    )
    assert result.exit_code == 2, result.output
    assert "unknown contract 'v9'" in said(result)
    assert not (tmp_path / "s").exists() and not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- report / explain


@pytest.mark.parametrize("without_record", [False, True])
def test_report_reads_the_contract_from_the_output(out54, tmp_path, without_record):
    import shutil

    from fsengine.diagnose.report import build_report

    out = tmp_path / "o"
    shutil.copytree(out54, out)
    if without_record:  # an output without run record: the columns say which contract
        (out / RUN_RECORD).unlink()
        (output_dir(out) / RUN_RECORD).unlink()
    report = build_report(out)
    assert report.contract == V54 and len(report.features) == 60
    rows = [r for r in read_output(out).to_pylist() if not r["early_season_flag"]]
    assert report.scored_rows == len(rows)
    for f in report.features:  # recounted from the stored default_feature_indices
        assert f.rows == sum(f.index in (r["default_feature_indices"] or []) for r in rows), f.index
    assert sum(f.rows for f in report.features[37:]) > 0  # the new features are counted too
    result = invoke("report", out)
    assert result.exit_code == 0, result.output
    assert f"of {len(report.features)} defaulted" in said(result)


def test_explain_shows_every_v2_54_feature_with_its_stored_value_tag_and_quality(out54):
    from fsengine.diagnose.explain import explain

    rows = read_output(out54).to_pylist()
    contract = load_contract(V54)
    for row in rows[:: max(1, len(rows) // 4)]:
        result = explain(out54, row["player_lookup"], row["game_date"])
        tags = json.loads(row["feature_sources_json"])
        assert [f.name for f in result.features] == contract.names
        assert [f.value for f in result.features] == row["features"]
        assert [f.tag for f in result.features] == [tags[str(i)] for i in range(60)]
        assert [f.quality for f in result.features] == [row[f"feature_{i}_quality"] for i in range(60)]
        for f in result.features[37:]:
            assert f.inputs == ("no evidence query for this feature",)
        assert all(f.inputs and f.inputs != ("no evidence query for this feature",) for f in result.features[:37])


def test_explain_cli_prints_features_37_to_59(out54):
    row = read_output(out54).slice(0, 1).to_pylist()[0]
    result = runner.invoke(
        app, ["explain", row["player_lookup"], row["game_date"].isoformat(), "--out", str(out54)], terminal_width=220
    )
    assert result.exit_code == 0, result.output
    contract = load_contract(V54)
    for index in (37, 50, 59):
        assert re.search(rf"\b{index}\b.*{contract.features[index].name}", result.output), index
    assert "no evidence query for this feature" in result.output


def test_push_contract_of_the_rows_lands_them(bq_emulator, bq_project, out37):
    """On the emulator: `push --contract v2_37features` of v2_37 rows into the v2_37 target
    (tests/contract_table.py) loads and merges them all."""
    from test_push import DATASET, TABLE, create_target

    client = bq_emulator.bigquery_client(bq_project)
    client.create_dataset(DATASET)
    target = f"{bq_project}.{DATASET}.{TABLE}"
    create_target(client, target)
    result = invoke(
        "push",
        out37,
        "--contract",
        V37,
        "--project",
        bq_project,
        "--api-endpoint",
        bq_emulator.rest_url,
        "--storage-endpoint",
        bq_emulator.grpc_target,
        "--anonymous",
    )
    assert result.exit_code == 0, result.output
    stored = client.query(f"SELECT COUNT(*) AS n FROM `{target}`").result()
    assert next(iter(stored))["n"] == read_output(out37).num_rows > 0
