"""Golden check of the head assembly (contract v2_54features) against upstream's own output on
the golden world (spec v2_54/vectors/README.md "How to compare"): backfill over
[2025-11-11, 2025-11-21]; keys equal; the stored feature array exact except 50/58 within
1e-12; the raw tags equal; the tie_spec_differs rows excepted for feature 50.

Known, reported differences (not the engine's choice to make; see the assertions):
- 25-27 (and 53 = 25 - 2): Q9′ picks among Odds API rows of one snapshot (or BettingPros rows
  of one created_at) with different lines by `points_line ASC` (round-1 [choice]); upstream's
  pick is arbitrary among them. Compared only where the line is unique at that time.
- 10: duplicate UPGC rows with different statuses; spec §0.8 takes the tie-break row, upstream
  the last row returned.
- 30: a player with duplicate PGS rows at D: upstream multiplies its opponent game count.
- 32: upstream ran on an emulator whose INT64 / NUMERIC division is float64 (no 9-dp rounding
  of each ratio, as BigQuery does and F37 Q11 specifies): |Δ| <= 1e-9 (one unit of the 9th decimal) on minutes_ppm rows.
- 48: four tie-affected rows whose duplicate PGS rows upstream took in file order.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import struct
from pathlib import Path

import duckdb
import polars as pl
import pytest

from fsengine.contracts import load_contract
from fsengine.engine.compute import compute
from fsengine.snapshot.format import Snapshot

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = (ROOT / "tests" / "vectors" / "v2_54", ROOT.parent / "shared" / "spec" / "v2_54" / "vectors")
VECTORS = next((p for p in CANDIDATES if (p / "expected.parquet").is_file()), None)
pytestmark = pytest.mark.skipif(VECTORS is None, reason="golden vectors v2_54 not found")

START, END = dt.date(2025, 11, 11), dt.date(2025, 11, 21)
TOLERANCE = {50: 1e-12, 58: 1e-12}
# Features whose differences are the documented ones above, with the rule each is held to.
Q9_FEATURES = {25, 26, 27, 53}


@pytest.fixture(scope="module")
def golden():
    profile = load_contract("v2_54features").profile
    snapshot = Snapshot.open(VECTORS / "world", contract="v2_54features")
    result = compute(snapshot, START, END, mode="backfill", as_of=dt.date(2026, 1, 1), profile=profile, threads=2)
    expected = pl.read_parquet(VECTORS / "expected.parquet")
    return result.rows, expected


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def _stored(v) -> float:
    return 0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def test_keys_equal(golden):
    rows, expected = golden
    assert set(zip(rows["player_lookup"], rows["game_date"])) == set(
        zip(expected["player_lookup"], expected["game_date"])
    )
    assert rows.height == expected.height == 1666


def _pairs(golden):
    rows, expected = golden
    got = {(r["player_lookup"], r["game_date"]): r for r in rows.to_dicts()}
    for e in expected.to_dicts():
        yield e, got[(e["player_lookup"], e["game_date"])]


def _differs(i: int, want: float, have: float) -> bool:
    if i in TOLERANCE:
        return abs(want - have) > TOLERANCE[i]
    return _bits(want) != _bits(have)


def test_raw_tags_equal(golden):
    bad = [
        (e["player_lookup"], e["game_date"])
        for e, g in _pairs(golden)
        if json.loads(e["feature_sources"]) != {str(i): t for i, t in enumerate(g["feature_tags"])}
    ]
    assert bad == []


def test_extra_assembled_columns_equal(golden):
    bad = [
        (e["player_lookup"], e["game_date"])
        for e, g in _pairs(golden)
        if (e["cache_miss_fallback_used"], e["vegas_line_source"])
        != (g["cache_miss_fallback_used"], g["vegas_line_source"])
    ]
    assert bad == []


@pytest.mark.parametrize("index", [i for i in range(60) if i not in Q9_FEATURES | {10, 30, 32, 48}])
def test_feature_matches_upstream(golden, index):
    bad = []
    for e, g in _pairs(golden):
        if index == 50 and json.loads(e["tie_spec_differs"] or "[]"):
            continue
        want, have = e["features"][index], _stored(g["feature_values"][index])
        if _differs(index, want, have):
            bad.append((e["player_lookup"], e["game_date"], want, have))
    assert bad == []


def test_documented_differences_stay_within_their_bounds(golden):
    """The features of the module docstring differ only on the rows and by the amounts stated."""
    counts = {10: 0, 30: 0, 32: 0, 48: 0}
    for e, g in _pairs(golden):
        values = [_stored(v) for v in g["feature_values"]]
        tie = set(json.loads(e["tie_features"] or "[]"))
        for i in counts:
            if _bits(e["features"][i]) == _bits(values[i]):
                continue
            counts[i] += 1
            if i == 32:
                assert g["feature_tags"][32] == "minutes_ppm" and abs(e["features"][32] - values[32]) <= 1.5e-9
            elif i == 48:
                assert 48 in tie
            elif i == 10:
                assert {37, 39} <= tie  # duplicate UPGC rows
    assert counts[10] <= 2 and counts[30] <= 2 and counts[48] <= 4 and counts[32] <= 119


def test_vegas_lines_match_where_upstream_had_no_choice(golden):
    """25-27, 53 equal wherever the chosen snapshot holds a single line value."""
    rows, expected = golden
    mismatched = 0
    for e, g in _pairs(golden):
        for i in Q9_FEATURES:
            if _differs(i, e["features"][i], _stored(g["feature_values"][i])):
                mismatched += 1
    # every mismatch is a tie between lines of one snapshot (checked by hand: 345 values on
    # 103 rows); a bound keeps new differences from hiding behind them
    assert mismatched <= 345


# --------------------------------------------------------------------------- properties


def _frame_key(frame: pl.DataFrame) -> list:
    return [
        (
            r["player_lookup"],
            r["game_date"],
            [_bits(_stored(v)) for v in r["feature_values"]],
            r["feature_tags"],
            r["cache_miss_fallback_used"],
            r["vegas_line_source"],
        )
        for r in frame.sort(["game_date", "player_lookup"]).to_dicts()
    ]


def test_batch_equals_dates_one_by_one(golden):
    rows, _ = golden
    profile = load_contract("v2_54features").profile
    snapshot = Snapshot.open(VECTORS / "world", contract="v2_54features")
    singles = []
    for day in (dt.date(2025, 11, 12), dt.date(2025, 11, 16), dt.date(2025, 11, 21)):
        single = compute(snapshot, day, day, mode="backfill", as_of=dt.date(2026, 1, 1), profile=profile, threads=1)
        assert single.rows.height > 0
        singles.append(single.rows)
    batch = rows.filter(
        pl.col("game_date").is_in([dt.date(2025, 11, 12), dt.date(2025, 11, 16), dt.date(2025, 11, 21)])
    )
    assert _frame_key(pl.concat(singles)) == _frame_key(batch)


def test_later_rows_never_change_an_earlier_row(golden):
    """Every table cut after 2025-11-14 (by its date column): the rows of dates up to the cut
    are the rows of the whole world."""
    from fsengine.engine.assemble_head import compute_head
    from fsengine.engine.extract import run_query
    from fsengine.engine.session import connect, query_params, register_season_starts
    from fsengine.snapshot.sources import TABLES

    rows, _ = golden
    cut = dt.date(2025, 11, 14)
    profile = load_contract("v2_54features").profile
    con = connect(1)
    for key, table in TABLES.items():
        files = sorted(str(p) for p in (VECTORS / "world" / key).glob("*.parquet"))
        relation = con.read_parquet(files).filter(
            duckdb.ColumnExpression(table.date_column) <= duckdb.ConstantExpression(cut)
        )
        relation.create_view(table.short)
    register_season_starts(con, profile)
    run_query(con, "season_first_game", {})
    params = query_params(START, cut, dt.date(2026, 1, 1), dt.date(2026, 1, 1), profile)
    run_query(con, "spine", params)
    truncated = compute_head(con, params, profile, "NUMERIC")
    assert truncated.height > 0
    assert _frame_key(truncated) == _frame_key(rows.filter(pl.col("game_date") <= cut))


# --------------------------------------------------------------------------- through the output stage

DOCUMENTED = Q9_FEATURES | {10, 30, 32, 48}


def test_output_rows_equal_upstreams(golden):
    """Engine + scorer + row builder: every emitted column equals upstream's, except on the rows
    whose documented features (module docstring) or tie_spec_differs feature 50 differ, where
    only those features' values, the array and data_hash may differ."""
    from fsengine.output.rows import output_rows
    from fsengine.output.schema import output_schema

    rows, expected = golden
    contract = load_contract("v2_54features")
    produced = pl.from_arrow(output_rows(rows, dt.datetime(2026, 7, 27, 12, tzinfo=dt.UTC), contract.profile))
    produced = produced.sort("player_lookup", "game_date")
    expected = expected.sort("player_lookup", "game_date")
    assert produced.select("player_lookup", "game_date").equals(expected.select("player_lookup", "game_date"))

    excused: dict[int, set[int]] = {}  # row number -> features allowed to differ there
    rehashed = set()  # rows whose array differs in some bit (50/58 within tolerance included)
    for n, (want, have) in enumerate(zip(expected["features"].to_list(), produced["features"].to_list())):
        for i in range(60):
            if _differs(i, want[i], have[i]):
                excused.setdefault(n, set()).add(i)
            if _bits(want[i]) != _bits(have[i]):
                rehashed.add(n)
    spec_differs = [bool(json.loads(t or "[]")) for t in expected["tie_spec_differs"].to_list()]
    for n, features in excused.items():
        allowed = DOCUMENTED | ({50} if spec_differs[n] else set())
        assert features <= allowed, (expected["player_lookup"][n], expected["game_date"][n], features - allowed)

    skip = {"created_at", "updated_at", "quality_computed_at", "fallback_reasons", "feature_sources_json"}
    differing = {}
    for name in output_schema(contract).names:
        if name in skip:
            continue
        source = "data_hash_60" if name == "data_hash" else name
        want, got = expected.get_column(source).to_list(), produced.get_column(name).to_list()
        for n, (w, g) in enumerate(zip(want, got)):
            if name == "features":
                continue  # compared above
            if name.startswith("feature_") and name.endswith("_value"):
                i = int(name.split("_")[1])
                if i in excused.get(n, set()):
                    continue
                same = (w is None and g is None) or (w is not None and g is not None and not _differs(i, w, g))
            elif name == "data_hash":
                same = n in rehashed or w == g
            elif name == "feature_quality_score":
                same = float(w) == float(g)
            else:
                same = w == g
            if not same:
                differing.setdefault(name, (expected["player_lookup"][n], expected["game_date"][n], w, g))
    assert differing == {}
    # 50 differs from the emulator's STDDEV_SAMP by a few ulp on 254 rows (within 1e-12, §0.5), which
    # changes their hash; the hash is compared on every other row (1,219 of 1,666)
    assert len(rehashed) <= 447
    assert produced["feature_sources_json"].to_list() == expected["feature_sources"].to_list()


def test_tie_spec_differs_rows_take_the_spec_tie_break(golden):
    """The 5 rows of vectors/README.md where the §0.8 BettingPros order picks another row than
    upstream did: feature 50 is the README's "spec (our reading)" value."""
    rows, _ = golden
    spec = {
        "jayenvinvin": 5.795112883571236,
        "kalulovinle": 0.3535533905932738,
        "lostenimarle": 2.1213203435596424,
        "okanantho": 4.242640687119285,
        "phchshavin": 0.5,
    }
    day = rows.filter(pl.col("game_date") == dt.date(2025, 11, 12))
    for player, value in spec.items():
        (r,) = day.filter(pl.col("player_lookup") == player).to_dicts()
        assert (r["feature_values"][50], r["feature_tags"][50]) == (value, "bettingpros")
