"""Snapshot format 1 (docs/sources.md §3): the reader refuses every kind of damaged or
inconsistent snapshot with a SnapshotError naming the table/file, and accepts a good one.
Each test copies a small generated world and breaks one thing."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from worlds import world_path

from fsengine.errors import CoverageError, SnapshotError
from fsengine.snapshot.format import Snapshot, sha256_of, write_snapshot
from fsengine.snapshot.sources import TABLES

PGS = "nba_analytics.player_game_summary"
CACHE = "nba_precompute.player_daily_cache"


@pytest.fixture
def snap(tmp_path) -> Path:
    folder = tmp_path / "snap"
    shutil.copytree(world_path("small"), folder)
    return folder


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def save(folder: Path, data: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(data, indent=2))


def first_file(folder: Path, key: str) -> Path:
    return folder / manifest(folder)["tables"][key]["files"][0]["path"]


def test_a_generated_snapshot_opens_and_registers(snap):
    import duckdb

    snapshot = Snapshot.open(snap)
    assert set(snapshot.tables) == set(TABLES)
    con = duckdb.connect()
    snapshot.register(con)
    for table in snapshot.tables.values():
        assert con.sql(f"select count(*) from {table.spec.short}").fetchall()[0][0] == table.rows


def test_missing_manifest_is_an_incomplete_snapshot(snap):
    (snap / "manifest.json").unlink()
    with pytest.raises(SnapshotError, match="manifest.json"):
        Snapshot.open(snap)


def test_missing_folder(tmp_path):
    with pytest.raises(SnapshotError, match="does not exist"):
        Snapshot.open(tmp_path / "nowhere")


def test_manifest_that_is_not_json(snap):
    (snap / "manifest.json").write_text("{not json")
    with pytest.raises(SnapshotError, match="not valid JSON"):
        Snapshot.open(snap)


@pytest.mark.parametrize("version", [3, 0, "1", None])
def test_wrong_format_version(snap, version):
    data = manifest(snap)
    data["format"] = version
    save(snap, data)
    with pytest.raises(SnapshotError, match="format"):
        Snapshot.open(snap)


def test_missing_table(snap):
    data = manifest(snap)
    del data["tables"][CACHE]
    save(snap, data)
    with pytest.raises(SnapshotError, match=f"lacks table {CACHE}"):
        Snapshot.open(snap)


def test_missing_column_in_manifest(snap):
    data = manifest(snap)
    data["tables"][PGS]["columns"] = [c for c in data["tables"][PGS]["columns"] if c["name"] != "ft_makes"]
    save(snap, data)
    with pytest.raises(SnapshotError, match="lacks column ft_makes"):
        Snapshot.open(snap)


def test_wrong_type_in_manifest(snap):
    data = manifest(snap)
    for col in data["tables"][PGS]["columns"]:
        if col["name"] == "points":
            col["type"] = "FLOAT64"
    save(snap, data)
    with pytest.raises(SnapshotError, match="points has type FLOAT64, expected INT64"):
        Snapshot.open(snap)


def _rewrite(snap: Path, key: str, change) -> None:
    """Rewrite the table's first file through `change(table) -> table`, keeping the manifest's
    rows and checksum consistent so only the intended defect remains."""
    path = first_file(snap, key)
    table = change(pq.read_table(path))
    pq.write_table(table, path)
    data = manifest(snap)
    entry = data["tables"][key]["files"][0]
    entry["sha256"] = sha256_of(path)
    save(snap, data)


def test_file_column_with_the_wrong_arrow_type(snap):
    def to_float(table: pa.Table) -> pa.Table:
        i = table.schema.get_field_index("points")
        return table.set_column(i, "points", table.column(i).cast(pa.float64()))

    _rewrite(snap, PGS, to_float)
    with pytest.raises(SnapshotError, match="column points is double"):
        Snapshot.open(snap)


def test_file_missing_a_column(snap):
    _rewrite(snap, PGS, lambda t: t.drop_columns(["is_dnp"]))
    with pytest.raises(SnapshotError, match="lacks column is_dnp"):
        Snapshot.open(snap)


def test_minutes_played_may_be_int64_or_float64_with_a_warning(snap):
    data = manifest(snap)
    for col in data["tables"][PGS]["columns"]:
        if col["name"] == "minutes_played":
            col["type"] = "FLOAT64"
    save(snap, data)

    def to_float(table: pa.Table) -> pa.Table:
        i = table.schema.get_field_index("minutes_played")
        return table.set_column(i, "minutes_played", table.column(i).cast(pa.float64()))

    _rewrite(snap, PGS, to_float)
    with pytest.warns(UserWarning, match="FLOAT64"):
        snapshot = Snapshot.open(snap)
    assert snapshot.minutes_type == "FLOAT64"


def test_bad_checksum(snap):
    data = manifest(snap)
    data["tables"][CACHE]["files"][0]["sha256"] = "0" * 64
    save(snap, data)
    with pytest.raises(SnapshotError, match="SHA-256"):
        Snapshot.open(snap)
    Snapshot.open(snap, verify_checksums=False)  # the explicit option skips only this check


def test_changed_file_fails_its_checksum(snap):
    path = first_file(snap, CACHE)
    table = pq.read_table(path)
    pq.write_table(table, path, compression="snappy")  # same rows, different bytes
    with pytest.raises(SnapshotError, match=f"{CACHE}.*SHA-256"):
        Snapshot.open(snap)


def test_truncated_file(snap):
    path = first_file(snap, PGS)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SnapshotError, match="not a readable Parquet file"):
        Snapshot.open(snap, verify_checksums=False)
    with pytest.raises(SnapshotError):
        Snapshot.open(snap)


def test_missing_file(snap):
    first_file(snap, PGS).unlink()
    with pytest.raises(SnapshotError, match="is missing"):
        Snapshot.open(snap)


def test_file_row_count_mismatch(snap):
    data = manifest(snap)
    data["tables"][PGS]["files"][0]["rows"] += 1
    data["tables"][PGS]["rows"] += 1
    save(snap, data)
    with pytest.raises(SnapshotError, match="manifest says"):
        Snapshot.open(snap)


def test_table_row_total_mismatch(snap):
    data = manifest(snap)
    data["tables"][PGS]["rows"] += 1
    save(snap, data)
    with pytest.raises(SnapshotError, match="files hold .* rows, manifest says"):
        Snapshot.open(snap)


def test_file_path_outside_the_snapshot(snap):
    data = manifest(snap)
    data["tables"][PGS]["files"][0]["path"] = "../elsewhere.parquet"
    save(snap, data)
    with pytest.raises(SnapshotError, match="not inside the snapshot"):
        Snapshot.open(snap)


def test_coverage_is_checked_against_the_run(snap):
    snapshot = Snapshot.open(snap)
    start, end = snapshot.servable_range()
    snapshot.check_coverage(start, end)
    with pytest.raises(CoverageError, match=PGS):
        snapshot.check_coverage(start - dt.timedelta(days=1), end)
    with pytest.raises(CoverageError):
        snapshot.check_coverage(start, end + dt.timedelta(days=1))


def test_write_snapshot_round_trip_and_empty_table(tmp_path):
    source = Snapshot.open(world_path("small"))
    tables = {key: pq.read_table(t.files[0]) for key, t in source.tables.items()}
    tables[CACHE] = tables[CACHE].slice(0, 0)
    bounds = {key: (t.start, t.end) for key, t in source.tables.items()}
    moment = dt.datetime(2026, 2, 7, 6, 0, tzinfo=dt.UTC)
    out = write_snapshot(
        tmp_path / "copy", tables, bounds, snapshot_time=moment, created_at=moment, max_rows_per_file=1000
    )
    copy = Snapshot.open(out)
    assert copy.tables[CACHE].rows == 0 and len(copy.tables[CACHE].files) == 1
    assert pq.read_table(copy.tables[CACHE].files[0]).schema.names == TABLES[CACHE].column_names
    assert len(copy.tables[PGS].files) == -(-tables[PGS].num_rows // 1000)
    assert pa.concat_tables(pq.read_table(f) for f in copy.tables[PGS].files).equals(tables[PGS])
    assert not any(p.name.startswith(".copy.partial") for p in tmp_path.iterdir())


@pytest.mark.parametrize(
    "key, column",
    [
        (PGS, "player_lookup"),
        (PGS, "game_date"),
        ("nba_analytics.upcoming_player_game_context", "player_lookup"),
        ("nba_analytics.team_offense_game_summary", "team_abbr"),
    ],
)
def test_null_in_a_not_null_column_is_refused(snap, key, column):
    def null_one(table: pa.Table) -> pa.Table:
        values = table.column(column).to_pylist()
        values[0] = None
        return table.set_column(
            table.schema.get_field_index(column), column, pa.array(values, table.schema.field(column).type)
        )

    _rewrite(snap, key, null_one)
    with pytest.raises(SnapshotError, match=rf"{key}.*{column}.*NOT NULL"):
        Snapshot.open(snap)


def test_null_player_lookup_in_odds_is_allowed(snap):
    key = "nba_raw.odds_api_player_points_props"

    def null_one(table: pa.Table) -> pa.Table:
        values = table.column("player_lookup").to_pylist()
        values[0] = None
        return table.set_column(0, "player_lookup", pa.array(values, pa.string()))

    _rewrite(snap, key, null_one)
    Snapshot.open(snap)
