"""Numeric semantics of the player history (features.md §0.3, §0.4, sources.md §1, §2.1):
NUMERIC averages rounded to 9 decimals half away from zero, exact means converted once to
float64, round9 = Python's round(x, 9) bit for bit, and the INT64/FLOAT64 path with its N3
NaNs."""

from __future__ import annotations

import math
import random
import struct
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import duckdb
import numpy as np
import pytest
from hypothesis import given, strategies as st

from engine.test_history import D, days_before, history_for, one, pgs, run_query, spine
from fsengine.engine.history import exact_quotient, mean_of_x2p80_sums, player_history, round9
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
        pgs("p", days_before(k), points=rng.choice([None, *range(0, 40)]),
            minutes=Decimal(rng.randint(1, 48_000_000_000)).scaleb(-9))
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
    assert got["season_minutes_avg"] == 13 / 3
    assert got["minutes_avg_30d"] == 13 / 3
    ratios = [1 / 3, 2 / 3, 5 / 7]
    assert got["ppm_avg_30d"] == float(sum(map(Fraction, ratios)) / 3)
    assert got["minutes_list_mean"] == 13 / 3


def test_float64_minutes_follow_the_int64_path():
    rows = [pgs("p", days_before(2), points=None, minutes=14), pgs("p", days_before(3), points=None, minutes=None)]
    got = one(history_for(rows, [spine("p", D)], "FLOAT64"))
    assert got["minutes_avg_30d"] == 14.0
    assert math.isnan(got["ppm_avg_30d"])
    assert got["season_minutes_avg"] == 14.0


def test_float64_fractional_minutes_average_to_the_exact_mean_rounded_once():
    minutes = [11.95, 12.1, 7.3, 33.3]
    rows = [pgs("p", days_before(k + 2), points=k + 1, minutes=m) for k, m in enumerate(minutes)]
    got = one(history_for(rows, [spine("p", D)], "FLOAT64"))
    exact_mean = float(sum(map(Fraction, minutes)) / len(minutes))
    assert got["season_minutes_avg"] == exact_mean
    assert got["minutes_avg_30d"] == exact_mean
    assert got["minutes_list_mean"] == exact_mean
    ratios = [(k + 1) / m for k, m in enumerate(minutes)]
    assert got["ppm_avg_30d"] == float(sum(map(Fraction, ratios)) / len(ratios))


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


@given(st.lists(st.lists(st.integers(0, 60), min_size=1, max_size=8), max_size=10), st.integers(1, 1000))
def test_mean_of_x2p80_sums(minute_lists, points):
    ratios = [[points / m for m in ms if m] for ms in minute_lists]
    ratios = [r for r in ratios if r]
    sums = [str(sum(int(Fraction(r) * 2**80) for r in rs)) for rs in ratios]
    got = mean_of_x2p80_sums(sums, np.array([len(rs) for rs in ratios]))
    assert [bits(x) for x in got] == [bits(float(sum(map(Fraction, rs)) / len(rs))) for rs in ratios]
