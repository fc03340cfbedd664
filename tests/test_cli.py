"""The command line as a user meets it: help texts, the backfill on the bundled fixture,
exit codes and messages for bad input, and no partial output after a failure."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from fsengine.cli import app
from fsengine.contracts import load_contract
from fsengine.output.schema import OUTPUT_SCHEMA, output_schema, read_output
from fsengine.pipeline import BUNDLED_SNAPSHOT, RUN_RECORD
from fsengine.snapshot.format import Snapshot

runner = CliRunner()
COMMANDS = ["backfill", "snapshot", "push", "run", "report", "explain", "bench", "fixtures"]


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "out"
    result = invoke("backfill", "--out", out, "--as-of", "2025-11-20")
    assert result.exit_code == 0, result.output
    return out


def test_top_level_help_lists_every_command():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "fixtures"] + ["fixtures generate"])
def test_every_command_explains_itself_with_examples(command):
    result = invoke(*command.split(), "--help")
    assert result.exit_code == 0, result.output
    assert "Examples" in result.output
    assert "fsengine " + command.split()[0] in result.output


def test_backfill_on_the_bundled_fixture_writes_the_whole_servable_range(backfilled):
    """The README quick start: without --contract the run computes v2_54features (D54-1), the
    251 columns of docs/v2_54/output.md §1, and records that contract."""
    table = read_output(backfilled)
    v54_schema = output_schema(load_contract("v2_54features"))
    assert len(v54_schema) == 251
    assert table.schema.equals(v54_schema)
    for f in (backfilled / "ml_feature_store_v2").glob("*.parquet"):
        assert pq.read_schema(f).names == v54_schema.names
    assert len(table.column("features")[0]) == 60
    start, end = Snapshot.open(BUNDLED_SNAPSHOT).servable_range()
    dates = set(table.column("game_date").to_pylist())
    assert min(dates) >= start and max(dates) <= end
    # as-of 2025-11-20 splits the run: production rows (UPGC spine) from that date on
    assert any(d >= dt.date(2025, 11, 20) for d in dates) and any(d < dt.date(2025, 11, 20) for d in dates)
    record = json.loads((backfilled / RUN_RECORD).read_text())
    assert Path(record["snapshot"]) == BUNDLED_SNAPSHOT.resolve()
    assert (record["start"], record["end"]) == (start.isoformat(), end.isoformat())
    assert record["contract"] == "v2_54features"


def test_backfill_contract_v2_37features_writes_the_143_reference_columns(tmp_path):
    result = invoke(
        "backfill",
        "--out",
        tmp_path / "o",
        "--start",
        "2025-11-10",
        "--end",
        "2025-11-12",
        "--contract",
        "v2_37features",
    )
    assert result.exit_code == 0, result.output
    table = read_output(tmp_path / "o")
    assert table.schema.equals(OUTPUT_SCHEMA) and len(OUTPUT_SCHEMA) == 143
    assert len(table.column("features")[0]) == 37
    assert json.loads((tmp_path / "o" / RUN_RECORD).read_text())["contract"] == "v2_37features"


@pytest.mark.parametrize("contract, vegas_query", [("v2_37features", "q09_vegas_lines"), (None, "v54_vegas_lines")])
def test_backfill_prints_per_query_timing_and_rows_per_date(tmp_path, contract, vegas_query):
    chosen = ["--contract", contract] if contract else []
    result = invoke(
        "backfill",
        "--out",
        tmp_path / "o",
        "--start",
        "2025-11-10",
        "--end",
        "2025-11-12",
        "--mode",
        "backfill",
        *chosen,
    )
    assert result.exit_code == 0, result.output
    for name in ("spine", "q01_daily_cache", "q06_last10", vegas_query, "q11_minutes_ppm"):
        assert name in result.output
    rows = read_output(tmp_path / "o")
    per_date = {}
    for d in rows.column("game_date").to_pylist():
        per_date[d.isoformat()] = per_date.get(d.isoformat(), 0) + 1
    # the "rows per date" table: one line per game date with exactly the rows written for it
    printed = {
        day: int(count.replace(",", ""))
        for day, count in re.findall(r"^\W*(\d{4}-\d{2}-\d{2})\W+([\d,]+)\W*$", result.output, flags=re.MULTILINE)
    }
    assert printed == per_date and len(per_date) == 2
    assert f"{rows.num_rows} rows for {len(per_date)} game dates" in " ".join(result.output.split())


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--start", "2025-13-01"], "--start '2025-13-01' is not a date"),
        (["--start", "2025-11-20", "--end", "2025-11-10"], "after --end"),
        (["--mode", "sometimes"], "--mode 'sometimes'"),
        (["--start", "2025-10-01", "--end", "2025-11-10"], "nba_precompute.player_daily_cache covers"),
    ],
)
def test_bad_backfill_input_exits_2_with_a_message_that_names_the_problem(tmp_path, args, fragment):
    result = invoke("backfill", "--out", tmp_path / "o", *args)
    assert result.exit_code == 2, result.output
    assert fragment in " ".join(result.output.split())
    assert not (tmp_path / "o" / "ml_feature_store_v2").exists()


def test_a_failed_run_leaves_the_previous_output_untouched(tmp_path, backfilled):
    out = tmp_path / "o"
    shutil.copytree(backfilled, out)
    before = read_output(out)
    damaged = tmp_path / "snap"
    shutil.copytree(BUNDLED_SNAPSHOT, damaged)
    victim = next((damaged / "nba_analytics.player_game_summary").glob("*.parquet"))
    victim.write_bytes(victim.read_bytes()[:-100])
    result = invoke("backfill", "--out", out, "--snapshot", damaged)
    assert result.exit_code == 2
    assert "nba_analytics.player_game_summary" in result.output
    assert read_output(out).equals(before)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in backfilled.iterdir())


def test_missing_snapshot_folder_is_named(tmp_path):
    result = invoke("backfill", "--out", tmp_path / "o", "--snapshot", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "nowhere" in result.output


def test_report_and_explain_read_the_backfill_output(backfilled):
    result = invoke("report", backfilled)
    assert result.exit_code == 0, result.output
    table = read_output(backfilled)
    # the report's headline counts are those of the rows the backfill wrote
    headline = re.search(
        r"([\d,]+) rows \(([\d,]+) scored, ([\d,]+) early-season placeholders\), "
        r"([\d,]+) players, ([\d,]+) game dates",
        " ".join(result.output.split()),
    )
    assert headline, result.output
    placeholders = sum(table.column("early_season_flag").to_pylist())
    assert [int(g.replace(",", "")) for g in headline.groups()] == [
        table.num_rows,
        table.num_rows - placeholders,
        placeholders,
        len(set(table.column("player_lookup").to_pylist())),
        len(set(table.column("game_date").to_pylist())),
    ]
    row = table.slice(table.num_rows // 2, 1).to_pylist()[0]
    result = invoke("explain", row["player_lookup"], row["game_date"].isoformat(), "--out", backfilled)
    assert result.exit_code == 0, result.output
    assert row["player_lookup"] in result.output
    assert "points_avg_last_5" in result.output


def test_push_refuses_anonymous_access_to_google_itself(backfilled):
    result = invoke("push", backfilled, "--project", "some-project", "--anonymous")
    assert result.exit_code == 2
    assert "anonymous" in result.output.lower()


def test_fixtures_generate_reports_what_it_wrote(tmp_path):
    result = invoke("fixtures", "generate", "--preset", "small", "--out", tmp_path / "w", "--seed", "3")
    assert result.exit_code == 0, result.output
    snapshot = Snapshot.open(tmp_path / "w")
    # one line per table: its name, the rows and the bytes of its files on disk
    printed = {
        name: (int(rows.replace(",", "")), int(size.replace(",", "")))
        for name, rows, size in re.findall(r"^(\S+)\s+([\d,]+)\s+([\d,]+)\s*$", result.output, flags=re.MULTILINE)
    }
    written = {
        key: (
            pq.ParquetDataset([str(f) for f in table.files]).read().num_rows,
            sum(f.stat().st_size for f in table.files),
        )
        for key, table in snapshot.tables.items()
    }
    assert {k: v for k, v in printed.items() if k != "total"} == written
    assert printed["total"] == tuple(map(sum, zip(*written.values())))


def test_unknown_preset_is_refused(tmp_path):
    result = invoke("fixtures", "generate", "--preset", "galaxy", "--out", tmp_path / "w")
    assert result.exit_code == 2
    assert "galaxy" in result.output
    assert not (tmp_path / "w").exists()
