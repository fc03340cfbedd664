"""Opening a snapshot again in the same process: files already checked are not read again,
unless they changed (or changed too recently to tell), and checksums are always verified when
asked. The views are created from SQL text with literals DuckDB renders, so any folder name works."""

from __future__ import annotations

import math
import shutil

import duckdb
import pyarrow as pa
import pytest
from test_snapshot_format import _rewrite, manifest, save, snap  # noqa: F401 - fixture

from fsengine.errors import SnapshotError
from fsengine.snapshot import format as snapshot_format
from fsengine.snapshot.format import Snapshot

ODDS = "nba_raw.odds_api_player_points_props"


@pytest.fixture
def reads(monkeypatch):
    """How many files the FLOAT64 value check reads."""
    seen: list[str] = []
    check = snapshot_format._refuse_non_finite

    def counting(key, parquet, column_types, where, rel):
        seen.append(rel)
        return check(key, parquet, column_types, where, rel)

    monkeypatch.setattr(snapshot_format, "_refuse_non_finite", counting)
    monkeypatch.setattr(snapshot_format, "_VALIDATED_FILES", set())
    return seen


def test_a_settled_file_is_checked_once_per_process(snap, reads, monkeypatch):
    monkeypatch.setattr(snapshot_format, "_SETTLED_NS", 0)
    Snapshot.open(snap, verify_checksums=False)
    first = len(reads)
    assert first > 0
    Snapshot.open(snap, verify_checksums=False)
    assert len(reads) == first


def test_a_file_changed_within_the_settling_time_is_checked_every_time(snap, reads, monkeypatch):
    monkeypatch.setattr(snapshot_format, "_SETTLED_NS", 10**18)  # every file changed "just now"
    Snapshot.open(snap, verify_checksums=False)
    first = len(reads)
    Snapshot.open(snap, verify_checksums=False)
    assert len(reads) == 2 * first


def test_a_file_rewritten_after_its_check_is_checked_again(snap, reads, monkeypatch):
    monkeypatch.setattr(snapshot_format, "_SETTLED_NS", 0)
    Snapshot.open(snap, verify_checksums=False)

    def with_nan(table: pa.Table) -> pa.Table:
        i = table.schema.get_field_index("points_line")
        values = table.column(i).to_pylist()
        values[0] = math.nan
        return table.set_column(i, "points_line", pa.array(values, pa.float64()))

    _rewrite(snap, ODDS, with_nan)
    with pytest.raises(SnapshotError, match="1 NaN value.*points_line"):
        Snapshot.open(snap, verify_checksums=False)


def test_checksums_are_verified_on_every_open(snap, reads, monkeypatch):
    monkeypatch.setattr(snapshot_format, "_SETTLED_NS", 0)
    Snapshot.open(snap)
    data = manifest(snap)
    entry = data["tables"][ODDS]["files"][0]
    entry["sha256"] = "0" * 64  # the file is the one checked before; the manifest no longer matches it
    save(snap, data)
    with pytest.raises(SnapshotError, match="SHA-256"):
        Snapshot.open(snap)


def test_views_of_a_snapshot_in_a_folder_with_quotes_in_its_name(snap, tmp_path):
    odd = tmp_path / 'it\'s a "snapshot"'
    shutil.copytree(snap, odd)
    snapshot = Snapshot.open(odd, verify_checksums=False)
    con = duckdb.connect()
    snapshot.register(con)
    for table in snapshot.tables.values():
        assert con.execute(f"SELECT count(*) FROM {table.spec.short}").fetchone() == (table.rows,)
