"""Snapshot format 2 (docs/v2_54/sources.md §5): the `contracts` list, the per-contract tables,
columns and lookbacks (§1-§3), and the reader's refusal of a snapshot not taken for the
contract of the run. Expected bounds are written out here from the spec's own worked example,
not computed by fsengine."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fsengine.errors import CoverageError, SnapshotError
from fsengine.snapshot.format import Snapshot, write_snapshot
from fsengine.snapshot.sources import (
    BY_SHORT,
    CONTRACT_SOURCES,
    TABLES,
    columns_for,
    required_bounds,
    tables_for,
)

GOLDEN = Path(__file__).resolve().parent / "vectors" / "v2_54" / "world"  # a copy of the spec's golden world
V37, V54 = "v2_37features", "v2_54features"
PGS = "nba_analytics.player_game_summary"
ODDS = "nba_raw.odds_api_player_points_props"
INJURY = "nba_raw.nbac_injury_report"
ACCURACY = "nba_predictions.prediction_accuracy"
CACHE = "nba_precompute.player_daily_cache"
OFFENSE = "nba_analytics.team_offense_game_summary"
STAMP = dt.datetime(2026, 2, 7, 12, 0, tzinfo=dt.UTC)

golden = pytest.mark.skipif(not (GOLDEN / "manifest.json").is_file(), reason="golden v2_54 world not present")


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def save(folder: Path, data: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(data, indent=2))


# --------------------------------------------------------------------------- the data


def test_worked_example_of_section_1():
    start, end = dt.date(2025, 11, 3), dt.date(2026, 2, 6)
    want = {
        PGS: dt.date(2024, 11, 2),
        OFFENSE: dt.date(2025, 9, 4),
        ODDS: dt.date(2025, 10, 20),
        ACCURACY: dt.date(2025, 9, 4),
    }
    for table in tables_for([V54]):
        assert required_bounds(table, start, end, V54) == (want.get(table.key, start), end), table.key


def test_team_offense_takes_the_earlier_of_oct_1_and_60_days():
    offense = TABLES[OFFENSE]
    # late in a season: Oct 1 is earlier than start - 60
    assert required_bounds(offense, dt.date(2026, 2, 6), dt.date(2026, 2, 6), V54)[0] == dt.date(2025, 10, 1)
    # early in a season: start - 60 reaches into the previous season
    assert required_bounds(offense, dt.date(2025, 10, 25), dt.date(2025, 10, 25), V54)[0] == dt.date(2025, 8, 26)
    assert required_bounds(offense, dt.date(2025, 10, 25), dt.date(2025, 10, 25), V37)[0] == dt.date(2025, 10, 1)


def test_both_contracts_take_the_union_of_their_windows():
    start, end = dt.date(2025, 11, 3), dt.date(2025, 11, 9)
    assert required_bounds(TABLES[CACHE], start, end, [V37, V54])[0] == dt.date(2025, 10, 20)  # v2_37's 14 days
    assert required_bounds(TABLES[ODDS], start, end, [V37, V54])[0] == dt.date(2025, 10, 20)  # v2_54's 14 days
    assert required_bounds(TABLES[ODDS], start, end)[0] == dt.date(2025, 10, 20)  # default: every contract


def test_contract_tables_and_columns():
    assert [t.key for t in tables_for([V37])] == [t for t in CONTRACT_SOURCES[V37]]
    assert len(tables_for([V37])) == 9 and len(tables_for([V54])) == 11
    assert INJURY not in CONTRACT_SOURCES[V37] and ACCURACY not in CONTRACT_SOURCES[V37]
    pgs = TABLES[PGS]
    assert columns_for(pgs, [V37]) == pgs.column_names and len(pgs.column_names) == 11
    assert columns_for(pgs, [V54])[11:] == [
        "fg_attempts",
        "paint_attempts",
        "mid_range_attempts",
        "three_pt_attempts",
        "usage_rate",
    ]
    assert columns_for(TABLES["nba_raw.bettingpros_player_points_props"], [V54])[-1] == "bookmaker"
    added = sum(len(columns_for(t, [V54])) - len(columns_for(t, [V37])) for t in tables_for([V37]))
    assert added == 20  # docs/sources.md §2 lists 21, one of which (minutes_before_tipoff) S37 already read
    assert BY_SHORT["injury_report"].key == INJURY and BY_SHORT["prediction_accuracy"].key == ACCURACY
    assert TABLES[INJURY].date_column == "report_date"


# --------------------------------------------------------------------------- the golden world


@golden
def test_the_golden_world_opens_with_checksums_for_both_contracts():
    snapshot = Snapshot.open(GOLDEN)  # verifies every file's sha256
    assert snapshot.declared == (V37, V54)
    assert len(snapshot.tables) == 11
    run = (dt.date(2025, 11, 11), dt.date(2025, 11, 21))
    for contract, count in ((V37, 9), (V54, 11)):
        opened = Snapshot.open(GOLDEN, contract=contract, verify_checksums=False)
        assert opened.contracts == (contract,) and len(opened.tables) == count
        opened.check_coverage(*run)
    v54 = Snapshot.open(GOLDEN, contract=V54, verify_checksums=False)
    with pytest.raises(CoverageError, match=ODDS):  # odds start 2025-10-28 + 14 days = 11-11
        v54.check_coverage(dt.date(2025, 11, 10), run[1])
    assert v54.servable_range() == (dt.date(2025, 11, 11), dt.date(2025, 11, 30))
    assert Snapshot.open(GOLDEN, contract=V37, verify_checksums=False).servable_range() == (
        dt.date(2025, 10, 31),
        dt.date(2025, 11, 30),
    )


@golden
def test_the_golden_world_registers_the_new_views(tmp_path):
    import duckdb

    snapshot = Snapshot.open(GOLDEN, contract=V54, verify_checksums=False)
    con = duckdb.connect()
    snapshot.register(con, bounds=(dt.date(2025, 11, 20), dt.date(2025, 11, 20)))
    assert con.sql("select count(*) from injury_report").fetchall()[0][0] == 0  # no report that day
    first = con.sql("select min(game_date), max(game_date) from prediction_accuracy").fetchall()[0]
    assert first[0] >= dt.date(2025, 9, 21) and first[1] <= dt.date(2025, 11, 20)


# --------------------------------------------------------------------------- refusals


def _small_format1(tmp_path) -> Path:
    """A format-1 snapshot: the tables and columns of v2_37features, manifest without `contracts`."""
    from worlds import world_path

    source = Snapshot.open(world_path("small"), contract=V37, verify_checksums=False)
    tables, bounds = {}, {}
    for key, held in source.tables.items():
        data = pq.read_table(held.files[0]).select(columns_for(TABLES[key], [V37]))
        tables[key], bounds[key] = data, (held.start, held.end)
    folder = write_snapshot(tmp_path / "f1", tables, bounds, snapshot_time=STAMP, contracts=[V37])
    data = manifest(folder)
    del data["contracts"]
    data["format"] = 1
    save(folder, data)
    return folder


def test_a_format_1_snapshot_serves_v2_37_only(tmp_path):
    folder = _small_format1(tmp_path)
    assert Snapshot.open(folder).declared == (V37,)
    assert Snapshot.open(folder, contract=V37).contracts == (V37,)
    with pytest.raises(SnapshotError) as refused:
        Snapshot.open(folder, contract=V54)
    text = str(refused.value)
    assert f"snapshot {folder} was taken for contracts [{V37}]" in text
    assert f"contract {V54} also needs tables {INJURY}, {ACCURACY}" in text
    assert "20 more columns (e.g. nba_analytics.player_game_summary.fg_attempts)" in text
    assert f"14 days of {ODDS} before the run start" in text
    assert f"--contract {V54}" in text and f"--contract {V37}" in text
    assert refused.value.exit_code == 2
    with pytest.raises(SnapshotError, match="--contract v2_37features"):
        Snapshot.open(folder).require(V54)


def test_the_tiebreak_columns_stay_the_s37_columns():
    from fsengine.sql import tiebreak_terms

    assert [t.split()[0] for t in tiebreak_terms("pgs")] == columns_for(TABLES[PGS], [V37])
    assert TABLES[PGS].all_column_names == columns_for(TABLES[PGS], [V54])


def _full(tmp_path, contracts, drop_column=None, drop_table=None, cache_days=14) -> Path:
    start, end = dt.date(2025, 11, 3), dt.date(2025, 11, 9)
    tables, bounds = {}, {}
    for table in tables_for(contracts):
        if table.key == drop_table:
            continue
        names = [n for n in columns_for(table, contracts) if (table.key, n) != drop_column]
        tables[table.key] = table.arrow_schema(columns=names).empty_table()
        bounds[table.key] = required_bounds(table, start, end, contracts)
    bounds[CACHE] = (start - dt.timedelta(days=cache_days), end)
    return write_snapshot(tmp_path / "full", tables, bounds, snapshot_time=STAMP, contracts=contracts)


def test_declared_contract_with_a_missing_column_or_table_is_refused(tmp_path):
    folder = _full(tmp_path, [V37, V54], drop_column=(PGS, "usage_rate"))
    with pytest.raises(SnapshotError, match=f"table {PGS} lacks column usage_rate.*--contract v2_37features"):
        Snapshot.open(folder, contract=V54)
    Snapshot.open(folder, contract=V37)  # v2_37 does not read it
    shutil.rmtree(folder)
    folder = _full(tmp_path, [V37, V54], drop_table=INJURY)
    with pytest.raises(SnapshotError, match=f"lacks table {INJURY}"):
        Snapshot.open(folder, contract=V54)
    Snapshot.open(folder, contract=V37)


def test_writer_declares_what_the_tables_serve(tmp_path):
    folder = _full(tmp_path, [V54], cache_days=0)
    data = manifest(folder)
    assert data["format"] == 2 and data["contracts"] == [V54]
    assert list(data)[:2] == ["format", "contracts"]
    with pytest.raises(SnapshotError, match=f"taken for contracts \\[{V54}\\]; contract {V37}"):
        Snapshot.open(folder, contract=V37)
    snapshot = Snapshot.open(folder, contract=V54)
    snapshot.check_coverage(dt.date(2025, 11, 3), dt.date(2025, 11, 9))
    # declared for both, but the daily cache lacks v2_37's 14 days: coverage refuses for v2_37
    shutil.rmtree(folder)
    folder = _full(tmp_path, [V37, V54], cache_days=0)
    with pytest.raises(CoverageError, match=CACHE):
        Snapshot.open(folder, contract=V37).check_coverage(dt.date(2025, 11, 3), dt.date(2025, 11, 9))
    Snapshot.open(folder, contract=V54).check_coverage(dt.date(2025, 11, 3), dt.date(2025, 11, 9))


def test_writer_without_contracts_declares_every_contract_it_satisfies(tmp_path):
    start, end = dt.date(2025, 11, 3), dt.date(2025, 11, 9)
    only37 = {t.key: t.arrow_schema(columns=columns_for(t, [V37])).empty_table() for t in tables_for([V37])}
    bounds = {k: required_bounds(TABLES[k], start, end, V37) for k in only37}
    folder = write_snapshot(tmp_path / "a", only37, bounds, snapshot_time=STAMP)
    assert manifest(folder)["contracts"] == [V37]
    every = {t.key: t.arrow_schema(columns=t.all_column_names).empty_table() for t in tables_for(None)}
    bounds = {k: required_bounds(TABLES[k], start, end) for k in every}
    folder = write_snapshot(tmp_path / "b", every, bounds, snapshot_time=STAMP)
    assert manifest(folder)["contracts"] == [V37, V54]


@pytest.mark.parametrize("contracts", [[], [V54, V37], [V37, V37], "v2_37features", [1]])
def test_malformed_contracts_list_is_refused(tmp_path, contracts):
    folder = _full(tmp_path, [V37, V54])
    data = manifest(folder)
    data["contracts"] = contracts
    save(folder, data)
    with pytest.raises(SnapshotError, match="contracts"):
        Snapshot.open(folder)


def test_format_2_without_contracts_and_unknown_formats_are_refused(tmp_path):
    folder = _full(tmp_path, [V37, V54])
    data = manifest(folder)
    del data["contracts"]
    save(folder, data)
    with pytest.raises(SnapshotError, match="format 2 needs 'contracts'"):
        Snapshot.open(folder)
    data["format"] = 3
    save(folder, data)
    with pytest.raises(SnapshotError, match="format 3 is not supported"):
        Snapshot.open(folder)


def test_an_unknown_contract_is_an_input_error(tmp_path):
    from fsengine.errors import InputError

    folder = _full(tmp_path, [V37, V54])
    with pytest.raises(InputError, match="v9_99features"):
        Snapshot.open(folder, contract="v9_99features")
