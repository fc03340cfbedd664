"""Q1-Q5 and Q8 of docs/features.md §3 on tiny hand-built tables."""

import datetime as dt

from engine.builders import make_snapshot, pgs_row, rows_of, run_engine_sql, upgc_row

D = dt.date
DAY = D(2025, 11, 20)


def by_player(con, table):
    return {r["player_lookup"]: r for r in rows_of(con, table)}


def session(tmp_path, start=DAY, end=DAY, **rows):
    snap = make_snapshot(tmp_path / "snap", start, end, **rows)
    return run_engine_sql(snap, start, end)


def cache(player, day, **values):
    return dict(player_lookup=player, cache_date=day, **values)


def test_q1_table_with_rows_at_d_gives_no_fallback_to_other_players(tmp_path):
    con = session(
        tmp_path,
        pgs=[pgs_row("a", DAY), pgs_row("b", DAY)],
        daily_cache=[
            cache("a", DAY, points_avg_last_5=21.5),
            cache("b", DAY - dt.timedelta(days=1), points_avg_last_5=9.0),
        ],
    )
    got = by_player(con, "q01_daily_cache")
    assert got["a"]["row_found"] and got["a"]["points_avg_last_5"] == 21.5 and got["a"]["table_has_rows"]
    assert not got["b"]["row_found"] and got["b"]["points_avg_last_5"] is None


def test_q1_empty_date_takes_latest_row_within_fallback_window(tmp_path):
    con = session(
        tmp_path,
        pgs=[pgs_row("a", DAY), pgs_row("b", DAY)],
        daily_cache=[
            cache("a", DAY - dt.timedelta(days=14), points_avg_last_5=1.0, games_in_last_7_days=2),
            cache("a", DAY - dt.timedelta(days=3), points_avg_last_5=3.0, games_in_last_7_days=None),
            cache("b", DAY - dt.timedelta(days=15), points_avg_last_5=5.0),
            cache("b", DAY + dt.timedelta(days=1), points_avg_last_5=6.0),
        ],
    )
    got = by_player(con, "q01_daily_cache")
    assert got["a"]["source_date"] == DAY - dt.timedelta(days=3)
    assert got["a"]["points_avg_last_5"] == 3.0 and got["a"]["games_in_last_7_days"] is None
    assert not got["b"]["row_found"]  # D-15 is outside, D+1 is the future


def test_q1_duplicates_tie_break_by_columns_in_source_order_nulls_last(tmp_path):
    con = session(
        tmp_path,
        pgs=[pgs_row("a", DAY)],
        daily_cache=[
            cache("a", DAY, points_avg_last_5=None, points_avg_last_10=1.0),
            cache("a", DAY, points_avg_last_5=20.0, points_avg_last_10=9.0),
            cache("a", DAY, points_avg_last_5=20.0, points_avg_last_10=8.0),
        ],
    )
    row = by_player(con, "q01_daily_cache")["a"]
    assert (row["points_avg_last_5"], row["points_avg_last_10"]) == (20.0, 8.0)


def test_q1_values_are_nearest_floats_of_the_decimals(tmp_path):
    con = session(
        tmp_path,
        pgs=[pgs_row("a", DAY)],
        daily_cache=[
            cache("a", DAY, paint_rate_last_10="35.12", team_off_rating_last_10="113.25", games_in_last_7_days=3)
        ],
    )
    row = by_player(con, "q01_daily_cache")["a"]
    assert row["paint_rate_last_10"] == 35.12 and row["team_off_rating_last_10"] == 113.25
    assert row["games_in_last_7_days"] == 3.0


def composite(player, day, fatigue=80, mismatch=4.5, pace=1.5, usage=0.7):
    return dict(
        player_lookup=player,
        game_date=day,
        fatigue_score=fatigue,
        shot_zone_mismatch_score=mismatch,
        pace_score=pace,
        usage_spike_score=usage,
    )


def test_q2_rows_at_d_are_taken_as_they_are(tmp_path):
    con = session(
        tmp_path,
        pgs=[pgs_row("a", DAY), pgs_row("b", DAY)],
        composite=[composite("a", DAY, mismatch=None), composite("b", DAY - dt.timedelta(days=1))],
    )
    got = by_player(con, "q02_composite_factors")
    assert not got["a"]["composite_fallback"] and got["a"]["shot_zone_mismatch_score"] is None
    assert got["a"]["pace_score"] == 1.5 and got["a"]["fatigue_score"] == 80.0
    assert not got["b"]["composite_fallback"] and not got["b"]["row_found"]


def test_q2_fallback_forces_mismatch_and_pace_to_zero(tmp_path):
    con = session(
        tmp_path,
        pgs=[pgs_row("a", DAY), pgs_row("b", DAY), pgs_row("c", DAY)],
        composite=[
            composite("a", DAY - dt.timedelta(days=7), fatigue=66, mismatch=None, pace=None, usage=-1.2),
            composite("a", DAY - dt.timedelta(days=8), fatigue=11),
            composite("b", DAY - dt.timedelta(days=8)),
        ],
    )
    got = by_player(con, "q02_composite_factors")
    assert all(r["composite_fallback"] for r in got.values())
    a = got["a"]
    assert (a["fatigue_score"], a["shot_zone_mismatch_score"], a["pace_score"], a["usage_spike_score"]) == (
        66.0,
        0.0,
        0.0,
        -1.2,
    )
    assert not got["b"]["row_found"] and got["b"]["shot_zone_mismatch_score"] is None


def test_q3_fallback_window_and_null_rates_kept(tmp_path):
    zone = lambda p, d, r: dict(
        player_lookup=p, analysis_date=d, paint_rate_last_10=r, mid_range_rate_last_10=r, three_pt_rate_last_10=r
    )
    con = session(
        tmp_path,
        pgs=[pgs_row("a", DAY), pgs_row("b", DAY)],
        shot_zone=[
            zone("a", DAY - dt.timedelta(days=14), None),
            zone("a", DAY - dt.timedelta(days=20), 40.0),
            zone("b", DAY - dt.timedelta(days=15), 40.0),
        ],
    )
    got = by_player(con, "q03_shot_zone")
    assert got["a"]["row_found"] and got["a"]["paint_rate_last_10"] is None
    assert not got["b"]["row_found"]


def defense(team, day, rating=110.5, pace=99.1):
    return dict(team_abbr=team, analysis_date=day, defensive_rating_last_15=rating, opponent_pace=pace)


def test_q4_uses_the_opponent_row_and_unknown_opponent_gets_nothing(tmp_path):
    con = session(
        tmp_path,
        pgs=[pgs_row("a", DAY, opponent="BOS"), pgs_row("b", DAY, opponent=""), pgs_row("c", DAY, opponent="NYK")],
        team_defense=[defense("BOS", DAY, 111.25), defense("", DAY, 1.0), defense("NYK", DAY - dt.timedelta(days=1))],
    )
    got = by_player(con, "q04_team_defense")
    assert got["a"]["opponent_def_rating"] == 111.25 and got["a"]["opponent_pace"] == 99.1
    assert not got["b"]["row_found"]
    assert not got["c"]["row_found"]  # the table has rows at D: no fallback for NYK


def test_q4_fallback_latest_within_seven_days(tmp_path):
    con = session(
        tmp_path,
        pgs=[pgs_row("a", DAY, opponent="BOS"), pgs_row("c", DAY, opponent="NYK")],
        team_defense=[
            defense("BOS", DAY - dt.timedelta(days=7), 105.0),
            defense("BOS", DAY - dt.timedelta(days=2), 106.0),
            defense("NYK", DAY - dt.timedelta(days=8), 107.0),
        ],
    )
    got = by_player(con, "q04_team_defense")
    assert got["a"]["opponent_def_rating"] == 106.0 and not got["a"]["table_has_rows"]
    assert not got["c"]["row_found"]


def test_q5_and_q8_context_and_team_season_games(tmp_path):
    games = [
        dict(team_abbr="TEA", game_date=D(2025, 10, 5), season_year=2025, win_flag=True),  # preseason counts
        dict(team_abbr="TEA", game_date=D(2025, 9, 30), season_year=2025, win_flag=True),  # before Oct 1
        dict(team_abbr="TEA", game_date=D(2025, 11, 1), season_year=2025, win_flag=False),
        dict(team_abbr="TEA", game_date=D(2025, 11, 1), season_year=2025, win_flag=True),  # duplicate counts
        dict(team_abbr="TEA", game_date=D(2025, 11, 2), season_year=2024, win_flag=True),  # other season
        dict(team_abbr="TEA", game_date=DAY, season_year=2025, win_flag=True),  # D itself excluded
        dict(team_abbr="OTH", game_date=D(2025, 11, 1), season_year=2025, win_flag=True),
    ]
    con = session(
        tmp_path,
        start=DAY,
        end=DAY,
        pgs=[pgs_row("a", DAY), pgs_row("b", DAY), pgs_row("c", DAY)],
        upgc=[
            upgc_row("a", DAY, days_rest=2, player_status="Questionable"),
            upgc_row("a", DAY, days_rest=1, game_id="20251120_ZZZ_TEA"),
            upgc_row("c", DAY, team=""),
        ],
        team_offense=games,
        bounds={"team_offense": (D(2025, 9, 1), DAY)},
    )
    ctx = by_player(con, "q05_player_context")
    assert ctx["a"]["days_rest"] == 2 and ctx["a"]["player_status"] == "Questionable"
    assert not ctx["b"]["row_found"]
    team = by_player(con, "q08_team_games")
    assert set(team) == {"a"}
    assert (team["a"]["team_games"], team["a"]["team_wins"]) == (3, 2)


def test_q5_in_production_is_the_row_the_spine_chose(tmp_path):
    snap = make_snapshot(
        tmp_path / "snap",
        DAY,
        DAY,
        upgc=[
            upgc_row("u", DAY, universal_player_id="z", days_rest=1, home_game=True),
            upgc_row("u", DAY, universal_player_id="b", days_rest=4, home_game=False),
            upgc_row("u", DAY, universal_player_id="b", days_rest=3, home_game=False),
        ],
    )
    con = run_engine_sql(snap, DAY, DAY, as_of=DAY)
    spine = rows_of(con, "spine")
    assert [(r["universal_player_id"], r["is_home"]) for r in spine] == [("b", False)]
    ctx = by_player(con, "q05_player_context")["u"]
    assert (ctx["days_rest"], ctx["home_game"]) == (3, False)
