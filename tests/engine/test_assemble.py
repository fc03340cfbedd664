"""Assembly (docs/features.md §4, §6-§8) from hand-built tables and hand-built history frames."""

import datetime as dt
import math
import random
import struct

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from engine.builders import history_frame, make_snapshot, pgs_row, run_engine_sql, upgc_row
from fsengine.engine.assemble import assemble, round9_series

D = dt.date
DAY = D(2025, 11, 20)
NAN = float("nan")


def assembled(tmp_path, history=None, start=DAY, end=DAY, as_of=None, mode="auto", **rows):
    snap = make_snapshot(tmp_path / "snap", start, end, **rows)
    con = run_engine_sql(snap, start, end, as_of=as_of, mode=mode)
    frame = assemble(con, history_frame(con, **(history or {})))
    return {(r["player_lookup"], r["game_date"]): r for r in frame.to_dicts()}, frame


def one(rows, player, day=DAY):
    return rows[(player, day)]


def same(a, b):
    """Equality where NaN equals NaN and None equals None (bitwise for floats)."""
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))
    return a == b


def test_p4_overwrite_by_null_shot_zone_row(tmp_path):
    rows, _ = assembled(
        tmp_path,
        pgs=[pgs_row("a", DAY), pgs_row("b", DAY)],
        daily_cache=[
            dict(player_lookup=p, cache_date=DAY, paint_rate_last_10="35.12", three_pt_rate_last_10="40.5")
            for p in "ab"
        ],
        shot_zone=[dict(player_lookup="a", analysis_date=DAY)],
    )
    a, b = one(rows, "a"), one(rows, "b")
    assert a["feature_values"][18:21] == [None, None, None] and a["feature_tags"][18:21] == ["missing"] * 3
    assert b["feature_values"][18] == 0.35119999999999996 and b["feature_values"][20] == 40.5 / 100.0
    assert b["feature_tags"][18:21] == ["phase4", "missing", "phase4"]


def test_shot_zone_row_replaces_cache_copies(tmp_path):
    rows, _ = assembled(
        tmp_path,
        pgs=[pgs_row("a", DAY)],
        daily_cache=[dict(player_lookup="a", cache_date=DAY, paint_rate_last_10="10")],
        shot_zone=[
            dict(
                player_lookup="a",
                analysis_date=DAY,
                paint_rate_last_10="50.5",
                mid_range_rate_last_10="20.25",
                three_pt_rate_last_10=None,
            )
        ],
    )
    a = one(rows, "a")
    assert a["feature_values"][18:21] == [0.505, 0.2025, None]


def test_composite_fallback_sets_six_and_seven_to_present_zero(tmp_path):
    rows, _ = assembled(
        tmp_path,
        pgs=[pgs_row("a", DAY), pgs_row("b", DAY)],
        composite=[
            dict(
                player_lookup="a",
                game_date=DAY - dt.timedelta(days=2),
                fatigue_score=77,
                shot_zone_mismatch_score="5.5",
                pace_score="1.5",
                usage_spike_score="-0.5",
            )
        ],
    )
    a, b = one(rows, "a"), one(rows, "b")
    assert a["feature_values"][5:9] == [77.0, 0.0, 0.0, -0.5] and a["feature_tags"][5:9] == ["phase4"] * 4
    assert b["feature_values"][5:9] == [50.0, 0.0, 0.0, 0.0] and b["feature_tags"][5:9] == ["default"] * 4
    assert a["composite_fallback"] and b["composite_fallback"]


def test_composite_rows_at_d_no_fallback_flag(tmp_path):
    rows, _ = assembled(
        tmp_path,
        pgs=[pgs_row("a", DAY), pgs_row("b", DAY)],
        composite=[dict(player_lookup="a", game_date=DAY, fatigue_score=60, shot_zone_mismatch_score="5.5")],
    )
    a, b = one(rows, "a"), one(rows, "b")
    assert a["feature_values"][5:9] == [60.0, 5.5, 0.0, 0.0]
    assert a["feature_tags"][5:9] == ["phase4", "phase4", "default", "default"]
    assert not a["composite_fallback"] and not b["composite_fallback"]


def test_fatigue_gate_drops_rows_outside_0_100(tmp_path):
    scores = {"lo": -1, "zero": 0, "top": 100, "hi": 101}
    rows, _ = assembled(
        tmp_path,
        pgs=[pgs_row(p, DAY) for p in [*scores, "none"]],
        composite=[dict(player_lookup=p, game_date=DAY, fatigue_score=s) for p, s in scores.items()],
    )
    assert {p for p, _ in rows} == {"zero", "top", "none"}


def test_unknown_opponent_features_29_30_and_defense_default(tmp_path):
    history = {
        "nan_season": dict(season_points_avg=NAN, opp_points_avg=5.0, opp_games=3),
        "p3_season": dict(season_points_avg=14.5),
        "zero_season": dict(season_points_avg=0.0),
        "known": dict(opp_points_avg=NAN, opp_games=0),
    }
    rows, _ = assembled(
        tmp_path,
        history=history,
        pgs=[
            pgs_row("p4_season", DAY, opponent=""),
            pgs_row("nan_season", DAY, opponent=""),
            pgs_row("p3_season", DAY, opponent=""),
            pgs_row("zero_season", DAY, opponent=""),
            pgs_row("known", DAY, opponent="BOS"),
        ],
        daily_cache=[
            dict(player_lookup="p4_season", cache_date=DAY, points_avg_season="0"),
            dict(player_lookup="p3_season", cache_date=DAY, points_avg_season=None),
        ],
        team_defense=[dict(team_abbr="", analysis_date=DAY, defensive_rating_last_15="1")],
    )
    values = {p: r["feature_values"] for (p, _), r in rows.items()}
    tags = {p: r["feature_tags"] for (p, _), r in rows.items()}
    assert values["p4_season"][29] == 10.0  # P4 0 is present but not truthy, P3 absent
    assert math.isnan(values["nan_season"][29]) and values["nan_season"][30] == 0.0
    assert values["p3_season"][29] == 14.5 and values["zero_season"][29] == 10.0
    assert tags["p3_season"][29:31] == ["fallback", "fallback"]
    assert values["p3_season"][13:15] == [112.0, 100.0] and tags["p3_season"][13] == "default"
    assert math.isnan(values["known"][29]) and values["known"][30] == 0.0
    assert tags["known"][29:31] == ["opponent_history"] * 2
    # feature 2: NaN season average is present, tag phase3
    assert math.isnan(values["nan_season"][2]) and tags["nan_season"][2] == "phase3"


def test_context_features_come_from_upgc(tmp_path):
    rows, _ = assembled(
        tmp_path,
        pgs=[pgs_row("a", DAY), pgs_row("b", DAY), pgs_row("c", DAY)],
        upgc=[
            upgc_row(
                "a",
                DAY,
                days_rest=5,
                opponent_days_rest=0,
                player_status="Doubtful",
                home_game=False,
                back_to_back=True,
                season_phase="Playoffs",
            ),
            upgc_row("c", DAY, days_rest=None, player_status="unknown"),
        ],
    )
    a, b, c = one(rows, "a"), one(rows, "b"), one(rows, "c")
    assert [a["feature_values"][i] for i in (9, 10, 15, 16, 17)] == [2.0, 3.0, 0.0, 1.0, 1.0]
    assert a["days_rest"] == 5 and a["is_home"] is True  # the spine says home, UPGC says away
    assert [b["feature_values"][i] for i in (9, 10, 15, 16, 17, 24)] == [0.0, 0.0, 0.0, 0.0, 0.0, 0.5]
    assert b["days_rest"] is None
    assert [c["feature_values"][i] for i in (9, 10, 15)] == [0.0, 0.0, 1.0]
    assert a["feature_tags"][9:18] == ["calculated"] * 4 + ["default"] * 2 + ["phase3"] * 3


def test_team_win_pct_needs_five_games_and_is_round9(tmp_path):
    games = [
        dict(team_abbr="TEA", game_date=D(2025, 11, 1) + dt.timedelta(days=i), season_year=2025, win_flag=i % 3 != 0)
        for i in range(7)
    ]
    games += [
        dict(team_abbr="SML", game_date=D(2025, 11, 1) + dt.timedelta(days=i), season_year=2025, win_flag=True)
        for i in range(4)
    ]
    rows, _ = assembled(
        tmp_path,
        pgs=[pgs_row("a", DAY), pgs_row("b", DAY)],
        upgc=[upgc_row("a", DAY), upgc_row("b", DAY, team="SML")],
        team_offense=games,
    )
    assert one(rows, "a")["feature_values"][24] == round(4 / 7, 9)
    assert one(rows, "b")["feature_values"][24] == 0.5


def test_minutes_ppm_and_minutes_change(tmp_path):
    history = {
        "null_ppm": dict(
            mppm_present=True,
            minutes_avg_30d=31.5,
            ppm_avg_30d=None,
            last10_n=10,
            minutes_list_mean=24.5,
            season_minutes_avg=28.4,
        ),
        "nan_ppm": dict(
            mppm_present=True,
            minutes_avg_30d=20.0,
            ppm_avg_30d=NAN,
            last10_n=3,
            minutes_list_mean=30.0,
            season_minutes_avg=NAN,
        ),
        "none": dict(last10_n=0, season_minutes_avg=30.0),
        "p4_zero": dict(last10_n=4, minutes_list_mean=30.0, season_minutes_avg=20.0),
        "up": dict(last10_n=4, minutes_list_mean=36.0, season_minutes_avg=30.0),
    }
    rows, _ = assembled(
        tmp_path,
        history=history,
        pgs=[pgs_row(p, DAY) for p in history],
        daily_cache=[dict(player_lookup="p4_zero", cache_date=DAY, minutes_avg_last_10="0")],
    )
    v = {p: r["feature_values"] for (p, _), r in rows.items()}
    t = {p: r["feature_tags"] for (p, _), r in rows.items()}
    assert v["null_ppm"][31:33] == [31.5, 0.4] and t["null_ppm"][31:33] == ["minutes_ppm"] * 2
    assert math.isnan(v["nan_ppm"][32]) and t["nan_ppm"][32] == "minutes_ppm"
    assert v["none"][31:33] == [28.0, 0.4] and t["none"][31:33] == ["fallback"] * 2
    assert v["null_ppm"][12] == -1.0  # worked example of docs/features.md §9
    assert v["nan_ppm"][12] == 0.0 and v["none"][12] == 0.0 and v["p4_zero"][12] == 0.0
    assert v["up"][12] == 2.0


def test_zscore_and_breakout(tmp_path):
    history = {"nan": dict(season_points_avg=NAN), "p3": dict(p3_points_avg_last_5=30.0, season_points_avg=10.0)}
    cache = lambda p, l5, season, sd: dict(
        player_lookup=p, cache_date=DAY, points_avg_last_5=l5, points_avg_season=season, points_std_last_10=sd
    )
    rows, _ = assembled(
        tmp_path,
        history=history,
        pgs=[pgs_row(p, DAY) for p in ("ex", "nan", "p3", "zero", "big")],
        daily_cache=[
            cache("ex", "20.0", "17.5", "6.25"),
            cache("nan", "20.0", None, "2"),
            cache("p3", None, None, "4"),
            cache("zero", "20", "10", "0"),
            cache("big", "40", "10", "1.5"),
        ],
    )
    v = {p: r["feature_values"] for (p, _), r in rows.items()}
    assert v["ex"][35:37] == [0.4, 0.0]
    assert v["nan"][35:37] == [3.0, 0.0]
    assert v["p3"][35:37] == [round(20 / 4, 9) if 20 / 4 < 3 else 3.0, 1.0]
    assert v["zero"][35:37] == [0.0, 1.0]
    assert v["big"][35:37] == [3.0, 1.0]


def test_production_early_season_placeholders(tmp_path):
    day = D(2025, 10, 25)
    rows, frame = assembled(
        tmp_path,
        start=day,
        end=day,
        as_of=day,
        upgc=[upgc_row("u", day, days_rest=3, universal_player_id=None)],
        composite=[dict(player_lookup="u", game_date=day, fatigue_score=500)],
    )
    row = one(rows, "u", day)
    assert row["is_placeholder"] and row["feature_values"] == [None] * 37 and row["feature_tags"] is None
    assert row["days_rest"] == 3 and row["universal_player_id"] is None and not row["composite_fallback"]
    assert row["historical_completeness"] == dict(
        games_found=0, games_expected=0, is_complete=True, is_bootstrap=True, contributing_game_dates=[]
    )


def test_historical_completeness(tmp_path):
    dates = [DAY - dt.timedelta(days=i) for i in range(1, 4)]
    history = {
        "a": dict(last10_n=3, total_games=57, contributing_game_dates=dates),
        "b": dict(last10_n=0, total_games=12),
        "c": dict(last10_n=10, total_games=57, contributing_game_dates=dates * 3 + dates[:1]),
    }
    rows, frame = assembled(tmp_path, history=history, pgs=[pgs_row(p, DAY) for p in "abc"])
    assert one(rows, "a")["historical_completeness"] == dict(
        games_found=3, games_expected=10, is_complete=False, is_bootstrap=False, contributing_game_dates=dates
    )
    assert one(rows, "b")["historical_completeness"] == dict(
        games_found=0, games_expected=0, is_complete=True, is_bootstrap=True, contributing_game_dates=[]
    )
    assert one(rows, "c")["historical_completeness"]["is_complete"]
    assert frame.schema["feature_values"] == pl.List(pl.Float64)
    assert frame.columns == [
        "player_lookup",
        "universal_player_id",
        "game_date",
        "game_id",
        "opponent_team_abbr",
        "is_home",
        "days_rest",
        "feature_values",
        "feature_tags",
        "is_placeholder",
        "composite_fallback",
        "historical_completeness",
    ]


def test_history_values_pass_through(tmp_path):
    history = {
        "a": dict(
            recent_trend=-1.0,
            pct_free_throw=0.220779221,
            dnp_rate=0.1,
            pts_slope_10g=1.321212121,
            p3_points_avg_last_5=20.0,
            p3_points_avg_last_10=17.11111111111111,
            last10_n=10,
        )
    }
    rows, _ = assembled(tmp_path, history=history, pgs=[pgs_row("a", DAY)])
    v, t = one(rows, "a")["feature_values"], one(rows, "a")["feature_tags"]
    assert [v[i] for i in (0, 1, 11, 21, 33, 34)] == [20.0, 17.11111111111111, -1.0, 0.220779221, 0.1, 1.321212121]
    assert t[0:3] == ["phase3", "phase3", "default"] and t[3] == "default"


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)


@given(st.lists(st.one_of(finite, st.none(), st.just(NAN)), max_size=60))
def test_round9_is_python_round(values):
    got = round9_series(pl.Series(values, dtype=pl.Float64)).to_list()
    want = [None if v is None else round(v, 9) for v in values]
    assert all(same(g, w) for g, w in zip(got, want)) and len(got) == len(want)


def test_round9_on_ties_and_binary_halves():
    rng = random.Random(3)
    values = [k / 2 ** rng.randint(10, 40) for k in range(-5000, 5000)] + [0.1234567895, 2.5e-9, -2.5e-9, 1.0000000005]
    got = round9_series(pl.Series(values)).to_list()
    assert all(same(g, round(v, 9)) for g, v in zip(got, values))


def test_percent_division_is_one_ieee_division_per_value():
    from fsengine.engine.assemble import _divide_by

    rng = random.Random(5)
    rates = [round(rng.uniform(0, 100), 2) for _ in range(20000)] + [77.62, 35.12, None]
    got = pl.DataFrame({"r": rates}).select(_divide_by(pl.col("r"), 100.0)).to_series().to_list()
    assert got == [None if r is None else r / 100.0 for r in rates]


def test_round9_keeps_signed_zeros_and_nulls_apart():
    got = round9_series(pl.Series([0.0, -0.0, None, -1e-12, 1e-12, NAN])).to_list()
    want = [0.0, -0.0, None, round(-1e-12, 9), round(1e-12, 9), NAN]
    assert all(same(g, w) for g, w in zip(got, want))
