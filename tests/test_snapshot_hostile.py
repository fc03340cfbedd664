"""Snapshots a hostile or clumsy user made: non-finite FLOAT64 values, malformed manifest
entries, FIFOs and symbolic links in place of part files. Each gives one SnapshotError that
names the table, the file and what is wrong, never a traceback, a hang, or wrong numbers."""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_snapshot_format import PGS, _rewrite, first_file, manifest, save, snap  # noqa: F401 - fixture

from fsengine.errors import SnapshotError
from fsengine.snapshot.format import Snapshot

ODDS = "nba_raw.odds_api_player_points_props"
BP = "nba_raw.bettingpros_player_points_props"


def _set_float(column: str, value: float, every: int = 7):
    """Put `value` in every `every`-th row of a FLOAT64 column."""

    def change(table: pa.Table) -> pa.Table:
        i = table.schema.get_field_index(column)
        values = table.column(i).to_pylist()
        for row in range(0, len(values), every):
            values[row] = value
        return table.set_column(i, column, pa.array(values, pa.float64()))

    return change


@pytest.mark.parametrize(
    ("key", "column", "value", "what"),
    [
        (ODDS, "points_line", math.nan, "NaN"),
        (ODDS, "points_line", math.inf, "infinite"),
        (BP, "points_line", -math.inf, "infinite"),
        (BP, "opening_line", math.nan, "NaN"),
    ],
)
def test_non_finite_float_source_values_are_refused_with_table_column_file_and_count(snap, key, column, value, what):
    rows = pq.read_metadata(first_file(snap, key)).num_rows
    _rewrite(snap, key, _set_float(column, value))
    with pytest.raises(SnapshotError) as raised:
        Snapshot.open(snap)
    text = str(raised.value)
    assert key in text and column in text and manifest(snap)["tables"][key]["files"][0]["path"] in text
    assert f"{len(range(0, rows, 7))} {what}" in text


def _float_minutes(snap: Path, value) -> None:
    data = manifest(snap)
    for col in data["tables"][PGS]["columns"]:
        if col["name"] == "minutes_played":
            col["type"] = "FLOAT64"
    save(snap, data)

    def change(table: pa.Table) -> pa.Table:
        i = table.schema.get_field_index("minutes_played")
        minutes = table.column(i).cast(pa.float64()).to_pylist()
        for row in range(0, len(minutes), 5):
            minutes[row] = value
        return table.set_column(i, "minutes_played", pa.array(minutes, pa.float64()))

    _rewrite(snap, PGS, change)


def test_nan_in_float64_minutes_is_read_as_null_as_the_spec_says(snap, tmp_path):
    """docs/sources.md §2.1: FLOAT64 minutes are treated like INT64 (NULL, never NaN)."""
    from fsengine.output.schema import read_output
    from fsengine.pipeline import backfill

    with_null = tmp_path / "with-null"
    shutil.copytree(snap, with_null)
    _float_minutes(snap, math.nan)
    _float_minutes(with_null, None)
    results = []
    for folder, out in ((snap, tmp_path / "out-nan"), (with_null, tmp_path / "out-null")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            backfill(
                out,
                folder,
                dt.date(2025, 11, 10),
                dt.date(2025, 11, 12),
                mode="backfill",
                as_of=dt.date(2026, 1, 1),
                verify_checksums=False,
            )
        table = read_output(out).sort_by([("player_lookup", "ascending"), ("game_date", "ascending")])
        results.append(table.select(["player_lookup", "game_date", "features", "feature_sources_json"]))
    assert results[0].num_rows > 0
    assert results[0].equals(results[1])


def test_infinite_float64_minutes_are_refused(snap):
    _float_minutes(snap, math.inf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SnapshotError, match="infinite value.*minutes_played"):
            Snapshot.open(snap)


# --------------------------------------------------------------------------- malformed manifests


def _edit(snap: Path, change) -> None:
    data = manifest(snap)
    change(data["tables"][PGS])
    save(snap, data)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda e: e.update(rows=str(e["rows"])), "'rows' is"),
        (lambda e: e.update(rows=True), "'rows' is"),
        (lambda e: e["files"][0].update(rows=str(e["files"][0]["rows"])), "manifest file #1"),
        (lambda e: e["columns"][0].pop("type"), "needs a 'name' and a 'type'"),
        (lambda e: e["columns"].__setitem__(0, "player_lookup"), "needs a 'name' and a 'type'"),
        (lambda e: e["files"].__setitem__(0, "part-00000.parquet"), "manifest file #1"),
        (lambda e: e["files"][0].pop("path"), "manifest file #1"),
        (lambda e: e.pop("start"), "no 'start'"),
        (lambda e: e.update(columns={"a": 1}), "must be lists"),
    ],
)
def test_malformed_manifest_entries_give_one_clear_error(snap, change, fragment):
    _edit(snap, change)
    with pytest.raises(SnapshotError, match="table nba_analytics.player_game_summary") as raised:
        Snapshot.open(snap)
    assert fragment in str(raised.value)


def test_a_fifo_in_place_of_a_part_file_is_not_a_regular_file(snap):
    path = first_file(snap, PGS)
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(SnapshotError, match="not a regular file"):
        Snapshot.open(snap, verify_checksums=True)


def test_a_symbolic_link_pointing_outside_the_snapshot_is_refused(snap, tmp_path):
    path = first_file(snap, PGS)
    outside = tmp_path / "elsewhere.parquet"
    shutil.move(path, outside)
    path.symlink_to(outside)
    with pytest.raises(SnapshotError, match="symbolic link.*outside the snapshot"):
        Snapshot.open(snap)


def test_a_table_folder_linked_to_outside_the_snapshot_is_refused(snap, tmp_path):
    folder = first_file(snap, PGS).parent
    shutil.move(folder, tmp_path / "pgs-elsewhere")
    folder.symlink_to(tmp_path / "pgs-elsewhere")
    with pytest.raises(SnapshotError, match="outside the snapshot"):
        Snapshot.open(snap)


def test_a_symbolic_link_inside_the_snapshot_is_fine(snap):
    path = first_file(snap, PGS)
    moved = path.with_name("real.parquet")
    path.rename(moved)
    path.symlink_to(moved.name)
    Snapshot.open(snap)


@pytest.mark.parametrize("contract", ["v2_37features", "v2_54features"])
def test_a_damaged_data_page_read_without_verification_names_the_file(snap, tmp_path, contract):
    """With --no-verify a damaged part file is only found when DuckDB decodes it: one
    SnapshotError naming that file and the way to find every damaged file, nothing written."""
    from fsengine.pipeline import backfill

    damaged = first_file(snap, PGS)
    data = bytearray(damaged.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 200] = bytes(b ^ 0xFF for b in data[middle : middle + 200])
    damaged.write_bytes(bytes(data))
    out = tmp_path / "out"
    with pytest.raises(SnapshotError) as caught:
        backfill(out, snap, mode="backfill", as_of=dt.date(2026, 1, 1), verify_checksums=False, contract=contract)
    message = str(caught.value)
    assert str(damaged) in message
    assert "without --no-verify" in message
    assert not out.exists() or not any(out.iterdir())  # nothing written, not even a staging folder
