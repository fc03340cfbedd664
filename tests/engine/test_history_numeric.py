"""Numeric semantics of the player history (docs/features.md §0.3, §0.4, docs/sources.md §1, §2.1):
NUMERIC averages rounded to 9 decimals half away from zero, exact means converted once to
float64, AVG over FLOAT64 values = a float64 running sum in (game_date, game_id) order then one
division, round9 = Python's round(x, 9) bit for bit, and the INT64/FLOAT64 path with its N3
NaNs."""

from __future__ import annotations

import datetime as dt
import math
import random
import struct
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import duckdb
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.test_history import D, days_before, history_for, one, pgs, run_query, spine
from fsengine.engine.history import exact_quotient, player_history, round9, sequential_running_sums
from fsengine.errors import InputError


def numeric_div(numerator, denominator) -> Decimal:
    """BigQuery NUMERIC division: the exact quotient rounded to 9 decimals half away from zero."""
    quotient = Fraction(numerator) / Fraction(denominator)
    scaled = abs(quotient) * 10**9
    whole = int(scaled) + (1 if scaled - int(scaled) >= Fraction(1, 2) else 0)
    return Decimal(whole if quotient >= 0 else -whole).scaleb(-9)


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


# --------------------------------------------------------------------------- NUMERIC path


def test_season_minutes_average_rounds_half_away_from_zero():
    # (10.000000001 + 10) / 2 = 10.0000000005: 10th decimal exactly 5
    rows = [pgs("p", days_before(2), minutes=Decimal("10.000000001")), pgs("p", days_before(3), minutes=10)]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["season_minutes_avg"] == float(Decimal("10.000000001"))
    assert got["season_minutes_avg"] != float(Decimal("10.000000000"))  # half-even would give this
    assert got["minutes_avg_30d"] == float(Decimal("10.000000001"))


def test_negative_numeric_average_rounds_away_from_zero():
    rows = [pgs("p", days_before(2), minutes=Decimal("-10.000000001")), pgs("p", days_before(3), minutes=-10)]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["season_minutes_avg"] == float(Decimal("-10.000000001"))
    assert got["mppm_present"] is False  # minutes_played > 0 only


def test_points_per_minute_ratio_rounds_half_away_from_zero():
    # 1 / 1024 = 0.0009765625 -> 0.000976563 (half-even: 0.000976562)
    got = one(history_for([pgs("p", days_before(2), points=1, minutes=1024)], [spine("p", D)]))
    assert got["ppm_avg_30d"] == float(Decimal("0.000976563"))
    negative = one(history_for([pgs("p", days_before(2), points=-1, minutes=1024)], [spine("p", D)]))
    assert negative["ppm_avg_30d"] == float(Decimal("-0.000976563"))


def test_points_per_minute_mean_of_rounded_ratios_rounds_half_away_from_zero():
    # ratios 1/3 -> 0.333333333 and 0/7 -> 0; mean 0.1666666665 -> 0.166666667
    rows = [pgs("p", days_before(2), points=1, minutes=3), pgs("p", days_before(3), points=0, minutes=7)]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["ppm_avg_30d"] == float(Decimal("0.166666667"))
    assert got["minutes_avg_30d"] == 5.0


def test_points_per_minute_is_a_mean_of_ratios_not_a_ratio_of_sums():
    rows = [pgs("p", days_before(2), points=10, minutes=10), pgs("p", days_before(3), points=30, minutes=20)]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["ppm_avg_30d"] == 1.25  # (1.0 + 1.5) / 2, not 40 / 30


def test_numeric_path_all_points_null_gives_null_ppm_but_a_present_row():
    rows = [pgs("p", days_before(2), points=None, minutes=12)]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["mppm_present"] is True
    assert got["minutes_avg_30d"] == 12.0
    assert got["ppm_avg_30d"] is None


def test_numeric_season_minutes_all_null_is_null_not_nan():
    rows = [pgs("p", days_before(2), points=5, minutes=None)]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["season_points_avg"] == 5.0
    assert got["season_minutes_avg"] is None


def test_list_minutes_mean_is_the_exact_decimal_mean_converted_once():
    rows = [
        pgs("p", days_before(2), minutes=Decimal("0.1")),
        pgs("p", days_before(3), minutes=Decimal("0.2")),
        pgs("p", days_before(4), minutes=Decimal("0.3")),
    ]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["minutes_list_mean"] == 0.2
    assert got["minutes_list_mean"] != (0.1 + 0.2 + 0.3) / 3  # float arithmetic would drift


@pytest.mark.parametrize("seed", range(3))
def test_numeric_averages_match_exact_decimal_arithmetic(seed):
    rng = random.Random(seed)
    rows = [
        pgs(
            "p",
            days_before(k),
            points=rng.choice([None, *range(0, 40)]),
            minutes=Decimal(rng.randint(1, 48_000_000_000)).scaleb(-9),
        )
        for k in range(1, 29, 2)
    ]
    got = one(history_for(rows, [spine("p", D)]))
    minutes = [r["minutes_played"] for r in rows]
    assert bits(got["minutes_avg_30d"]) == bits(float(numeric_div(sum(minutes), len(minutes))))
    ratios = [numeric_div(r["points"], r["minutes_played"]) for r in rows if r["points"] is not None]
    assert bits(got["ppm_avg_30d"]) == bits(float(numeric_div(sum(ratios), len(ratios))))
    assert bits(got["season_minutes_avg"]) == bits(float(numeric_div(sum(minutes), len(minutes))))


def test_numeric_div_reference():
    assert numeric_div(Decimal("10.000000001") + 10, 2) == Decimal("10.000000001")
    assert numeric_div(-1, 1024) == Decimal("-0.000976563")
    assert numeric_div(Decimal("0.0000000005"), 1) == (Decimal("0.0000000005") * 1).quantize(
        Decimal("1e-9"), rounding=ROUND_HALF_UP
    )


# --------------------------------------------------------------------------- INT64 / FLOAT64 path


def test_int64_path_nan_cases_n3():
    rows = [
        pgs("p", days_before(2), points=None, minutes=None, dnp=True),
        pgs("p", days_before(3), points=None, minutes=14),
    ]
    got = one(history_for(rows[:1], [spine("p", D)], "INT64"))
    assert math.isnan(got["season_minutes_avg"])  # season rows, no non-NULL minutes
    assert math.isnan(got["season_points_avg"])  # N1 on every path
    got = one(history_for(rows, [spine("p", D)], "INT64"))
    assert got["mppm_present"] is True
    assert got["minutes_avg_30d"] == 14.0
    assert math.isnan(got["ppm_avg_30d"])  # rows with minutes > 0, no points


def test_int64_path_averages_are_float64():
    rows = [
        pgs("p", days_before(2), points=1, minutes=3),
        pgs("p", days_before(3), points=2, minutes=3),
        pgs("p", days_before(4), points=5, minutes=7),
    ]
    got = one(history_for(rows, [spine("p", D)], "INT64"))
    assert got["season_minutes_avg"] == 13 / 3  # AVG over INT64: exact integer sum / count
    assert got["minutes_avg_30d"] == 13 / 3
    # the float64 ratios added oldest first (D-4, D-3, D-2), then one division
    assert bits(got["ppm_avg_30d"]) == bits(((5 / 7 + 2 / 3) + 1 / 3) / 3)
    assert got["minutes_list_mean"] == 13 / 3


# Three ratios 0.1, 0.1, 0.4: oldest first (0.1 + 0.1) + 0.4 = 0.6000000000000001 -> /3 =
# 0.20000000000000004; newest first (0.4 + 0.1) + 0.1 = 0.6 -> 0.19999999999999998; the exact
# mean rounded once is 0.2. Each rule gives different bits, so the test tells them apart.
PPM_ORDER_POINTS = [1, 1, 4]  # oldest game first, 10 minutes each


def test_ppm_is_the_running_sum_in_date_order_then_one_division():
    assert (0.1 + 0.1) + 0.4 != (0.4 + 0.1) + 0.1  # the values do depend on the order
    expected = ((0.1 + 0.1) + 0.4) / 3
    assert bits(expected) == bits(0.20000000000000004)
    assert expected != float(sum(map(Fraction, [0.1, 0.1, 0.4])) / 3)  # != exact mean, rounded
    rows = [pgs("p", days_before(10 - k), points=pts, minutes=10) for k, pts in enumerate(PPM_ORDER_POINTS)]
    for minutes_type in ("INT64", "FLOAT64"):
        got = one(history_for(list(reversed(rows)), [spine("p", D)], minutes_type))
        assert bits(got["ppm_avg_30d"]) == bits(expected), minutes_type


def test_ppm_same_date_rows_are_added_in_game_id_order():
    # two games on one date (a data error upstream, but the order is specified): game_id
    # "G1" (4 points) before "G2" (1 point), both after the 0.1 of an older date
    rows = [
        pgs("p", days_before(5), points=1, minutes=10, game_id="G0"),
        pgs("p", days_before(3), points=1, minutes=10, game_id="G2"),
        pgs("p", days_before(3), points=4, minutes=10, game_id="G1"),
    ]
    got = one(history_for(rows, [spine("p", D)], "INT64"))
    assert bits(got["ppm_avg_30d"]) == bits(((0.1 + 0.4) + 0.1) / 3)
    assert bits(got["ppm_avg_30d"]) != bits(((0.1 + 0.1) + 0.4) / 3)


def test_ppm_running_sum_skips_null_points_and_restarts_per_window():
    # D-40 lies outside the 30-day window of D, inside that of D-20; NULL points drop out
    rows = [
        pgs("p", days_before(40), points=4, minutes=10),
        pgs("p", days_before(25), points=1, minutes=10),
        pgs("p", days_before(24), points=None, minutes=10),
        pgs("p", days_before(23), points=1, minutes=10),
        pgs("p", days_before(2), points=4, minutes=10),
    ]
    frame = history_for(rows, [spine("p", D), spine("p", days_before(20))], "INT64")
    assert bits(one(frame)["ppm_avg_30d"]) == bits(((0.1 + 0.1) + 0.4) / 3)
    assert bits(one(frame, day=days_before(20))["ppm_avg_30d"]) == bits(((0.4 + 0.1) + 0.1) / 3)
    assert one(frame)["minutes_avg_30d"] == 10.0


def test_float64_minutes_follow_the_int64_path():
    rows = [pgs("p", days_before(2), points=None, minutes=14), pgs("p", days_before(3), points=None, minutes=None)]
    got = one(history_for(rows, [spine("p", D)], "FLOAT64"))
    assert got["minutes_avg_30d"] == 14.0
    assert math.isnan(got["ppm_avg_30d"])
    assert got["season_minutes_avg"] == 14.0


# Four FLOAT64 minutes, oldest first: the running sum in that order / 4 = 22.800000000000004,
# newest first 22.799999999999997, exact mean rounded once 22.8.
FLOAT_MINUTES = [28.4, 11.3, 31.6, 19.9]


def test_float64_minutes_average_is_the_running_sum_in_date_order():
    expected = (((28.4 + 11.3) + 31.6) + 19.9) / 4
    assert bits(expected) == bits(22.800000000000004)
    assert expected != (((19.9 + 31.6) + 11.3) + 28.4) / 4
    assert expected != float(sum(map(Fraction, FLOAT_MINUTES)) / 4)
    rows = [pgs("p", days_before(9 - k), points=k + 1, minutes=m) for k, m in enumerate(FLOAT_MINUTES)]
    got = one(history_for(list(reversed(rows)), [spine("p", D)], "FLOAT64"))
    assert bits(got["season_minutes_avg"]) == bits(expected)
    assert bits(got["minutes_avg_30d"]) == bits(expected)
    # feature 12's fallback (§6) stays the exact mean of the list, rounded once
    assert got["minutes_list_mean"] == float(sum(map(Fraction, FLOAT_MINUTES)) / 4)
    ratios = [1 / 28.4, 2 / 11.3, 3 / 31.6, 4 / 19.9]
    assert bits(got["ppm_avg_30d"]) == bits((((ratios[0] + ratios[1]) + ratios[2]) + ratios[3]) / 4)


def test_float64_season_minutes_running_sum_is_per_season_and_before_d():
    # the 2024 season's games never enter the 2025 season's sum; D's own game is excluded
    rows = [pgs("p", dt.date(2025, 4, 1), minutes=0.1)]
    rows += [pgs("p", days_before(20 - 4 * k), minutes=m) for k, m in enumerate(FLOAT_MINUTES)]
    rows.append(pgs("p", D, minutes=0.7))
    got = one(history_for(rows, [spine("p", D), spine("p", days_before(13))], "FLOAT64"))
    assert bits(got["season_minutes_avg"]) == bits((((28.4 + 11.3) + 31.6) + 19.9) / 4)
    earlier = one(history_for(rows, [spine("p", days_before(13))], "FLOAT64"), day=days_before(13))
    assert bits(earlier["season_minutes_avg"]) == bits((28.4 + 11.3) / 2)


def test_unknown_minutes_type_is_a_clear_error():
    with pytest.raises(InputError, match="minutes_played"):
        player_history(duckdb.connect(), {}, "STRING", run_query)


# --------------------------------------------------------------------------- conversions


@given(st.lists(st.floats(allow_nan=True, allow_infinity=False, width=64), max_size=50))
def test_round9_is_python_round_bit_for_bit(values):
    got = round9(np.array(values, dtype=np.float64))
    for value, rounded in zip(values, got):
        expected = round(value, 9)
        assert (math.isnan(expected) and math.isnan(rounded)) or bits(rounded) == bits(expected)


def test_round9_halfway_and_signed_zero():
    values = np.array([0.0000000005, 0.0000000015, 2.0000000025, -0.0, 0.0, 1 / 3, 0.1 + 0.2])
    assert [bits(x) for x in round9(values)] == [bits(round(float(v), 9)) for v in values]


@given(
    st.lists(
        st.tuples(st.integers(-(2**62), 2**62), st.integers(-(2**62), 2**62).filter(lambda d: d != 0)),
        max_size=30,
    )
)
def test_exact_quotient_is_correctly_rounded(pairs):
    num = np.array([p[0] for p in pairs], dtype=np.int64)
    den = np.array([p[1] for p in pairs], dtype=np.int64)
    got = exact_quotient(num, den)
    assert [bits(x) for x in got] == [bits(a / b) for a, b in pairs]


def test_exact_quotient_zero_denominator_is_nan():
    assert np.isnan(exact_quotient(np.array([3]), np.array([0]))).all()


@given(st.lists(st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=12), max_size=10))
def test_sequential_running_sums_add_left_to_right_per_segment(segments):
    values = [v for seg in segments for v in seg]
    position = [k for seg in segments for k in range(len(seg))]
    got = sequential_running_sums(np.array(values, dtype=np.float64), np.array(position, dtype=np.int64))
    expected = []
    for seg in segments:
        total = None
        for v in seg:
            total = v if total is None else total + v
            expected.append(total)
    assert [bits(x) for x in got] == [bits(x) for x in expected]
