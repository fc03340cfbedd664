"""The synthetic world's v2_54 columns and tables (spec v2_54 fixtures.md): their rates and
imperfections, checked in SQL over the written snapshot. Derived UPGC columns are recomputed
here from PGS by the rules of fixtures.md §3, not by the generator's code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from worlds import world_path

from fsengine.snapshot.format import Snapshot

REPO = Path(__file__).resolve().parent.parent
V37, V54 = "v2_37features", "v2_54features"


@pytest.fixture(scope="module")
def season():
    snapshot = Snapshot.open(world_path("season"))
    con = duckdb.connect()
    snapshot.register(con)
    return snapshot, con


@pytest.fixture(scope="module")
def small():
    snapshot = Snapshot.open(REPO / "fixtures" / "small")
    con = duckdb.connect()
    snapshot.register(con)
    return snapshot, con


def one(con, sql: str):
    return con.sql(sql).fetchall()[0]


def scalar(con, sql: str):
    return one(con, sql)[0]


@pytest.mark.parametrize("which", ["season", "small"])
def test_worlds_serve_both_contracts_over_their_whole_range(request, which):
    snapshot, _ = request.getfixturevalue(which)
    assert snapshot.declared == (V37, V54) and len(snapshot.tables) == 11
    ranges = {c: Snapshot.open(snapshot.path, contract=c, verify_checksums=False).servable_range() for c in (V37, V54)}
    assert ranges[V37] == ranges[V54] == snapshot.servable_range()
    if which == "small":
        assert ranges[V54] == (dt.date(2025, 10, 31), dt.date(2025, 11, 30))


# --------------------------------------------------------------------------- PGS


def test_pgs_usage_and_zone_attempts(season):
    _, con = season
    assert scalar(con, "select count(usage_rate) from pgs where is_dnp") == 0  # NULL on every DNP row
    played_null = scalar(
        con, "select avg(case when usage_rate is null then 1.0 else 0 end) from pgs where minutes_played > 0"
    )
    assert 0.02 < played_null < 0.15  # and on some played rows
    assert scalar(con, "select min(usage_rate) from pgs") >= 0
    total, with_zones, agree = one(
        con,
        """
        select count(*), count(paint_attempts),
               sum(case when paint_attempts + mid_range_attempts + three_pt_attempts = fg_attempts then 1 else 0 end)
        from pgs where points is not null""",
    )
    assert agree / with_zones > 0.9 and agree < with_zones  # most rows, not all
    assert total - with_zones > 0  # NULL zones on some rows ...
    assert scalar(con, "select count(*) from pgs where paint_attempts is null and fg_attempts is not null") > 0
    # ... all three zones NULL together
    assert (
        scalar(
            con,
            """select count(*) from pgs where (paint_attempts is null) <> (mid_range_attempts is null)
                          or (paint_attempts is null) <> (three_pt_attempts is null)""",
        )
        == 0
    )


# --------------------------------------------------------------------------- UPGC


def test_upgc_last_7_day_columns_follow_upstreams_rule(season):
    _, con = season
    rows = con.sql("""
        with w as (
            select u.player_lookup, u.game_date, u.games_in_last_7_days g, u.minutes_in_last_7_days m,
                   u.avg_minutes_per_game_last_7 a,
                   count(p.game_date) n, coalesce(sum(p.minutes_played), 0) s
            from (select distinct player_lookup, game_date, games_in_last_7_days, minutes_in_last_7_days,
                         avg_minutes_per_game_last_7 from upgc) u
            left join pgs p on p.player_lookup = u.player_lookup
                 and p.game_date between u.game_date - 6 and u.game_date - 1
            group by all)
        select g, n, m, s, a from w""").fetchall()
    # the average rounded as upstream's Python does: round(float, 1), half-even on the binary value
    wrong = [
        r
        for r in rows
        if r[0] != r[1]
        or r[2] != int(r[3])
        or (r[4] is None) != (r[1] == 0 or r[3] == 0)
        or (r[4] is not None and float(r[4]) != round(float(r[3]) / r[1], 1))
    ]
    assert wrong == [] and len(rows) > 1000
    assert scalar(con, "select count(*) from upgc where games_in_last_7_days >= 3") > 0


def test_upgc_game_lines_streaks_and_spine_filter_columns(season):
    _, con = season
    rows, totals, spreads, spread_only, max_spread = one(
        con,
        """
        select count(*), count(game_total), count(game_spread),
               sum(case when game_total is null and game_spread is not null then 1 else 0 end), max(game_spread)
        from upgc""",
    )
    assert 0.8 < totals / rows < 0.95 and spreads > totals and spread_only > 0 and max_spread <= 0
    assert scalar(con, "select count(*) from upgc where home_game is null") > 0
    # no prop line -> both streaks 0; never both running
    assert (
        scalar(
            con,
            """select count(*) from upgc where (not has_prop_line and (prop_over_streak > 0 or
                          prop_under_streak > 0)) or (prop_over_streak > 0 and prop_under_streak > 0)""",
        )
        == 0
    )
    assert scalar(con, "select max(prop_over_streak) from upgc") >= 3
    assert scalar(con, "select max(prop_under_streak) from upgc") >= 3
    for column in ("has_prop_line", "is_production_ready"):
        assert {r[0] for r in con.sql(f"select distinct {column} from upgc").fetchall()} == {True, False, None}
    assert scalar(con, "select count(*) from upgc where avg_minutes_per_game_last_7 = 15") > 0
    assert scalar(con, "select count(*) from upgc where avg_minutes_per_game_last_7 < 15") > 0
    statuses = dict(con.sql("select player_status, count(*) from upgc group by 1").fetchall())
    assert statuses.pop("OUT") == 1 and all(s is None or s == s.lower() for s in statuses)
    kept = scalar(
        con,
        """select avg(case when (coalesce(avg_minutes_per_game_last_7, 0) >= 15 or has_prop_line)
        and (player_status is null or player_status not in ('OUT', 'DOUBTFUL'))
        and (is_production_ready or has_prop_line) then 1.0 else 0 end) from upgc""",
    )
    assert 0.3 < kept < 0.6  # production: ~40 %
    assert scalar(con, "select count(*) from upgc where star_teammates_out is null") > 0
    assert scalar(con, "select max(star_teammates_out) from upgc") >= 2


def test_about_35_percent_of_pgs_players_lack_a_upgc_row(season):
    _, con = season
    missing = scalar(
        con,
        """
        select avg(case when u.player_lookup is null then 1.0 else 0 end)
        from (select distinct player_lookup, game_date from pgs
              where game_date in (select distinct game_date from upgc)) p
        left join (select distinct player_lookup, game_date from upgc) u using (player_lookup, game_date)""",
    )
    assert 0.25 < missing < 0.45


# --------------------------------------------------------------------------- team offense


def test_team_offense_new_columns(season):
    _, con = season
    assert scalar(con, "select count(*) - count(game_id) from team_offense") == 0
    rows, margins, big, fifteen, fourteen, pace, rating = one(
        con,
        """
        select count(*), count(margin_of_victory), sum(case when abs(margin_of_victory) >= 15 then 1 else 0 end),
               sum(case when abs(margin_of_victory) = 15 then 1 else 0 end),
               sum(case when abs(margin_of_victory) = 14 then 1 else 0 end), count(pace), count(offensive_rating)
        from team_offense""",
    )
    assert rows > margins and rows > pace and rows > rating  # some NULL
    assert big > 0 and fifteen > 0 and fourteen > 0
    # the two sides of a game mirror each other; the winner's margin is positive
    assert (
        scalar(
            con,
            """select count(*) from team_offense a join team_offense b
                          on a.game_id = b.game_id and a.team_abbr < b.team_abbr
                          where a.margin_of_victory <> -b.margin_of_victory""",
        )
        == 0
    )
    assert scalar(con, "select count(*) from team_offense where margin_of_victory > 0 and not win_flag") == 0
    assert (
        scalar(
            con, "select count(*) from team_offense where split_part(game_id, '_', 1) <> strftime(game_date, '%Y%m%d')"
        )
        == 0
    )


# --------------------------------------------------------------------------- props


def test_odds_api_bovada_and_snapshot_timing(season):
    _, con = season
    deviating, mean_gap = one(
        con,
        """
        with latest as (
            select * from odds_api where player_lookup is not null
            qualify row_number() over (partition by player_lookup, game_date, bookmaker
                                       order by snapshot_timestamp desc) = 1),
        others as (
            select player_lookup, game_date,
                   list_sort(list(points_line))[(count(*) - 1) // 2 + 1] as lower_middle
            from latest where bookmaker <> 'bovada' group by all)
        select avg(case when b.points_line <> o.lower_middle then 1.0 else 0 end),
               avg(case when b.points_line <> o.lower_middle then abs(b.points_line - o.lower_middle) end)
        from latest b join others o using (player_lookup, game_date) where b.bookmaker = 'bovada'""",
    )
    assert 0.6 < deviating < 0.9 and 1.7 < mean_gap < 2.6  # production: ~74 %, ~2.15 points
    positive, at_tip, in_game, legacy = one(
        con,
        """
        select sum(case when minutes_before_tipoff > 0 then 1 else 0 end),
               sum(case when minutes_before_tipoff = 0 then 1 else 0 end),
               sum(case when minutes_before_tipoff < 0 then 1 else 0 end),
               sum(case when minutes_before_tipoff is null then 1 else 0 end) from odds_api""",
    )
    assert min(positive, at_tip, in_game, legacy) > 0
    assert scalar(con, "select count(distinct bookmaker) from odds_api") >= 6
    assert (
        scalar(
            con,
            """select avg(n) from (select count(distinct bookmaker) n from odds_api
                          where player_lookup is not null group by player_lookup, game_date)""",
        )
        >= 3
    )


def test_a_served_date_has_constant_lines_and_others_do_not(season):
    _, con = season
    per_date = con.sql("""
        with latest as (
            select * from odds_api where player_lookup is not null and bookmaker <> 'bovada'
            qualify row_number() over (partition by player_lookup, game_date, bookmaker
                                       order by snapshot_timestamp desc) = 1)
        select game_date, max(coalesce(sd, 0)) from (
            select game_date, player_lookup, stddev_samp(points_line) sd from latest group by all) group by 1""").fetchall()
    flat = [d for d, m in per_date if m < 0.3]
    assert len(flat) >= 1 and len(per_date) - len(flat) > 100


def test_bettingpros_bookmakers(season):
    _, con = season
    books = {r[0] for r in con.sql("select distinct bookmaker from bettingpros").fetchall()}
    assert {
        "BettingPros Consensus",
        "PrizePicks",
        "prizepicks",
        "Underdog",
        "Sleeper",
        "Fliff",
        "PropSwap",
        "BetMGM",
    } <= books
    # over and under rows of one book share created_at
    assert (
        scalar(
            con,
            """select count(*) from (select player_lookup, game_date, bookmaker, created_at, count(*) n
                          from bettingpros where market_type = 'points' group by all) where n % 2 = 1""",
        )
        == 0
    )
    assert (
        scalar(
            con,
            """select count(*) from (select player_lookup, game_date from bettingpros
                          where market_type = 'points' group by all
                          having count(distinct bookmaker) = 1 and min(bookmaker) not in
                          ('PrizePicks', 'prizepicks', 'Underdog', 'UNDERDOG', 'Sleeper', 'Fliff', 'PropSwap'))""",
        )
        > 0
    )


# --------------------------------------------------------------------------- injury report


def test_injury_report_shapes(season):
    snapshot, con = season
    assert scalar(con, "select count(distinct report_hour) from injury_report") >= 3
    assert (
        scalar(
            con,
            """select count(*) from (select report_date, count(distinct report_hour) h from injury_report
                          group by 1) where h >= 2""",
        )
        > 0
    )
    statuses = {r[0] for r in con.sql("select distinct injury_status from injury_report").fetchall()}
    assert statuses == {"out", "questionable", "doubtful", "probable", "available"}
    # out at an early hour, available later the same report date
    assert (
        scalar(
            con,
            """select count(*) from injury_report a join injury_report b using (report_date, player_lookup)
                          where a.injury_status = 'out' and b.injury_status = 'available'
                          and a.report_hour < b.report_hour""",
        )
        > 0
    )
    assert scalar(con, "select count(*) from injury_report where game_date <> report_date") > 0
    assert scalar(con, "select count(*) from injury_report where player_lookup is null") > 0
    assert scalar(con, "select count(*) from injury_report where team not in (select team_abbr from upgc)") == 0
    # a served game date without any report row
    first, last = snapshot.servable_range()
    assert (
        scalar(
            con,
            f"""select count(*) from (select distinct game_date from pgs
                           where game_date between '{first}' and '{last}') g
                           where g.game_date not in (select report_date from injury_report)""",
        )
        >= 1
    )
    # a team with two players out on one date
    assert (
        scalar(
            con,
            """select max(n) from (select report_date, team, count(distinct player_lookup) n
                          from injury_report where injury_status = 'out' group by all)""",
        )
        >= 2
    )


# --------------------------------------------------------------------------- prediction accuracy


def test_prediction_accuracy_shapes(season):
    snapshot, con = season
    systems = dict(con.sql("select system_id, min(game_date) from prediction_accuracy group by 1").fetchall())
    assert len(systems) >= 5
    assert max(systems.values()) > min(systems.values())  # one system starts grading later
    assert (
        scalar(
            con,
            """select count(*) from (select player_lookup, game_date from prediction_accuracy
                          group by all having count(distinct line_value) >= 2)""",
        )
        > 0
    )
    recommendations = dict(con.sql("select recommendation, count(*) from prediction_accuracy group by 1").fetchall())
    assert set(recommendations) == {"OVER", "UNDER", "PASS"}
    assert scalar(con, "select count(*) from prediction_accuracy where line_value is null") > 0
    assert scalar(con, "select count(*) from prediction_accuracy where line_value = 0") > 0
    # graded only where a game was played (a PGS row exists), never after the snapshot
    assert (
        scalar(
            con,
            """select count(*) from prediction_accuracy a where not exists (select 1 from pgs p
                          where p.player_lookup = a.player_lookup and p.game_date = a.game_date)""",
        )
        == 0
    )
    assert scalar(con, "select max(game_date) from prediction_accuracy") <= snapshot.servable_range()[1]
    # graded dates per player in a 60-day window: 2, 3, 4, 5 and >= 10 all occur
    counts = {
        r[0]
        for r in con.sql("""
        select count(distinct a.game_date) from prediction_accuracy a
        where a.game_date between date '2025-12-01' and date '2026-01-29' group by a.player_lookup""").fetchall()
    }
    assert {2, 3, 4, 5} <= counts and max(counts) >= 10
    # a graded date whose PGS row has NULL points, and one of a DNP with 0 points
    assert (
        scalar(
            con,
            """select count(*) from prediction_accuracy a join pgs p using (player_lookup, game_date)
                          where p.points is null""",
        )
        > 0
    )
    assert (
        scalar(
            con,
            """select count(*) from prediction_accuracy a join pgs p using (player_lookup, game_date)
                          where coalesce(p.minutes_played, 0) = 0 and p.points = 0""",
        )
        > 0
    )


def test_small_fixture_holds_every_new_table_and_history_windows(small):
    snapshot, con = small
    assert scalar(con, "select count(*) from injury_report") > 0
    assert scalar(con, "select count(*) from prediction_accuracy") > 0
    accuracy = snapshot.tables["nba_predictions.prediction_accuracy"]
    assert accuracy.start == dt.date(2025, 9, 1)  # 60 days before 2025-10-31
    assert snapshot.tables["nba_raw.odds_api_player_points_props"].start == dt.date(2025, 10, 17)
    assert snapshot.tables["nba_analytics.team_offense_game_summary"].start == dt.date(2025, 9, 1)


def test_odds_api_history_boundaries_occur(season):
    """L's 14-day look-back: previous pre-tip lines exactly 14 and 15 days back, none at all;
    consensus over even and odd book counts, some even counts with differing middle lines."""
    _, con = season
    fourteen, fifteen, none = one(
        con,
        """
        with d as (select distinct player_lookup, game_date from odds_api
                   where player_lookup is not null and minutes_before_tipoff >= 0 and points_line > 0),
        g as (select game_date - lag(game_date) over (partition by player_lookup order by game_date) gap from d)
        select sum(case when gap = 14 then 1 else 0 end), sum(case when gap = 15 then 1 else 0 end),
               sum(case when gap > 14 or gap is null then 1 else 0 end) from g""",
    )
    assert fourteen > 0 and fifteen > 0 and none > 0
    even, odd, tie = one(
        con,
        """
        with latest as (
            select * from odds_api where player_lookup is not null and bookmaker <> 'bovada'
                and minutes_before_tipoff >= 0
            qualify row_number() over (partition by player_lookup, game_date, bookmaker
                                       order by snapshot_timestamp desc) = 1),
        c as (select count(*) n, list_sort(list(points_line)) l from latest group by player_lookup, game_date)
        select sum(case when n % 2 = 0 then 1 else 0 end), sum(case when n % 2 = 1 then 1 else 0 end),
               sum(case when n % 2 = 0 and l[n // 2] <> l[n // 2 + 1] then 1 else 0 end) from c""",
    )
    assert even > 0 and odd > 0 and tie > 0


def test_rows_for_the_exception_path_and_long_gaps_occur(season):
    """A non-DNP (FALSE or NULL) row with NULL minutes (the cache-miss exception path), and
    gaps of more than 14 days and of exactly 14 days between a player's rows."""
    _, con = season
    assert scalar(con, "select count(*) from pgs where minutes_played is null and is_dnp = false") > 0
    assert scalar(con, "select count(*) from pgs where minutes_played is null and is_dnp is null") > 0
    longer, exactly = one(
        con,
        """
        select sum(case when gap > 14 then 1 else 0 end), sum(case when gap = 14 then 1 else 0 end) from (
            select game_date - lag(game_date) over (partition by player_lookup order by game_date) gap
            from (select distinct player_lookup, game_date from pgs))""",
    )
    assert longer > 0 and exactly > 0


def test_s1_history_gaps_are_planted(season):
    """S1 (docs/features.md §1): a player whose newest earlier row is 45 (31-60: kept, UPGC days_rest
    NULL), exactly 60 (kept) and 75 (61+: dropped) days back, each on a served date past the
    early season."""
    snapshot, con = season
    gaps = con.sql("""
        select gap, game_date from (
            select game_date, game_date - lag(game_date) over (partition by player_lookup order by game_date) gap
            from (select distinct player_lookup, game_date from pgs)) where gap > 30""").fetchall()
    assert sorted(g for g, _ in gaps) == [45, 60, 75]
    first, last = snapshot.servable_range()
    assert all(first + dt.timedelta(days=14) <= d <= last for _, d in gaps)
    assert (
        scalar(
            con,
            """select count(*) from upgc u join (
            select player_lookup, game_date, game_date - lag(game_date) over (partition by player_lookup
                   order by game_date) gap from (select distinct player_lookup, game_date from pgs)) g
            using (player_lookup, game_date) where g.gap > 30 and u.days_rest is not null""",
        )
        == 0
    )


def test_trades_give_every_shape_of_58_and_49(season):
    """Among a traded player's played rows: a date whose 10 newest rows span two teams with >= 3
    rows each, one whose newest team has < 3 of them, and one whose newest two differ in team."""
    _, con = season
    both, few_new, newest_pair = one(
        con,
        """
        with played as (
            select distinct player_lookup, game_date, team_abbr from pgs where minutes_played > 0),
        d as (select distinct player_lookup, game_date from played),
        last10 as (
            select d.player_lookup, d.game_date, p.team_abbr,
                   row_number() over (partition by d.player_lookup, d.game_date order by p.game_date desc) k
            from d join played p on p.player_lookup = d.player_lookup and p.game_date < d.game_date
                 and p.game_date >= d.game_date - 60
            qualify k <= 10),
        per as (
            select player_lookup, game_date, count(distinct team_abbr) teams,
                   min(n) as smallest,
                   max(case when k = 1 then team_abbr end) newest, max(case when k = 2 then team_abbr end) previous
            from (select *, count(*) over (partition by player_lookup, game_date, team_abbr) n from last10)
            group by all)
        select sum(case when teams = 2 and smallest >= 3 then 1 else 0 end),
               sum(case when teams = 2 and smallest < 3 then 1 else 0 end),
               sum(case when newest <> previous then 1 else 0 end) from per""",
    )
    assert both > 0 and few_new > 0 and newest_pair > 0
