"""The window arithmetic of the player history (fsengine/engine/history.py): the games of a
spine row's group found by binary search over the sorted games, exact integer window sums
(also past int64), and the list cut at player boundaries and at the same date. Runs the real
queries against tiny hand-built PGS tables (tests/engine/test_history.py)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from engine.test_history import D, days_before, history_for, one, pgs, spine
from fsengine.engine.history import _rounded_mean, _window_sums


def test_window_sums_past_int64_are_exact():
    values = np.array([2**62, 2**62, 2**62, -5], dtype=np.int64)
    sums = _window_sums(values, np.array([0, 1, 3]), np.array([3, 4, 4]))
    assert [int(s) for s in sums] == [3 * 2**62, 2 * 2**62 - 5, -5]


def test_rounded_mean_half_away_from_zero_in_both_ranges():
    small = _rounded_mean(np.array([5, -5, 4, 0], dtype=np.int64), np.array([2, 2, 2, 0], dtype=np.int64))
    assert small.tolist() == [3, -3, 2, 0]
    big = _rounded_mean(np.array([3 * 2**62, -(3 * 2**62) - 1], dtype=object), np.array([4, 2], dtype=np.int64))
    assert big.tolist() == [3 * 2**60, -((2 * (3 * 2**62 + 1) + 2) // 4)]


def test_numeric_minutes_whose_season_sum_passes_int64():
    # 9e9 minutes x 10^9 fits int64, two of them do not: the average is still exact
    minutes = Decimal("9000000000.000000001")
    rows = [pgs("p", days_before(2), minutes=minutes), pgs("p", days_before(3), minutes=minutes)]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["season_minutes_avg"] == float(minutes)
    assert got["minutes_avg_30d"] == float(minutes)


def test_lists_and_windows_stop_at_the_neighbouring_players():
    rows = [pgs("a", days_before(k), points=100 + k) for k in (1, 2, 3)]
    rows += [pgs("b", days_before(k), points=k) for k in (1, 2)]
    rows += [pgs("c", days_before(k), points=1000 + k) for k in (1, 2, 3, 4)]
    frame = history_for(rows, [spine("a", D), spine("b", D), spine("c", D), spine("d", D)])
    b = one(frame, "b")
    assert b["last10_n"] == 2 and b["total_games"] == 2
    assert b["contributing_game_dates"] == [days_before(1), days_before(2)]
    assert b["season_points_avg"] == 1.5 and b["opp_games"] == 2
    assert one(frame, "c")["last10_n"] == 4
    d = one(frame, "d")  # no games at all
    assert d["last10_n"] == 0 and d["total_games"] == 0 and d["mppm_present"] is False


def test_games_on_the_spine_date_are_not_before_it():
    rows = [pgs("p", D, points=50), pgs("p", days_before(1), points=10)]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["last10_n"] == 1 and got["total_games"] == 1
    assert got["season_points_avg"] == 10.0 and got["opp_points_avg"] == 10.0
