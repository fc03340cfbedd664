"""Player history (fsengine/engine/history.py + queries q06, q07, q10, q11) against tiny
hand-built PGS tables, one spec rule each, and against a plain row-at-a-time reference
written from docs/features.md (§0.2-§0.4, §3 Q6/Q7/Q10/Q11, §4.2, §5, §6, §8, §9).

Runs the real queries in DuckDB through the engine's runner; nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import duckdb
import polars as pl
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsengine.contracts.profile import REFERENCE, season_of
from fsengine.engine.extract import run_query
from fsengine.engine.history import OUTPUT_SCHEMA, player_history
from fsengine.snapshot.sources import BY_SHORT

WINDOWS = {
    name: getattr(REFERENCE, name)
    for name in (
        "last10_window_days",
        "last10_size",
        "total_games_window_days",
        "opponent_window_years",
        "minutes_ppm_window_days",
    )
}
PGS = BY_SHORT["pgs"]
D = dt.date(2026, 1, 20)


# --------------------------------------------------------------------------- building inputs


def pgs(player, day, points=10, minutes=30, ft=2, dnp=False, opponent="OPP", game_id=None, **extra):
    row = dict(
        player_lookup=player,
        universal_player_id=f"{player}_001",
        game_id=game_id or f"{day:%Y%m%d}_{opponent}_TEA",
        game_date=day,
        team_abbr="TEA",
        opponent_team_abbr=opponent,
        season_year=season_of(day),
        points=points,
        minutes_played=minutes,
        ft_makes=ft,
        is_dnp=dnp,
    )
    row.update(extra)
    return row


def spine(player, day, opponent="OPP"):
    return dict(player_lookup=player, game_date=day, opponent_team_abbr=opponent)


def _minutes_value(value, minutes_type):
    if value is None:
        return None
    if minutes_type == "NUMERIC":
        return Decimal(str(value))
    if minutes_type == "INT64":
        return int(value)
    return float(value)


def pgs_arrow(rows, minutes_type):
    schema = PGS.arrow_schema({"minutes_played": minutes_type})
    columns = {}
    for field in schema:
        values = [row.get(field.name) for row in rows]
        if field.name == "minutes_played":
            values = [_minutes_value(v, minutes_type) for v in values]
        columns[field.name] = pa.array(values, field.type)
    return pa.table(columns, schema=schema)


def spine_arrow(rows):
    days = [r["game_date"] for r in rows]
    seasons = [season_of(d) for d in days]
    return pa.table(
        {
            "player_lookup": pa.array([r["player_lookup"] for r in rows], pa.string()),
            "game_date": pa.array(days, pa.date32()),
            "universal_player_id": pa.array([f"{r['player_lookup']}_001" for r in rows], pa.string()),
            "game_id": pa.array([f"{d:%Y%m%d}_X_Y" for d in days], pa.string()),
            "opponent_team_abbr": pa.array([r["opponent_team_abbr"] for r in rows], pa.string()),
            "is_home": pa.array([True] * len(rows), pa.bool_()),
            "season_year": pa.array(seasons, pa.int64()),
            "season_oct1": pa.array([dt.date(s, 10, 1) for s in seasons], pa.date32()),
            "is_placeholder": pa.array([False] * len(rows), pa.bool_()),
        }
    )


def history_for(pgs_rows, spine_rows, minutes_type="NUMERIC", windows=None) -> pl.DataFrame:
    """player_history over a fresh DuckDB session holding exactly these PGS and spine rows."""
    con = duckdb.connect(":memory:")
    try:
        con.register("pgs_rows", pgs_arrow(pgs_rows, minutes_type))
        con.execute("CREATE VIEW pgs AS SELECT * FROM pgs_rows")
        con.register("spine_rows", spine_arrow(spine_rows))
        con.execute("CREATE TEMP TABLE spine AS SELECT * FROM spine_rows")
        return player_history(con, dict(windows or WINDOWS), minutes_type, run_query)
    finally:
        con.close()


def one(frame: pl.DataFrame, player="p", day=D) -> dict:
    rows = frame.filter((pl.col("player_lookup") == player) & (pl.col("game_date") == day)).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def days_before(n, day=D):
    return day - dt.timedelta(days=n)


# --------------------------------------------------------------------------- the reference


def _nulls_last(value):
    return (value is None, value if value is not None else 0)


def _list_order_key(row):
    """§5 + §0.2: game_date DESC, then game_id, then every PGS column (docs/sources.md order)
    ascending, NULLs last."""
    return (-row["game_date"].toordinal(), _nulls_last(row["game_id"])) + tuple(
        _nulls_last(row[c]) for c in PGS.column_names
    )


def _sum_order_key(row):
    """§0.3 + §0.2: the running-sum order of a FLOAT64 AVG: game_date, then game_id, then
    every PGS column (docs/sources.md order) ascending, NULLs last."""
    return (row["game_date"].toordinal(), _nulls_last(row["game_id"])) + tuple(
        _nulls_last(row[c]) for c in PGS.column_names
    )


def _running_mean(values):
    """§0.3 AVG over FLOAT64: add in the given order, one float64 addition per value, then
    divide once by the count."""
    total = None
    for v in values:
        total = float(v) if total is None else total + float(v)
    return total / len(values)


def _minus_years(day, years):
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # Feb 29 -> Feb 28
        return day.replace(year=day.year - years, day=28)


def _round9_half_away(value: Fraction) -> Fraction:
    """BigQuery NUMERIC: 9 decimals, half away from zero."""
    scaled = abs(value) * 10**9
    whole = int(scaled)
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    return Fraction(whole if value >= 0 else -whole, 10**9)


def _exact(value, minutes_type):
    """An input value as an exact rational (NUMERIC decimals, INT64 ints, FLOAT64 floats)."""
    return Fraction(Decimal(str(value))) if minutes_type == "NUMERIC" else Fraction(value)


def reference_row(pgs_rows, s, minutes_type="NUMERIC", windows=WINDOWS):
    player, day, opponent = s["player_lookup"], s["game_date"], s["opponent_team_abbr"]
    mine = [r for r in pgs_rows if r["player_lookup"] == player and r["game_date"] < day]

    # Q6 / §5
    start = day - dt.timedelta(days=windows["last10_window_days"])
    listed = sorted((r for r in mine if r["game_date"] >= start), key=_list_order_key)
    listed = listed[: windows["last10_size"]]
    n = len(listed)
    total_start = day - dt.timedelta(days=windows["total_games_window_days"])
    total_games = sum(1 for r in mine if r["game_date"] >= total_start)
    p = [r["points"] or 0 for r in listed]

    played = [
        r["points"] for r in listed if r["points"] is not None and (r["minutes_played"] is not None or r["points"] > 0)
    ]
    l5 = sum(played[:5]) / 5 if len(played) >= 5 else None
    l10 = sum(played[:10]) / len(played[:10]) if played else None

    if n < 5:
        trend = 0.0
    else:
        a = (p[0] + p[1] + p[2]) / 3.0
        b = (p[3] + p[4]) / 2.0
        diff = b - a
        trend = 2.0 if diff >= 5 else 1.0 if diff >= 2 else -2.0 if diff <= -5 else -1.0 if diff <= -2 else 0.0

    ft = sum(r["ft_makes"] or 0 for r in listed)
    pts = sum(p)
    pct_ft = 0.15 if n < 5 or pts == 0 else round(max(0.0, min(0.5, ft / pts)), 9)

    dnp_rate = 0.0 if n < 3 else round(sum(1 for r in listed if r["is_dnp"] is True) / n, 9)

    if n < 5:
        slope = 0.0
    else:
        y = [p[n - 1 - j] for j in range(n)]
        x_mean = (n - 1) / 2.0
        y_mean = sum(y) / n
        num = 0.0
        den = 0.0
        for j in range(n):
            num += (j - x_mean) * (y[j] - y_mean)
            den += (j - x_mean) ** 2
        slope = round(num / den, 9)

    minutes_mean = None
    if n >= 1:
        exact_sum = sum(
            (_exact(r["minutes_played"], minutes_type) for r in listed if r["minutes_played"] is not None),
            Fraction(0),
        )
        minutes_mean = float(exact_sum / n)

    # Q7
    season = season_of(day)
    season_rows = sorted(
        (r for r in mine if r["season_year"] == season and r["game_date"] >= dt.date(season, 10, 1)),
        key=_sum_order_key,
    )
    season_points = season_minutes = None
    if season_rows:
        known_points = [r["points"] for r in season_rows if r["points"] is not None]
        season_points = sum(known_points) / len(known_points) if known_points else math.nan
        known_minutes = [
            _exact(r["minutes_played"], minutes_type) for r in season_rows if r["minutes_played"] is not None
        ]
        if minutes_type == "NUMERIC":
            season_minutes = (
                float(_round9_half_away(sum(known_minutes) / len(known_minutes))) if known_minutes else None
            )
        elif minutes_type == "INT64":  # AVG over INT64: exact integer sum / count
            season_minutes = float(sum(known_minutes) / len(known_minutes)) if known_minutes else math.nan
        else:
            season_minutes = _running_mean(known_minutes) if known_minutes else math.nan

    # Q10
    opp_games = opp_avg = None
    if isinstance(opponent, str) and opponent != "":
        since = _minus_years(day, windows["opponent_window_years"])
        versus = [r for r in mine if r["opponent_team_abbr"] == opponent and r["game_date"] >= since]
        opp_games = len(versus)
        known_points = [r["points"] for r in versus if r["points"] is not None]
        opp_avg = sum(known_points) / len(known_points) if known_points else math.nan

    # Q11
    since = day - dt.timedelta(days=windows["minutes_ppm_window_days"])
    recent = sorted(
        (
            r
            for r in mine
            if r["game_date"] >= since
            and r["minutes_played"] is not None
            and _exact(r["minutes_played"], minutes_type) > 0
        ),
        key=_sum_order_key,
    )
    minutes_30 = ppm_30 = None
    if recent:
        minutes = [_exact(r["minutes_played"], minutes_type) for r in recent]
        with_points = [r for r in recent if r["points"] is not None]
        if minutes_type == "NUMERIC":
            minutes_30 = float(_round9_half_away(sum(minutes) / len(minutes)))
            ratios = [
                _round9_half_away(Fraction(r["points"]) / _exact(r["minutes_played"], minutes_type))
                for r in with_points
            ]
            ppm_30 = float(_round9_half_away(sum(ratios) / len(ratios))) if ratios else None
        else:
            # INT64: exact integer sum / count; FLOAT64: running sum in order, one division
            minutes_30 = float(sum(minutes) / len(minutes)) if minutes_type == "INT64" else _running_mean(minutes)
            ratios = [r["points"] / float(r["minutes_played"]) for r in with_points]  # float64 per row
            ppm_30 = _running_mean(ratios) if ratios else math.nan

    return {
        "player_lookup": player,
        "game_date": day,
        "last10_n": n,
        "total_games": total_games,
        "contributing_game_dates": [r["game_date"] for r in listed],
        "p3_points_avg_last_5": l5,
        "p3_points_avg_last_10": l10,
        "recent_trend": trend,
        "pct_free_throw": pct_ft,
        "dnp_rate": dnp_rate,
        "pts_slope_10g": slope,
        "minutes_list_mean": minutes_mean,
        "season_points_avg": season_points,
        "season_minutes_avg": season_minutes,
        "opp_games": opp_games,
        "opp_points_avg": opp_avg,
        "mppm_present": bool(recent),
        "minutes_avg_30d": minutes_30,
        "ppm_avg_30d": ppm_30,
    }


def same_value(a, b) -> bool:
    """Equality with floats compared bit for bit (NaN equals NaN, 0.0 differs from -0.0)."""
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return False
        return struct.pack("<d", float(a)) == struct.pack("<d", float(b))
    return a == b


def assert_matches_reference(frame, pgs_rows, spine_rows, minutes_type="NUMERIC", windows=WINDOWS):
    assert frame.columns == list(OUTPUT_SCHEMA)
    assert frame.schema == pl.Schema(OUTPUT_SCHEMA)
    assert frame.height == len(spine_rows)
    got = {(r["player_lookup"], r["game_date"]): r for r in frame.to_dicts()}
    for s in spine_rows:
        expected = reference_row(pgs_rows, s, minutes_type, windows)
        actual = got[(s["player_lookup"], s["game_date"])]
        wrong = {c: (actual[c], expected[c]) for c in expected if not same_value(actual[c], expected[c])}
        assert not wrong, f"{s}: (engine, reference) {wrong}"


# --------------------------------------------------------------------------- §9 worked example

WORKED_POINTS = [30, 25, None, 20, 10, 15, 22, 18, 0, 14]
WORKED_MINUTES = [34, 31, None, 30, 22, 28, 33, 29, 12, 26]
WORKED_FT = [8, 5, None, 4, 2, 3, 6, 4, 0, 2]
WORKED_DNP = [False, False, True, False, False, False, False, False, False, False]


def worked_example_rows():
    rows = [
        pgs(
            "p",
            days_before(2 * (i + 1)),
            points=WORKED_POINTS[i],
            minutes=WORKED_MINUTES[i],
            ft=WORKED_FT[i],
            dnp=WORKED_DNP[i],
        )
        for i in range(10)
    ]
    # 47 older games within the year bring total_games to 57 (outside the 60-day list window)
    rows += [pgs("p", days_before(61 + 6 * k), points=12) for k in range(47)]
    return rows


def completeness(row):
    """historical_completeness of §8 from the history frame's fields."""
    n = row["last10_n"]
    available = row["total_games"] if n >= 1 else n
    expected = min(available, 10)
    return (n, expected, n >= expected, expected < 10, row["contributing_game_dates"])


def test_worked_example_of_section_9():
    rows = worked_example_rows()
    frame = history_for(rows, [spine("p", D)])
    got = one(frame)
    assert got["last10_n"] == 10
    assert got["p3_points_avg_last_5"] == 20.0
    assert got["p3_points_avg_last_10"] == 17.11111111111111
    assert got["recent_trend"] == -1.0
    assert got["pct_free_throw"] == 0.220779221
    assert got["dnp_rate"] == 0.1
    assert got["pts_slope_10g"] == 1.321212121
    assert got["minutes_list_mean"] == 24.5
    assert got["total_games"] == 57
    list_dates = [days_before(2 * (i + 1)) for i in range(10)]
    assert completeness(got) == (10, 10, True, False, list_dates)
    # feature 12 with Q7 minutes_avg_season = 28.4 (§9): recent 24.5 -> pct -0.137 -> -1.0
    pct = (got["minutes_list_mean"] - 28.4) / 28.4
    assert -0.20 < pct <= -0.10
    assert_matches_reference(frame, rows, [spine("p", D)])


# --------------------------------------------------------------------------- list-size rules


def _games(points_list, minutes=30, ft=3):
    return [pgs("p", days_before(i + 1), points=pt, minutes=minutes, ft=ft) for i, pt in enumerate(points_list)]


def test_four_games_give_the_small_list_defaults_and_five_compute():
    four = history_for(_games([30, 30, 30, 10]), [spine("p", D)])
    got = one(four)
    assert got["last10_n"] == 4
    assert (got["recent_trend"], got["pct_free_throw"], got["pts_slope_10g"]) == (0.0, 0.15, 0.0)
    assert got["p3_points_avg_last_5"] is None
    assert got["p3_points_avg_last_10"] == 25.0

    five_rows = _games([10, 10, 10, 30, 30])  # newest first: A = 10, B = 30 -> diff 20 -> 2.0
    got = one(history_for(five_rows, [spine("p", D)]))
    assert got["last10_n"] == 5
    assert got["recent_trend"] == 2.0
    assert got["pct_free_throw"] == round(15 / 90, 9)
    assert got["p3_points_avg_last_5"] == 18.0
    # chronological y = [30, 30, 10, 10, 10]: slope -6.0
    assert got["pts_slope_10g"] == -6.0


def test_dnp_rate_needs_three_rows():
    two = [pgs("p", days_before(1), points=None, minutes=None, dnp=True), pgs("p", days_before(2))]
    assert one(history_for(two, [spine("p", D)]))["dnp_rate"] == 0.0
    three = two + [pgs("p", days_before(3), dnp=None)]  # NULL is_dnp = not DNP
    assert one(history_for(three, [spine("p", D)]))["dnp_rate"] == 0.333333333


def test_dnp_rows_stay_in_the_list_and_count_as_zero():
    rows = [
        pgs("p", days_before(1), points=None, minutes=None, ft=None, dnp=True),  # DNP
        pgs("p", days_before(2), points=0, minutes=None, dnp=True),  # unmarked DNP: not played
        pgs("p", days_before(3), points=12, minutes=None),  # played: points > 0
        pgs("p", days_before(4), points=None, minutes=20),  # not played: points NULL
        pgs("p", days_before(5), points=0, minutes=5),  # played: minutes not NULL
        pgs("p", days_before(6), points=20, minutes=25),
    ]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["last10_n"] == 6
    assert got["p3_points_avg_last_5"] is None  # 3 played rows only
    assert got["p3_points_avg_last_10"] == 32 / 3
    assert got["minutes_list_mean"] == 50 / 6  # NULL minutes count as 0 over all 6 rows
    assert got["recent_trend"] == -1.0  # A = (0 + 0 + 12) / 3 = 4, B = (0 + 0) / 2 -> diff -4
    assert_matches_reference(history_for(rows, [spine("p", D)]), rows, [spine("p", D)])


def test_duplicate_rows_count_twice():
    twin = pgs("p", days_before(3), points=20)
    rows = [pgs("p", days_before(1), points=10), twin, dict(twin), pgs("p", days_before(400))]
    frame = history_for(rows, [spine("p", D)])
    got = one(frame)
    assert got["last10_n"] == 3
    assert got["contributing_game_dates"] == [days_before(1), days_before(3), days_before(3)]
    assert got["total_games"] == 3
    assert got["opp_games"] == 3
    assert got["p3_points_avg_last_10"] == 50 / 3
    assert_matches_reference(frame, rows, [spine("p", D)])


def test_list_keeps_only_the_ten_newest_rows():
    rows = [pgs("p", days_before(i + 1), points=i) for i in range(14)]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["last10_n"] == 10
    assert got["contributing_game_dates"] == [days_before(i + 1) for i in range(10)]
    assert got["p3_points_avg_last_10"] == sum(range(10)) / 10
    assert got["total_games"] == 14


def test_same_day_tie_break_takes_the_smaller_game_id_first():
    rows = [pgs("p", days_before(i + 1), points=10) for i in range(9)]
    tied_day = days_before(20)
    rows += [
        pgs("p", tied_day, points=40, game_id="20251231_B_TEA"),
        pgs("p", tied_day, points=0, game_id="20251231_A_TEA"),
    ]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["last10_n"] == 10
    assert got["p3_points_avg_last_10"] == 90 / 10  # the 'A' game (0 points) is the 10th row


def test_same_day_tie_break_falls_back_to_every_column():
    tied_day = days_before(20)
    rows = [pgs("p", days_before(i + 1), points=10) for i in range(8)]
    rows += [
        pgs("p", tied_day, points=None, minutes=None, game_id="G"),  # NULL points sort last
        pgs("p", tied_day, points=7, game_id="G"),
        pgs("p", tied_day, points=3, game_id="G"),
    ]
    frame = history_for(rows, [spine("p", D)])
    assert one(frame)["last10_n"] == 10  # the NULL-points twin is the 11th row and drops out
    assert one(frame)["p3_points_avg_last_10"] == (80 + 3 + 7) / 10
    assert_matches_reference(frame, rows, [spine("p", D)])


# --------------------------------------------------------------------------- window edges


def test_list_window_is_d_minus_60_to_d_minus_1():
    rows = [
        pgs("p", D, points=99),  # D itself: excluded everywhere
        pgs("p", D + dt.timedelta(days=1), points=99),  # after D: never read
        pgs("p", days_before(60), points=20),  # in
        pgs("p", days_before(61), points=30),  # out of the list, in total_games
    ]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["last10_n"] == 1
    assert got["contributing_game_dates"] == [days_before(60)]
    assert got["total_games"] == 2
    assert got["p3_points_avg_last_10"] == 20.0


def test_total_games_window_is_d_minus_365_to_d_minus_1():
    rows = [pgs("p", days_before(1)), pgs("p", days_before(365)), pgs("p", days_before(366)), pgs("p", D)]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["total_games"] == 2
    assert got["last10_n"] == 1


def test_windows_come_from_the_parameters():
    rows = [pgs("p", days_before(i + 1), points=i) for i in range(8)]
    windows = dict(WINDOWS, last10_window_days=3, last10_size=2, total_games_window_days=5)
    frame = history_for(rows, [spine("p", D)], windows=windows)
    got = one(frame)
    assert got["last10_n"] == 2
    assert got["total_games"] == 5
    assert_matches_reference(frame, rows, [spine("p", D)], windows=windows)


def test_opponent_window_is_one_calendar_year_across_feb_29():
    rows = [
        pgs("p", dt.date(2023, 2, 28), opponent="BOS", points=1),
        pgs("p", dt.date(2023, 3, 1), opponent="BOS", points=2),
        pgs("p", dt.date(2024, 2, 27), opponent="BOS", points=4),
        pgs("p", dt.date(2024, 2, 28), opponent="BOS", points=8),
        pgs("p", dt.date(2024, 2, 29), opponent="BOS", points=16),
        pgs("p", dt.date(2024, 3, 1), opponent="BOS", points=32),
    ]
    spine_rows = [
        spine("p", dt.date(2024, 3, 1), "BOS"),  # [2023-03-01, 2024-02-29]
        spine("p", dt.date(2025, 2, 28), "BOS"),  # [2024-02-28, 2025-02-27]
        spine("p", dt.date(2024, 2, 29), "BOS"),  # [2023-02-28, 2024-02-28]
    ]
    frame = history_for(rows, spine_rows)
    leap_next = one(frame, day=dt.date(2024, 3, 1))
    assert (leap_next["opp_games"], leap_next["opp_points_avg"]) == (4, (2 + 4 + 8 + 16) / 4)
    after_leap = one(frame, day=dt.date(2025, 2, 28))
    assert (after_leap["opp_games"], after_leap["opp_points_avg"]) == (3, (8 + 16 + 32) / 3)
    on_leap = one(frame, day=dt.date(2024, 2, 29))
    assert (on_leap["opp_games"], on_leap["opp_points_avg"]) == (4, (1 + 2 + 4 + 8) / 4)
    assert_matches_reference(frame, rows, spine_rows)


def test_minutes_ppm_window_is_d_minus_30_and_positive_minutes():
    rows = [
        pgs("p", days_before(30), points=10, minutes=20),  # in
        pgs("p", days_before(31), points=99, minutes=20),  # out
        pgs("p", days_before(2), points=5, minutes=0),  # minutes 0: out
        pgs("p", days_before(3), points=None, minutes=None, dnp=True),  # DNP: out
        pgs("p", D, points=50, minutes=10),  # D: out
    ]
    got = one(history_for(rows, [spine("p", D)]))
    assert got["mppm_present"] is True
    assert got["minutes_avg_30d"] == 20.0
    assert got["ppm_avg_30d"] == 0.5
    nothing = one(history_for([pgs("p", days_before(2), minutes=0)], [spine("p", D)]))
    assert (nothing["mppm_present"], nothing["minutes_avg_30d"], nothing["ppm_avg_30d"]) == (False, None, None)


def test_season_window_is_oct_1_of_s_to_d_minus_1_with_season_year_s():
    rows = [
        pgs("p", dt.date(2025, 9, 30), points=99),  # before Oct 1 (season 2024 row)
        pgs("p", dt.date(2025, 10, 1), points=10),  # first day of season 2025
        pgs("p", dt.date(2025, 10, 5), points=99, season_year=2024),  # not season_year S
        pgs("p", dt.date(2025, 9, 28), points=99, season_year=2025),  # season_year S but before Oct 1
        pgs("p", dt.date(2026, 1, 19), points=20),
        pgs("p", D, points=99),
    ]
    frame = history_for(rows, [spine("p", D), spine("p", dt.date(2025, 10, 1))])
    got = one(frame)
    assert got["season_points_avg"] == 15.0
    assert got["season_minutes_avg"] == 30.0
    first_day = one(frame, day=dt.date(2025, 10, 1))  # no row before D in season S: absent
    assert (first_day["season_points_avg"], first_day["season_minutes_avg"]) == (None, None)
    assert_matches_reference(frame, rows, [spine("p", D), spine("p", dt.date(2025, 10, 1))])


# --------------------------------------------------------------------------- NaN and absence


def test_season_with_only_null_points_is_nan_n1():
    rows = [pgs("p", days_before(2), points=None, minutes=None, dnp=True)]
    got = one(history_for(rows, [spine("p", D)]))
    assert math.isnan(got["season_points_avg"])
    assert got["season_minutes_avg"] is None  # NUMERIC: NULL, not NaN


def test_never_faced_opponent_has_zero_games_and_nan_average_n2():
    rows = [pgs("p", days_before(2), opponent="BOS")]
    got = one(history_for(rows, [spine("p", D, "NYK")]))
    assert got["opp_games"] == 0
    assert math.isnan(got["opp_points_avg"])
    dnp_only = [pgs("p", days_before(2), opponent="NYK", points=None, minutes=None, dnp=True)]
    got = one(history_for(dnp_only, [spine("p", D, "NYK")]))
    assert got["opp_games"] == 1
    assert math.isnan(got["opp_points_avg"])


def test_unknown_opponent_gives_nulls():
    rows = [pgs("p", days_before(2), opponent="")]
    frame = history_for(rows, [spine("p", D, None), spine("p", days_before(1), "")])
    for day in (D, days_before(1)):
        got = one(frame, day=day)
        assert (got["opp_games"], got["opp_points_avg"]) == (None, None)


def test_player_without_history():
    got = one(history_for([pgs("q", days_before(1))], [spine("p", D)]))
    assert got["last10_n"] == 0 and got["total_games"] == 0
    assert got["contributing_game_dates"] == []
    assert (got["recent_trend"], got["pct_free_throw"], got["dnp_rate"], got["pts_slope_10g"]) == (0.0, 0.15, 0.0, 0.0)
    for column in (
        "p3_points_avg_last_5",
        "p3_points_avg_last_10",
        "minutes_list_mean",
        "season_points_avg",
        "season_minutes_avg",
        "minutes_avg_30d",
        "ppm_avg_30d",
    ):
        assert got[column] is None, column
    assert (got["opp_games"], math.isnan(got["opp_points_avg"]), got["mppm_present"]) == (0, True, False)


def test_empty_spine_gives_an_empty_frame_with_the_schema():
    frame = history_for([pgs("p", days_before(1))], [])
    assert frame.height == 0
    assert frame.schema == pl.Schema(OUTPUT_SCHEMA)


def test_nan_only_in_the_n1_n2_n3_columns():
    rows = [
        pgs("p", days_before(2), points=None, minutes=None, dnp=True),
        pgs("p", days_before(3), points=None, minutes=12, opponent="BOS"),
    ]
    for minutes_type, nan_columns in (
        ("NUMERIC", {"season_points_avg", "opp_points_avg"}),
        ("INT64", {"season_points_avg", "opp_points_avg", "ppm_avg_30d"}),
    ):
        got = one(history_for(rows, [spine("p", D, "BOS")], minutes_type))
        found = {c for c, v in got.items() if isinstance(v, float) and math.isnan(v)}
        assert found == nan_columns, minutes_type


# --------------------------------------------------------------------------- many dates at once


def test_every_spine_row_over_many_dates_matches_the_reference():
    rows = worked_example_rows() + [
        pgs("q", days_before(k * 3), points=k % 7 * 4 or None, minutes=(k * 7) % 41, opponent="BOS" if k % 2 else "NYK")
        for k in range(1, 90)
    ]
    spine_rows = [spine("p", days_before(k), "OPP") for k in range(0, 200, 7)]
    spine_rows += [spine("q", days_before(k), ["BOS", "NYK", None, ""][k % 4]) for k in range(0, 300, 5)]
    for minutes_type in ("NUMERIC", "INT64"):
        frame = history_for(rows, spine_rows, minutes_type)
        assert_matches_reference(frame, rows, spine_rows, minutes_type)


# --------------------------------------------------------------------------- property test

PLAYERS = ["a", "b", "c"]
BASE = dt.date(2024, 12, 1)


@st.composite
def pgs_tables(draw, minutes_type):
    rows = []
    for _ in range(draw(st.integers(0, 40))):
        day = BASE + dt.timedelta(days=draw(st.integers(-420, 120)))
        if minutes_type == "NUMERIC":
            minutes = draw(
                st.one_of(
                    st.none(),
                    st.just(0),
                    st.integers(1, 48),
                    st.decimals(min_value=0, max_value=48, places=1),
                    # realistic minutes: ratios points / minutes stay far below 9.2e9 (BIGINT x 10^9)
                    st.decimals(min_value=Decimal("0.001"), max_value=48, places=9),
                )
            )
            minutes = None if minutes is None else Decimal(minutes)
        elif minutes_type == "INT64":
            minutes = draw(st.one_of(st.none(), st.integers(0, 48)))
        else:  # FLOAT64: whole and fractional float64 minutes
            minutes = draw(
                st.one_of(
                    st.none(),
                    st.integers(0, 48),
                    st.floats(min_value=0.01, max_value=48.0),
                )
            )
        row = pgs(
            draw(st.sampled_from(PLAYERS)),
            day,
            points=draw(st.one_of(st.none(), st.integers(0, 45))),
            minutes=minutes,
            ft=draw(st.one_of(st.none(), st.integers(0, 12))),
            dnp=draw(st.sampled_from([None, False, True])),
            opponent=draw(st.sampled_from(["BOS", "NYK", ""])),
            game_id=draw(st.sampled_from([None, "G1", "G2"])) or f"{day:%Y%m%d}_X_TEA",
        )
        if draw(st.integers(0, 4)) == 0:
            row["season_year"] = row["season_year"] - 1  # odd data: season_year not of the date
        rows.append(row)
        if rows and draw(st.integers(0, 5)) == 0:
            rows.append(dict(rows[draw(st.integers(0, len(rows) - 1))]))  # a duplicate
    return rows


@st.composite
def spines(draw):
    keys = draw(st.sets(st.tuples(st.sampled_from(PLAYERS), st.integers(-300, 130)), min_size=0, max_size=12))
    return [
        spine(p, BASE + dt.timedelta(days=k), draw(st.sampled_from(["BOS", "NYK", "", None]))) for p, k in sorted(keys)
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), minutes_type=st.sampled_from(["NUMERIC", "INT64", "FLOAT64"]))
def test_matches_the_reference_on_random_tables(data, minutes_type):
    rows = data.draw(pgs_tables(minutes_type))
    spine_rows = data.draw(spines())
    frame = history_for(rows, spine_rows, minutes_type)
    assert_matches_reference(frame, rows, spine_rows, minutes_type)


def test_reference_rounding_helper():
    assert _round9_half_away(Fraction(5, 10**10)) == Fraction(1, 10**9)
    assert _round9_half_away(Fraction(-5, 10**10)) == Fraction(-1, 10**9)
    assert _round9_half_away(Fraction(4999, 10**13)) == 0
    assert Decimal("0.0000000005").quantize(Decimal("1e-9"), ROUND_HALF_UP) == Decimal("1e-9")
