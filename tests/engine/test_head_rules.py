"""Hand-built cases for every rule of contract v2_54features (docs/v2_54/features.md) that the
head assembly implements: the exact-arithmetic helpers on the spec's worked examples (§7), and
tiny worlds per rule and boundary (§1 spine, §2 changes to 0-36, §4 extractions, §5 features).
Expected values are the spec's or computed by hand in the test, never by the code under test."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from fsengine.engine import assemble_head as ah
from tests.engine.head_world import D, pgs, row_of, run, upgc

DAY = "2025-12-10"


def values(r):
    return r["feature_values"]


def tags(r):
    return r["feature_tags"]


def missing_nan(v):
    return v is None or (isinstance(v, float) and math.isnan(v))


# --------------------------------------------------------------------------- exact helpers


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=80), min_size=2, max_size=12))
def test_stdev_of_integers_is_the_correctly_rounded_root(points):
    mean = Fraction(sum(points), len(points))
    variance = sum((Fraction(p) - mean) ** 2 for p in points) / (len(points) - 1)
    got = ah.exact_stdev(points)
    # correctly rounded: the exact root lies within half an ulp of the result
    lo, hi = Fraction(got) - Fraction(math.ulp(got)) / 2, Fraction(got) + Fraction(math.ulp(got)) / 2
    assert lo * lo <= variance <= hi * hi or got == 0.0
    assert got == statistics.stdev(points)  # Python 3.11's statistics.stdev is correctly rounded


def test_stdev_of_floats_uses_the_exact_inputs():
    assert ah.exact_stdev([24.5, 25.5, 24.5]) == 0.5773502691896257  # §7.5, not ...258
    assert ah.exact_stdev([18.5, 19.0]) == 0.3535533905932738


def test_lower_middle_median():
    assert ah.lower_middle([26.5, 24.5, 25.5, 25.0]) == 25.0
    assert ah.lower_middle([23.5, 22.5, 23.5]) == 23.5


def test_numeric_avg_rounds_half_away_from_zero():
    assert ah.numeric_avg_e9(60_010_000_000, 3) == 20_003_333_333  # 20.00 20.00 20.01 (§7.4)
    assert ah.numeric_avg_e9(5, 2) == 3 and ah.numeric_avg_e9(-5, 2) == -3


def test_decimal_quotient_is_28_digits_then_float():
    assert ah.decimal_quotient(Decimal("197.0"), Decimal(7)) == 28.142857142857142
    assert ah.decimal_quotient(Decimal(131), Decimal("197.0")) == 0.6649746192893401
    assert ah.decimal_quotient(Decimal("896.5"), Decimal(9)) == 99.61111111111111


def test_float_sum_is_left_to_right():
    assert ah.float_sum([0.1, 0.2, 0.3]) == (0.1 + 0.2) + 0.3
    assert ah.float_sum([0.3, 0.2, 0.1]) == (0.3 + 0.2) + 0.1
    assert ah.float_sum([0.1, 0.2, 0.3]) != ah.float_sum([0.3, 0.2, 0.1])


# --------------------------------------------------------------------------- §7 worked examples


def _list_row(day, points, minutes, dnp=False, fg=None, paint=None, mid=None, three=None, team="BOS"):
    return dict(
        list_date=D(day),
        points=points,
        minutes_e9=None if minutes is None else int(minutes * 10**9),
        minutes_float=None if minutes is None else float(minutes),
        is_dnp=dnp,
        fg_attempts=fg,
        paint_attempts=paint,
        mid_range_attempts=mid,
        three_pt_attempts=three,
        team_abbr=team,
    )


EXAMPLE_71 = [
    _list_row("2026-03-08", 22, 31, False, 16, 6, 4, 6),
    _list_row("2026-03-06", None, None, True),
    _list_row("2026-03-04", 18, 28, False, 14, 5, 3, 6),
    _list_row("2026-03-02", 25, 33, False, 19, 8, 4, 7),
    _list_row("2026-02-27", 12, 24, False, 10, 4, 2, 4),
    _list_row("2026-02-25", 30, 35, False, 21, 9, 5, 7),
    _list_row("2026-02-23", 9, 19, False, 8, 3, 2, 3),
    _list_row("2026-02-21", 15, 27, False, 12, 5, 2, 5),
]
PACES = [98.5, 101.0, 99.5, None, 100.0, 97.5, 102.5, 99.0, 100.5, 98.0]


def test_cache_miss_fallback_worked_example_71():
    team_rows = [
        dict(slot=i, pace_e9=None if p is None else int(Decimal(str(p)) * 10**9), offensive_rating_e9=None)
        for i, p in enumerate(PACES)
    ]
    emitted, c = ah.cache_miss_values(EXAMPLE_71, D("2026-03-10"), "NUMERIC", 19.3, lambda team: team_rows, "BOS")
    assert emitted
    assert c["points_avg_last_5"] == 21.4
    assert c["points_avg_last_10"] == 18.714285714285715
    assert c["points_std_last_10"] == 7.432233529572065
    assert c["games_in_last_7_days"] == 2.0
    assert c["minutes_avg_last_10"] == 28.142857142857142
    assert c["ppm_avg_last_10"] == 0.6649746192893401
    assert (c["paint_rate_last_10"], c["mid_range_rate_last_10"], c["three_pt_rate_last_10"]) == (0.4, 0.22, 0.38)
    assert c["team_pace_last_10"] == 99.61111111111111
    assert "team_off_rating_last_10" not in c  # no non-NULL rating
    assert c["points_avg_season"] == 19.3


def test_cache_miss_exception_path_and_its_exemptions():
    rows = [dict(r) for r in EXAMPLE_71]
    rows[1] = {**rows[1], "is_dnp": False}  # NULL minutes on a non-DNP row
    assert ah.cache_miss_values(rows, D("2026-03-10"), "NUMERIC", None, lambda t: [], "BOS")[0] is False
    rows[1] = {**rows[1], "is_dnp": None}  # NULL is_dnp is "not TRUE"
    assert ah.cache_miss_values(rows, D("2026-03-10"), "INT64", None, lambda t: [], "BOS")[0] is False
    # FLOAT64 minutes: the NULL arrives as NaN, no error, the row does not count
    emitted, c = ah.cache_miss_values(rows, D("2026-03-10"), "FLOAT64", None, lambda t: [], "BOS")
    assert emitted and c["points_avg_last_10"] == 131 / 7
    # a DNP row with NULL minutes is never tested (the example itself)
    assert ah.cache_miss_values(EXAMPLE_71, D("2026-03-10"), "NUMERIC", None, lambda t: [], "BOS")[0]


def test_cache_miss_games_window_is_eight_days_and_one_game_std_is_zero():
    rows = [_list_row("2026-03-03", 10, 20), _list_row("2026-03-02", 12, 20)]
    _, c = ah.cache_miss_values(rows, D("2026-03-10"), "NUMERIC", None, lambda t: [], "")
    assert c["games_in_last_7_days"] == 1.0  # 03-03 = D - 7 counts, 03-02 does not
    _, c = ah.cache_miss_values(rows[:1], D("2026-03-10"), "NUMERIC", None, lambda t: [], "")
    assert c["points_std_last_10"] == 0.0
    # zero-minute rows are not fallback-played; all of them -> C empty
    _, c = ah.cache_miss_values([_list_row("2026-03-03", 4, 0)], D("2026-03-10"), "NUMERIC", None, lambda t: [], "")
    assert c == {}


def _r_rows(days, points, usage, team="BOS"):
    return [
        dict(points=p, usage_e9=None if u is None else int(Decimal(str(u)) * 10**9), team_abbr=team, row_date=D(d))
        for d, p, u in zip(days, points, usage)
    ]


def test_rolling_stats_worked_example_73():
    days = [
        "2026-01-10",
        "2026-01-12",
        "2026-01-14",
        "2026-01-16",
        "2026-02-02",
        "2026-02-04",
        "2026-02-06",
        "2026-02-08",
    ]
    r = ah.rolling_values(
        _r_rows(days, [12, 25, 18, 30, 22, 9, 27, 15], [22.10, None, 25.40, 19.85, 27.30, 24.05, None, 26.75])
    )
    assert r["l3"] == 17.0
    assert r["slope"] == -1.1785714285714286
    assert r["dev"] == -0.3677187969976372
    assert r["below"] == 1.0
    assert r["usage"] == 24.669999999999998
    assert r["gsc"] == 3.0
    ys = [12.0, 25.0, 18.0, 30.0, 22.0, 9.0, 27.0, 15.0]
    s = 0
    for y in ys:
        s = s + (y - 19.75) ** 2
    assert (s / 7) ** 0.5 == 7.4785407285493495


def test_rolling_stats_short_history_quirks():
    one = ah.rolling_values(_r_rows(["2026-01-10"], [12], [None]))
    assert (one["slope"], one["usage"], one["dev"], one["gsc"]) == (0.0, 20.0, 0.0, 1.0)  # sd = 5.0, dev 0
    assert ah.rolling_values([]) is None
    traded = _r_rows(["2026-01-10", "2026-01-12"], [10, 20], [None, None], "BOS")
    traded[1]["team_abbr"] = "NYK"
    assert ah.rolling_values(traded)["gsc"] == 0.0  # change at i = 2 of m = 2


def test_multi_book_std_worked_example_75():
    x, y = D("2026-03-10"), D("2026-03-11")
    lines = [dict(source="odds_api", player_lookup="q", game_date=x, points_line=v) for v in (24.5, 25.5, 24.5)]
    lines += [dict(source="bettingpros", player_lookup="r", game_date=x, points_line=v) for v in (18.5, 19.0)]
    lines += [dict(source="odds_api", player_lookup="s", game_date=y, points_line=v) for v in (20.5, 20.5)]
    lines += [dict(source="bettingpros", player_lookup="r", game_date=y, points_line=v) for v in (18.5, 19.0)]
    lines += [dict(source="bettingpros", player_lookup="s", game_date=y, points_line=v) for v in (10.0, 12.0)]
    out = ah.multi_book_std(lines)
    assert out[("q", x)] == (0.5773502691896257, "vegas")
    assert ("r", x) not in out  # max_std(X) >= 0.3: no BettingPros on X
    assert out[("r", y)] == (0.3535533905932738, "bettingpros")
    assert out[("s", y)] == (0.0, "vegas")  # an Odds API value (0.0) keeps BettingPros out
    # a date-level switch, exactly at 0.3 it stays off
    at = [dict(source="odds_api", player_lookup="a", game_date=x, points_line=v) for v in (10.0, 10.0)]
    at += [dict(source="bettingpros", player_lookup="b", game_date=x, points_line=v) for v in (10.0, 11.0)]
    assert ("b", x) in ah.multi_book_std(at)
    assert ("b", x) not in ah.multi_book_std(at, switch_below=0.0)


def test_line_delta_worked_example_76_and_window_bounds():
    lines = [dict(player_lookup="p", line_date=D("2026-03-10"), points_line=v) for v in (24.5, 25.0, 25.5, 26.5)]
    lines += [dict(player_lookup="p", line_date=D("2026-03-07"), points_line=v) for v in (22.5, 23.5, 23.5)]
    lines += [dict(player_lookup="p", line_date=D("2026-02-20"), points_line=10.0)]
    assert ah.line_deltas(lines, [("p", D("2026-03-10"))], 14) == {("p", D("2026-03-10")): 1.5}
    # d' must lie in [D - 14, D - 1]: 02-24 counts for 03-10, 02-23 does not
    edge = [
        dict(player_lookup="p", line_date=D("2026-03-10"), points_line=25.0),
        dict(player_lookup="p", line_date=D("2026-02-24"), points_line=20.0),
    ]
    assert ah.line_deltas(edge, [("p", D("2026-03-10"))], 14) == {("p", D("2026-03-10")): 5.0}
    edge[1]["line_date"] = D("2026-02-23")
    assert ah.line_deltas(edge, [("p", D("2026-03-10"))], 14) == {}


def _h(points_lines):
    return [
        dict(games_ago=i + 1, points=p, line_e9=int(Decimal(str(line)) * 10**9))
        for i, (p, line) in enumerate(points_lines)
    ]


def test_line_history_worked_example_77():
    rows = _h([(28, 24.5), (19, 24.5), (30, 25.5), (0, 22.5), (22, 22.5), (26, 23.5), (21, 21.5)])
    assert ah.line_history_values(rows) == (0.428571429, -4.1)
    assert ah.line_history_values(_h([(27, 23.5), (18, 23.5), (26, 23.5)])) == (None, 0.166666667)
    assert ah.line_history_values(_h([(27, 23.5), (18, 23.5)])) == (None, None)


def test_opportunity_worked_example_78():
    minutes = [34.0, 30.0, 36.0, 28.0, 31.0, 25.0, 33.0, 29.0, 27.0, 35.0]
    rows = [
        dict(slot=i, team_abbr="NYK" if i < 3 else "BKN", minutes_e9=int(m * 10**9), minutes_float=m)
        for i, m in enumerate(minutes)
    ]
    assert ah.opportunity_values(rows, lambda team: 4 / 10 if team == "NYK" else None, "NUMERIC") == (0.4, 3.06)
    assert ah.opportunity_values(rows, lambda team: None, "NUMERIC") == (0.2, 3.06)
    assert ah.opportunity_values(rows[:2], lambda team: 0.5, "NUMERIC") == (None, None)


# --------------------------------------------------------------------------- tiny worlds


def test_s1_history_filter_is_sixty_days_any_row():
    rows = {
        "pgs": [
            pgs("in60", "2025-10-11", is_dnp=True, points=None, minutes=None),
            pgs("in60", DAY),
            pgs("out61", "2025-10-10"),
            pgs("out61", DAY),
            pgs("none", DAY),
        ]
    }
    frame = run(rows, DAY)
    assert sorted(frame["player_lookup"]) == ["in60"]


def test_s2_production_filter():
    day = DAY
    hist = [pgs(p, "2025-12-01") for p in ("ok", "low", "prop", "OUT", "out", "notready", "nullready")]
    ctx = [
        upgc("ok", day, avg_minutes_per_game_last_7=20, is_production_ready=True),
        upgc("low", day, avg_minutes_per_game_last_7=14.9, is_production_ready=True),
        upgc("prop", day, avg_minutes_per_game_last_7=None, has_prop_line=True),
        upgc("OUT", day, avg_minutes_per_game_last_7=20, is_production_ready=True, player_status="OUT"),
        upgc("out", day, avg_minutes_per_game_last_7=20, is_production_ready=True, player_status="out"),
        upgc("notready", day, avg_minutes_per_game_last_7=20, is_production_ready=False),
        upgc("nullready", day, avg_minutes_per_game_last_7=20, is_production_ready=None),
    ]
    frame = run({"pgs": hist, "upgc": ctx}, day, production_from=day)
    assert sorted(frame["player_lookup"]) == ["ok", "out", "prop"]


def test_phase4_is_exact_date_and_a_miss_uses_the_fallback():
    rows = {
        "pgs": [
            pgs("p", "2025-12-08", points=20, minutes=30),
            pgs("p", "2025-12-06", points=10, minutes=20),
            pgs("p", DAY),
        ],
        "daily_cache": [
            dict(
                player_lookup="p",
                cache_date=D("2025-12-09"),
                points_avg_last_5=99,
                points_avg_last_10=99,
                points_avg_season=99,
                points_std_last_10=9,
                games_in_last_7_days=9,
                minutes_avg_last_10=40,
            )
        ],
        "composite": [dict(player_lookup="p", game_date=D("2025-12-09"), fatigue_score=80)],
        "upgc": [upgc("p", DAY, games_in_last_7_days=5)],
    }
    r = row_of(run(rows, DAY), "p", DAY)
    assert values(r)[:4] == [15.0, 15.0, 15.0, math.sqrt(50)]  # C: (20+10)/2; season = Q7 15.0; stdev(20, 10)
    assert tags(r)[:5] == ["phase4"] * 5 and values(r)[4] == 2.0  # C's 8-day count wins over UPGC's 5
    assert tags(r)[5] == "default" and values(r)[5] == 50.0  # composite row of D - 1 not used
    assert r["cache_miss_fallback_used"] is True


def test_cache_hit_feature_4_from_upgc_and_nan_season_falls_through():
    rows = {
        "pgs": [pgs("p", "2025-12-08", points=None, minutes=30), pgs("p", DAY)],
        "daily_cache": [dict(player_lookup="p", cache_date=D(DAY), points_avg_last_5=12)],
        "upgc": [upgc("p", DAY, games_in_last_7_days=3)],
    }
    r = row_of(run(rows, DAY), "p", DAY)
    assert (values(r)[4], tags(r)[4]) == (3.0, "phase3")
    # Q7 season average is NaN (N1: no non-NULL point) -> absent -> default 10.0
    assert (values(r)[2], tags(r)[2]) == (10.0, "default")
    assert r["cache_miss_fallback_used"] is False
    assert (values(r)[29], tags(r)[29]) == (10.0, "calculated")  # NaN opponent avg and NaN season


def test_exception_path_drops_the_row_only_on_a_cache_miss():
    hist = [
        pgs("p", "2025-12-08", minutes=None, is_dnp=False),
        pgs("q", "2025-12-08", minutes=None, is_dnp=True),
        pgs("h", "2025-12-08", minutes=None, is_dnp=None),
    ]
    rows = {
        "pgs": hist + [pgs(p, DAY) for p in "pqh"],
        "daily_cache": [dict(player_lookup="h", cache_date=D(DAY), points_avg_last_5=12)],
    }
    assert sorted(run(rows, DAY)["player_lookup"]) == ["h", "q"]


def test_recent_trend_newest_two_against_next_three():
    points = [30, 25, None, 20, 10]  # newest first (§7.2)
    days = ["2025-12-09", "2025-12-08", "2025-12-07", "2025-12-06", "2025-12-05"]
    rows = {"pgs": [pgs("p", d, points=pt) for d, pt in zip(days, points)] + [pgs("p", DAY)]}
    assert values(row_of(run(rows, DAY), "p", DAY))[11] == 2.0
    rows = {"pgs": [pgs("p", d, points=pt) for d, pt in zip(days, [10, 10, 14, 12, 13])] + [pgs("p", DAY)]}
    assert values(row_of(run(rows, DAY), "p", DAY))[11] == -1.0  # 10 - 13 = -3
    rows = {"pgs": [pgs("p", d, points=pt) for d, pt in zip(days[:4], [30, 25, 0, 20])] + [pgs("p", DAY)]}
    assert values(row_of(run(rows, DAY), "p", DAY))[11] == 0.0  # fewer than 5 list rows


def test_zone_rates_from_the_fallback_are_divided_by_100():
    rows = {
        "pgs": [
            pgs("p", "2025-12-08", fg_attempts=10, paint_attempts=4, mid_range_attempts=2, three_pt_attempts=4),
            pgs("p", DAY),
            pgs("z", "2025-12-08"),
            pgs("z", DAY),
        ],
        "shot_zone": [
            dict(
                player_lookup="z",
                analysis_date=D(DAY),
                paint_rate_last_10=40,
                mid_range_rate_last_10=22,
                three_pt_rate_last_10=38,
            )
        ],
    }
    frame = run(rows, DAY)
    p, z = row_of(frame, "p", DAY), row_of(frame, "z", DAY)
    assert values(p)[18:21] == [0.004, 0.002, 0.004] and tags(p)[18:21] == ["phase4"] * 3
    assert values(z)[18:21] == [0.4, 0.22, 0.38]


def test_minutes_and_ppm_fall_to_the_fallback_without_a_q11_row():
    rows = {"pgs": [pgs("p", "2025-11-05", points=21, minutes=30), pgs("p", DAY)]}  # 35 days back: no Q11 row
    r = row_of(run(rows, DAY), "p", DAY)
    assert (values(r)[31], tags(r)[31]) == (30.0, "phase4")
    assert (values(r)[32], tags(r)[32]) == (0.7, "phase4")


def test_vegas_pre_tip_lines_and_their_source():
    t = dt.datetime(2025, 12, 10, 20, tzinfo=dt.UTC)
    odds = [
        dict(
            player_lookup="a",
            game_date=D(DAY),
            bookmaker="fanduel",
            points_line=20.5,
            snapshot_timestamp=t,
            minutes_before_tipoff=30,
        ),
        dict(
            player_lookup="a",
            game_date=D(DAY),
            bookmaker="fanduel",
            points_line=22.5,
            snapshot_timestamp=t + dt.timedelta(hours=1),
            minutes_before_tipoff=-30,
        ),
        dict(
            player_lookup="b",
            game_date=D(DAY),
            bookmaker="fanduel",
            points_line=18.5,
            snapshot_timestamp=t,
            minutes_before_tipoff=None,
        ),
    ]
    bp = [
        dict(
            player_lookup="a",
            game_date=D(DAY),
            market_type="points",
            points_line=21.0,
            opening_line=20.0,
            created_at=t,
            bookmaker="BetMGM",
        ),
        dict(
            player_lookup="b",
            game_date=D(DAY),
            market_type="points",
            points_line=19.0,
            opening_line=19.5,
            created_at=t,
            bookmaker="BetMGM",
        ),
    ]
    hist = [pgs(p, "2025-12-08") for p in "abc"] + [pgs(p, DAY) for p in "abc"]
    frame = run({"pgs": hist, "odds_api": odds, "bettingpros": bp}, DAY)
    a, b, c = (row_of(frame, p, DAY) for p in "abc")
    assert values(a)[25:28] == [20.5, 20.5, 0.0] and a["vegas_line_source"] == "both"
    assert values(b)[25:28] == [19.0, 19.5, -0.5] and b["vegas_line_source"] == "bettingpros"
    assert c["vegas_line_source"] == "none" and tags(c)[25] == "missing"
    assert values(a)[53] == 20.5 - values(a)[2] and tags(a)[53] == "calculated"
    assert missing_nan(values(c)[53]) and tags(c)[53] == "missing"


def test_teammate_usage_worked_example_74():
    day = DAY
    usage = {"p1": [24.50, 26.10, 22.75], "p2": [20.00, 20.00, 20.01], "p3": [30.0, 30.0, 30.0]}
    hist = []
    for p, us in usage.items():
        for k, u in enumerate(us):
            hist.append(pgs(p, D(day) - dt.timedelta(days=2 + 2 * k), usage_rate=u, minutes=20))
    hist.append(pgs("p1", D(day) - dt.timedelta(days=31), usage_rate=90, minutes=20))  # outside 30 days
    hist.append(pgs("p2", D(day) - dt.timedelta(days=3), usage_rate=90, minutes=10))  # minutes not > 10
    team = [pgs(p, "2025-12-08") for p in ("mate", "other")]
    report = [
        dict(report_date=D(day), player_lookup="p1", team="BOS", injury_status="Out", report_hour=10),
        dict(report_date=D(day), player_lookup="p1", team="BOS", injury_status="Available", report_hour=17),
        dict(report_date=D(day), player_lookup="p2", team="BOS", injury_status="Doubtful", report_hour=10),
        dict(report_date=D(day), player_lookup="p3", team="BOS", injury_status="Questionable", report_hour=10),
        dict(report_date=D(day), player_lookup=None, team="BOS", injury_status="Out", report_hour=10),
        dict(report_date=D("2025-12-09"), player_lookup="p3", team="BOS", injury_status="Out", report_hour=10),
    ]
    ctx = [upgc(p, day) for p in ("p1", "p2", "p3", "mate")] + [upgc("other", day, team="NYK", opponent="BOS")]
    spine = [pgs(p, day) for p in ("p1", "p2", "p3", "mate")] + [pgs("other", day, team="NYK", opponent="BOS")]
    frame = run({"pgs": hist + team + spine, "upgc": ctx, "injury_report": report}, day)
    assert (values(row_of(frame, "mate", day))[47], tags(row_of(frame, "mate", day))[47]) == (
        44.453333333,
        "calculated",
    )
    assert (values(row_of(frame, "p3", day))[47]) == 44.453333333  # questionable is not injured
    for p in ("p1", "p2", "other"):
        r = row_of(frame, p, day)
        assert missing_nan(values(r)[47]) and tags(r)[47] == "missing"


def test_line_history_and_opportunity_in_a_world():
    days = [D(DAY) - dt.timedelta(days=2 * k) for k in range(1, 7)]
    hist = [pgs("p", d, points=20 + k, minutes=30 + k) for k, d in enumerate(days)] + [pgs("p", DAY)]
    graded = []
    for k, d in enumerate(days):
        graded.append(dict(player_lookup="p", game_date=d, line_value=20.5, recommendation="OVER", system_id="a"))
        graded.append(dict(player_lookup="p", game_date=d, line_value=30.5, recommendation="PASS", system_id="b"))
        graded.append(dict(player_lookup="p", game_date=d, line_value=0, recommendation="UNDER", system_id="c"))
    graded.append(dict(player_lookup="p", game_date=days[0], line_value=22.5, recommendation="UNDER", system_id="d"))
    frame = run({"pgs": hist, "prediction_accuracy": graded}, DAY)
    r = row_of(frame, "p", DAY)
    # lines 22.5 (MAX, newest), then 20.5; points 20..25 newest first: 20 < 22.5, the rest > 20.5
    assert values(r)[55] == round(5 / 6, 9)
    assert values(r)[56] == round((-2.5 + 0.5 + 1.5 + 2.5 + 3.5) / 5, 9)
    # no team rows: 57 = 0.2; minutes 30..35 one team
    assert values(r)[57] == 0.2
    assert values(r)[58] == round(statistics.stdev([30.0, 31.0, 32.0, 33.0, 34.0, 35.0]), 2)


def test_in_row_features_42_53_59():
    rows = {
        "pgs": [pgs(p, "2025-12-08") for p in ("h", "a")] + [pgs(p, DAY) for p in ("h", "a")],
        "upgc": [
            upgc("h", DAY, game_total=224.5, game_spread=-6.5, home_game=True),
            upgc("a", DAY, game_total=224.5, game_spread=-6.5, home_game=None),
        ],
    }
    frame = run(rows, DAY)
    h, a = row_of(frame, "h", DAY), row_of(frame, "a", DAY)
    assert (values(h)[42], values(a)[42]) == (115.5, 109.0)
    assert (values(h)[38], values(h)[41]) == (224.5, 6.5)
    assert values(h)[59] == values(h)[22] - values(h)[14] and tags(h)[59] == "calculated"
    assert (values(h)[37], tags(h)[37]) == (0.0, "default")  # star_teammates_out NULL


def test_production_early_season_placeholders_are_s2_filtered_and_empty():
    day = "2025-10-25"  # season 2025 starts 2025-10-21: early season
    ctx = [
        upgc("ok", day, avg_minutes_per_game_last_7=20, is_production_ready=True),
        upgc("low", day, avg_minutes_per_game_last_7=3, is_production_ready=True),
    ]
    frame = run({"upgc": ctx}, day, production_from=day)
    assert frame["player_lookup"].to_list() == ["ok"]  # no PGS history needed (S1 exempt)
    r = row_of(frame, "ok", day)
    assert r["is_placeholder"] and r["feature_values"] is None and r["feature_tags"] is None
    assert r["cache_miss_fallback_used"] is None and r["vegas_line_source"] is None


def _odds(player, day, book, line, minute, tipoff):
    t = dt.datetime.combine(D(day), dt.time(12), tzinfo=dt.UTC) + dt.timedelta(minutes=minute)
    return dict(
        player_lookup=player,
        game_date=D(day),
        bookmaker=book,
        points_line=line,
        snapshot_timestamp=t,
        minutes_before_tipoff=tipoff,
    )


def test_multi_book_and_line_delta_sql_filters():
    prev = "2025-12-05"
    odds = [
        # D: a's latest pre-tip lines per book: dk 24.5 (its in-game 30.5 and NULL-tipoff 40.5 excluded), fd 25.5
        _odds("a", DAY, "draftkings", 20.5, 0, 100),
        _odds("a", DAY, "draftkings", 24.5, 10, 90),
        _odds("a", DAY, "draftkings", 30.5, 20, -10),
        _odds("a", DAY, "draftkings", 40.5, 30, None),
        _odds("a", DAY, "fanduel", 25.5, 0, 100),
        # bovada: in L's consensus, not in M
        _odds("a", DAY, "bovada", 27.5, 0, 100),
        _odds("a", prev, "fanduel", 22.0, 0, 100),
    ]
    hist = [pgs("a", "2025-12-01"), pgs("a", DAY)]
    r = row_of(run({"pgs": hist, "odds_api": odds}, DAY), "a", DAY)
    assert (values(r)[50], tags(r)[50]) == (statistics.stdev([24.5, 25.5]), "vegas")
    # consensus at D over dk 24.5, fd 25.5, bovada 27.5 = 25.5; at 12-05: 22.0
    assert (values(r)[54], tags(r)[54]) == (3.5, "vegas")


def test_multi_book_bettingpros_fallback_sql_filters():
    t = dt.datetime(2025, 12, 10, 12, tzinfo=dt.UTC)

    def bp(book, line, minute=0, market="points"):
        return dict(
            player_lookup="b",
            game_date=D(DAY),
            market_type=market,
            points_line=line,
            opening_line=None,
            created_at=t + dt.timedelta(minutes=minute),
            bookmaker=book,
        )

    lines = [
        bp("BetMGM", 18.0),
        bp("BetMGM", 18.5, 5),
        bp("BettingPros Consensus", 19.0),
        bp("PrizePicks", 30.0),
        bp("Underdog", 31.0),
        bp(None, 32.0),
        bp("Caesars", 40.0, market="assists"),
    ]
    hist = [pgs("b", "2025-12-01"), pgs("b", DAY)]
    r = row_of(run({"pgs": hist, "bettingpros": lines}, DAY), "b", DAY)
    assert (values(r)[50], tags(r)[50]) == (statistics.stdev([18.5, 19.0]), "bettingpros")


def test_rolling_rows_skip_null_points_and_zero_minutes_and_order_by_game_id():
    rows = [
        pgs("p", "2025-12-01", points=10, game_id="20251201_B"),
        pgs("p", "2025-12-01", points=30, game_id="20251201_A"),
        pgs("p", "2025-12-03", points=None),
        pgs("p", "2025-12-05", points=7, minutes=0),
        pgs("p", "2025-10-10", points=99),
        pgs("p", DAY),
    ]
    r = row_of(run({"pgs": rows}, DAY), "p", DAY)
    # R rows oldest first: 30 (game A), 10 (game B); the 10-10 row is 61 days back
    assert values(r)[43] == 20.0
    assert values(r)[46] == 1.0  # newest 10 < mean 20, then 30 is not
    assert values(r)[44] == 0.0  # m < 4
