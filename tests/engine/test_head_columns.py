"""The column-wise head assembly (assemble_head, head_columns.py) equals the per-row statement of
the rules (assemble_head_rows) bit for bit, on the same extraction tables: every output column,
every feature value compared as float64 bits (None vs NaN vs 0.0 kept apart), every raw tag.

Worlds: the bundled fixture (backfill with as_of after the range, auto with as_of inside it),
the golden world, a generated `season` world (NUMERIC and INT64 minutes), the FLOAT64 minutes
rules on the bundled fixture, and the head profile with every switch set the other way."""

from __future__ import annotations

import dataclasses
import datetime as dt
import struct

import polars as pl
import pytest

from fsengine.contracts import load_contract
from fsengine.contracts.profile import REFERENCE
from fsengine.engine import assemble_head as ah
from fsengine.engine.compute import production_from
from fsengine.engine.extract import TimedRunner
from fsengine.engine.history import player_history
from fsengine.engine.session import open_session, query_params
from fsengine.pipeline import default_snapshot
from fsengine.snapshot.format import Snapshot
from fsengine.synthetic.generate import generate
from tests.engine.test_head_golden import VECTORS

HEAD = load_contract("v2_54features").profile
D = dt.date.fromisoformat


def _both(folder, start: str, end: str, mode: str, as_of: str, profile=HEAD, minutes_type: str | None = None):
    snapshot = Snapshot.open(folder, contract="v2_54features")
    start_d, end_d, as_of_d = D(start), D(end), D(as_of)
    params = query_params(start_d, end_d, as_of_d, production_from(mode, start_d, as_of_d), profile)
    con = open_session(snapshot, profile, 2, None, bounds=(start_d, end_d))
    try:
        runner = TimedRunner(None)
        runner(con, "spine", params)
        params = ah.head_params(params, profile)
        ah.run_head_core(con, params, runner)
        minutes = minutes_type or snapshot.minutes_type
        history = player_history(con, params, snapshot.minutes_type, runner, profile)
        fast = ah.assemble_head(con, history, profile, minutes)
        slow = ah.assemble_head_rows(con, history, profile, minutes)
    finally:
        con.close()
    return fast, slow


def _bits(v):
    return None if v is None else struct.pack("<d", v)


def assert_same(fast: pl.DataFrame, slow: pl.DataFrame) -> None:
    assert fast.schema == slow.schema
    assert fast.height == slow.height
    assert slow.height > 0
    for column in fast.columns:
        if column == "feature_values":
            continue
        assert fast[column].to_list() == slow[column].to_list(), column
    differing: dict[int, int] = {}
    for got, want in zip(fast["feature_values"].to_list(), slow["feature_values"].to_list()):
        assert (got is None) == (want is None)
        if got is None:
            continue
        assert len(got) == len(want) == 60
        for i, (a, b) in enumerate(zip(got, want)):
            if _bits(a) != _bits(b):
                differing[i] = differing.get(i, 0) + 1
    assert not differing, f"features differing (index: rows): {differing}"


@pytest.mark.parametrize("mode, as_of", [("backfill", "2026-06-01"), ("auto", "2025-11-20")])
def test_bundled_fixture(mode, as_of):
    fast, slow = _both(default_snapshot(), "2025-11-01", "2025-11-30", mode, as_of)
    assert_same(fast, slow)
    assert fast["cache_miss_fallback_used"].any()  # the fallback path is exercised


def test_float_minutes_rules():
    fast, slow = _both(default_snapshot(), "2025-11-01", "2025-11-30", "backfill", "2026-06-01", minutes_type="FLOAT64")
    assert_same(fast, slow)


def test_every_switch_the_other_way():
    flipped = dataclasses.replace(
        HEAD,
        nan_is_absent=False,
        cache_miss_fallback=True,
        phase3_games_in_last_7_days=False,
        recent_trend_newest_first=False,
        opponent_no_games_fallback=False,
        minutes_ppm_phase4_fallback=False,
        minutes_ppm_missing_tag=REFERENCE.minutes_ppm_missing_tag,
        opponent_fallback_tag=REFERENCE.opponent_fallback_tag,
        multi_book_bettingpros_below_std=5.0,
        fatigue_gate=(10.0, 90.0),
    )
    fast, slow = _both(default_snapshot(), "2025-11-01", "2025-11-30", "auto", "2025-11-20", profile=flipped)
    assert_same(fast, slow)
    no_fallback = dataclasses.replace(HEAD, cache_miss_fallback=False)
    fast, slow = _both(default_snapshot(), "2025-11-01", "2025-11-30", "backfill", "2026-06-01", profile=no_fallback)
    assert_same(fast, slow)


@pytest.mark.skipif(VECTORS is None, reason="golden vectors v2_54 not found")
def test_golden_world():
    fast, slow = _both(VECTORS / "world", "2025-11-11", "2025-11-21", "backfill", "2026-01-01")
    assert_same(fast, slow)


@pytest.mark.parametrize("minutes_type", ["NUMERIC", "INT64"])
def test_generated_season_world(tmp_path_factory, minutes_type):
    folder = tmp_path_factory.mktemp(f"season-{minutes_type}") / "world"
    generate("season", folder, minutes_type=minutes_type)
    fast, slow = _both(folder, "2025-12-01", "2025-12-20", "backfill", "2027-01-01")
    assert_same(fast, slow)


def test_run_sums_add_each_run_left_to_right_as_python_sum():
    import numpy as np

    from fsengine.engine.head_columns import _run_sums

    rng = np.random.default_rng(7)
    lengths = rng.integers(1, 9, size=40)
    values = rng.random(int(lengths.sum())) * 10.0 ** rng.integers(-8, 9, size=int(lengths.sum()))
    run_start = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    rows = 45  # rows 40..44 have no run; the runs belong to the rows in reverse order
    run_row = np.repeat(np.arange(39, -1, -1), lengths)
    got = _run_sums(values, run_start, run_row, rows)
    for run, (start, length) in enumerate(zip(run_start, lengths)):
        want = sum(values[start : start + length].tolist())
        assert _bits(float(got[39 - run])) == _bits(want)
    assert got[40:].tolist() == [0.0] * 5


@pytest.mark.parametrize("fractional", [False, True])
def test_window_square_sums_equal_python_sum_of_pow(fractional):
    """Per row, the sum of (point - mean) ** 2 over its window, in window order, bit for bit as
    Python's `sum` of C pow: integer points (the dense table of (mean, point) pairs) and
    fractional ones (one pow per distinct difference); rows without a window give 0.0."""
    import numpy as np

    from fsengine.engine.head_columns import _window_square_sums

    rng = np.random.default_rng(3)
    points = rng.integers(0, 45, 500).astype(np.float64) + (rng.random(500) if fractional else 0.0)
    rows = 120
    lo = rng.integers(0, 440, rows)
    m = np.where(rng.random(rows) < 0.1, 0, rng.integers(1, 61, rows))
    mean = rng.integers(0, 4000, rows) / rng.integers(1, 61, rows)
    got = _window_square_sums(points, lo, m, mean)
    for i in range(rows):
        want = sum((p - float(mean[i])) ** 2 for p in points[lo[i] : lo[i] + m[i]].tolist())
        assert _bits(float(got[i])) == _bits(want), i


@pytest.mark.parametrize("step", [1.0, 0.5, 2.0**-20, 0.1])
def test_stdev_matrix_equals_exact_stdev(step):
    """The exact sample stdev of every row's valid cells, bit for bit as `exact_stdev`: values on
    a grid of `step` (one power of two for every row, the smallest one per row when some rows are
    coarser, or none: the per-row routine), rows with fewer than two values NaN."""
    import numpy as np

    from fsengine.engine.head_columns import stdev_matrix

    rng = np.random.default_rng(13)
    rows, width = 200, 10
    matrix = rng.integers(-400, 4000, (rows, width)) * step
    matrix[::3] = np.round(matrix[::3])  # integer rows next to the grid rows
    valid = rng.random((rows, width)) < 0.7
    got = stdev_matrix(matrix, valid, ah.exact_stdev)
    for i in range(rows):
        row = [float(v) for v, ok in zip(matrix[i], valid[i]) if ok]
        want = ah.exact_stdev(row) if len(row) >= 2 else float("nan")
        assert _bits(float(got[i])) == _bits(want), i


def test_rows_of_runs_equal_rows_of():
    """Runs of one key, a key again after another one, null players and dates, keys the spine
    lacks: the run lookup gives rows_of's rows."""
    import numpy as np

    from fsengine.engine.head_columns import SpineKeys

    rng = np.random.default_rng(17)
    day0 = dt.date(2024, 1, 1)
    spine = pl.DataFrame(
        {
            "player_lookup": [f"p{i % 7}" for i in range(60)],
            "game_date": [day0 + dt.timedelta(days=i // 7) for i in range(60)],
        }
    )
    players = [None if v == 9 else f"p{v}" for v in rng.integers(0, 10, 40)]
    dates = [None if v == 0 else day0 + dt.timedelta(days=int(v)) for v in rng.integers(0, 12, 40)]
    repeats = rng.integers(1, 5, 40).tolist()
    frame = pl.DataFrame(
        {
            "player_lookup": [p for p, k in zip(players, repeats) for _ in range(k)],
            "game_date": [d for d, k in zip(dates, repeats) for _ in range(k)],
        }
    )
    frame = pl.concat([frame, frame.head(9)])
    keys = SpineKeys(spine)
    want = keys.rows_of(frame)
    assert (want >= 0).any() and (want < 0).any()
    assert keys.rows_of_runs(frame).tolist() == want.tolist()
    assert keys.rows_of_runs(frame.clear()).size == 0


def test_rolling_columns_by_position_equal_the_cells_for_random_windows():
    """Extraction R read by game position (one bounds row per key) gives the bits of the
    per-cell computation, with null points, null usage, null teams and > 14-day gaps."""
    import numpy as np

    from fsengine.engine.head_columns import SpineKeys, _rolling_columns_by_cells, rolling_columns

    rng = np.random.default_rng(11)
    size = 400
    day0 = dt.date(2024, 1, 1)
    games = pl.DataFrame(
        {
            "game_no": np.arange(1, size + 1),
            "points": pl.Series([None if v < 0 else int(v) for v in rng.integers(-1, 40, size)], dtype=pl.Int64),
            "usage_e9": pl.Series(
                [None if rng.random() < 0.3 else int(v) for v in rng.integers(5 * 10**9, 35 * 10**9, size)],
                dtype=pl.Int64,
            ),
            "row_date": [day0 + dt.timedelta(days=int(d)) for d in np.cumsum(rng.integers(1, 20, size))],
            "team_abbr": [None if rng.random() < 0.05 else str(rng.choice(["AAA", "BBB"])) for _ in range(size)],
        }
    )
    keys_count = 150
    first = rng.integers(0, size - 1, keys_count)
    last = np.minimum(first + rng.integers(0, 61, keys_count), size)
    spine = pl.DataFrame(
        {
            "player_lookup": [f"p{i % 9}" for i in range(keys_count)],
            "game_date": [day0 + dt.timedelta(days=i // 9) for i in range(keys_count)],
        }
    )
    bounds = spine.with_columns(first_no=pl.Series(first), last_no=pl.Series(last)).reverse()
    keys = SpineKeys(spine)
    fast = rolling_columns(bounds, games, keys)
    cells = _rolling_columns_by_cells(bounds, games, keys)
    assert fast["has"].any() and not fast["has"].all()
    for name, values in cells.items():
        assert fast[name].tobytes() == values.tobytes(), name


def test_decimal_quotients_equal_python_decimal_next_to_float_boundaries():
    """The vectorised 28-digit decimal quotients give the bits of `_dq` on random pairs and on
    pairs whose quotient lies within 10^-25 of a midpoint between two float64 neighbours (the
    best rational approximations of the midpoints), where decimal and float rounding could part."""
    import math
    from fractions import Fraction

    import numpy as np

    from fsengine.engine.head_columns import _decimal_quotients, _dq

    rng = np.random.default_rng(5)
    num = [int(v) for v in rng.integers(0, 10**12, 300)]
    den = [int(v) for v in rng.integers(1, 10**12, 300)]
    for q in rng.uniform(0.05, 50.0, 300).tolist():
        midpoint = Fraction(q) + Fraction(math.nextafter(q, math.inf) - q) / 2
        near = midpoint.limit_denominator(2**46)
        assert abs(near - midpoint) < Fraction(1, 10**25) * midpoint and near != midpoint
        num.append(near.numerator)
        den.append(near.denominator)
    got = _decimal_quotients(np.array(num), np.array(den))
    assert [_bits(float(v)) for v in got] == [_bits(_dq(a, b)) for a, b in zip(num, den)]
    scaled = _decimal_quotients(np.array(num[:50]) // 10**9, np.array(den[:50]) // 10**9 + 1, 10**9, 10**9)
    want = [_dq(a // 10**9 * 10**9, (b // 10**9 + 1) * 10**9) for a, b in zip(num[:50], den[:50])]
    assert [_bits(float(v)) for v in scaled] == [_bits(v) for v in want]


def test_round_equals_python_round_next_to_halves():
    """The vectorised round(x, digits) gives the bits of Python's round on random values of
    every magnitude, on decimal halves and their float64 neighbours, on -0.0, NaN and inf."""
    import math

    import numpy as np

    from fsengine.engine.head_columns import _round

    rng = np.random.default_rng(3)
    base = rng.standard_normal(20000) * 10.0 ** rng.integers(-12, 14, 20000)
    for digits in (1, 2, 4, 9):
        halves = (rng.integers(-(10**6), 10**6, 3000) + 0.5) / 10**digits
        near = [math.nextafter(h, d) for h in halves.tolist() for d in (-math.inf, math.inf)]
        values = np.concatenate([base, halves, near, [0.0, -0.0, -1e-12, math.nan, math.inf, -math.inf, 2.0**60]])
        got = _round(values, digits)
        want = [round(v, digits) for v in values.tolist()]
        assert [_bits(float(v)) for v in got] == [_bits(v) for v in want], digits
