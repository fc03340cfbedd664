"""The reference implementation checked against the spec itself (docs/features.md §9 worked example
and one tiny hand-built snapshot per rule), so the parity test compares the engine with
something already shown to follow the spec."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pyarrow as pa
import pytest

from fsengine.snapshot.format import write_snapshot
from fsengine.snapshot.sources import BY_SHORT

from .engine_reference import ReferenceWorld, minus_year, numeric_div, round9

D = dt.date(2026, 1, 20)  # a regular-season date of season 2025
AS_OF = dt.date(2026, 6, 1)  # every test date before it is backfill in mode auto
STAMP = dt.datetime(2026, 1, 20, 12, 0, tzinfo=dt.UTC)
FILLER = {"STRING": "X", "INT64": 0, "FLOAT64": 0.0, "BOOL": False, "TIMESTAMP": STAMP}


def table(short: str, rows: list[dict], minutes_type: str = "NUMERIC") -> pa.Table:
    """Arrow table of `short` with the docs/sources.md columns; unnamed columns NULL (or a filler
    for NOT NULL ones); NUMERIC values given as numbers become exact Decimals."""
    spec = BY_SHORT[short]
    overrides = {"minutes_played": minutes_type} if short == "pgs" else {}
    schema = spec.arrow_schema(overrides)
    arrays = []
    for column, field in zip(spec.columns, schema):
        values = []
        for row in rows:
            if column.name in row:
                value = row[column.name]
                if pa.types.is_decimal(field.type) and value is not None:
                    value = Decimal(str(value))
            else:
                value = None if column.nullable else FILLER[column.bq_type]
            values.append(value)
        arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def world(tmp_path, minutes_type: str = "NUMERIC", **rows_by_short) -> ReferenceWorld:
    tables = {spec.key: table(short, rows_by_short.get(short, []), minutes_type) for short, spec in BY_SHORT.items()}
    bounds = {key: (dt.date(2023, 10, 1), dt.date(2028, 12, 31)) for key in tables}
    folder = write_snapshot(tmp_path / "snap", tables, bounds, snapshot_time=STAMP)
    return ReferenceWorld.open(folder)


def pgs(player, day, points=10, minutes=30, ft=2, dnp=False, opponent="OPP", team="TEA", **extra):
    row = dict(
        player_lookup=player,
        universal_player_id=f"{player}_001",
        game_id=f"{day:%Y%m%d}_{opponent}_{team}",
        game_date=day,
        team_abbr=team,
        opponent_team_abbr=opponent,
        season_year=day.year if day.month >= 10 else day.year - 1,
        points=points,
        minutes_played=minutes,
        ft_makes=ft,
        is_dnp=dnp,
    )
    row.update(extra)
    return row


def upgc(player, day, opponent="OPP", team="TEA", **extra):
    row = dict(
        player_lookup=player,
        universal_player_id=f"{player}_001",
        game_id=f"{day:%Y%m%d}_{opponent}_{team}",
        game_date=day,
        team_abbr=team,
        opponent_team_abbr=opponent,
    )
    row.update(extra)
    return row


def only_row(ref: ReferenceWorld, player: str, day: dt.date = D, mode: str = "auto", as_of: dt.date = AS_OF) -> dict:
    rows = [r for r in ref.rows(day, day, mode, as_of) if r["player_lookup"] == player]
    assert len(rows) == 1, rows
    return rows[0]


def days_before(day: dt.date, n: int) -> dt.date:
    return day - dt.timedelta(days=n)


# --------------------------------------------------------------------------- §9 worked example

WORKED = [  # newest first: points, minutes, ft_makes, is_dnp
    (30, 34, 8, False),
    (25, 31, 5, False),
    (None, None, None, True),
    (20, 30, 4, False),
    (10, 22, 2, False),
    (15, 28, 3, False),
    (22, 33, 6, False),
    (18, 29, 4, False),
    (0, 12, 0, False),
    (14, 26, 2, False),
]


@pytest.fixture(scope="module")
def worked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("worked")
    rows = [pgs("ex", D, opponent="BOS")]  # the spine row at D (backfill)
    for i, (points, minutes, ft, dnp) in enumerate(WORKED):
        rows.append(pgs("ex", days_before(D, i + 1), points, minutes, ft, dnp, opponent="NYK"))
    # one older season-2025 game (minutes 39) so that Q7 minutes average = 284 / 10 = 28.4
    rows.append(pgs("ex", dt.date(2025, 10, 25), 12, 39, 1, False, opponent="NYK"))
    # 46 season-2024 games in the last 365 days: total_games = 10 + 1 + 46 = 57
    for k in range(46):
        rows.append(pgs("ex", dt.date(2025, 2, 1) + dt.timedelta(days=k), 9, 20, 1, False, opponent="MIA"))
    # another player whose daily-cache row supplies L5 20.0, season 17.5, std 6.25
    rows.append(pgs("zz", D, opponent="BOS"))
    cache = [
        dict(player_lookup="zz", cache_date=D, points_avg_last_5=20.0, points_avg_season=17.5, points_std_last_10=6.25)
    ]
    return world(tmp, pgs=rows, daily_cache=cache)


def test_worked_example_points_and_trend(worked):
    r = only_row(worked, "ex")
    v, t = r["feature_values"], r["feature_tags"]
    assert (v[0], t[0]) == (20.0, "phase3")
    assert (v[1], t[1]) == (17.11111111111111, "phase3")
    assert v[1] == 154 / 9
    assert v[11] == -1.0
    assert v[21] == 0.220779221
    assert v[33] == 0.1
    assert v[34] == 1.321212121
    assert v[12] == -1.0
    assert (v[35], v[36]) == (0.0, 0.0)  # no cache row: sd absent


def test_worked_example_completeness(worked):
    c = only_row(worked, "ex")["historical_completeness"]
    assert (c["games_found"], c["games_expected"], c["is_complete"], c["is_bootstrap"]) == (10, 10, True, False)
    assert c["contributing_game_dates"] == [days_before(D, i + 1) for i in range(10)]


def test_worked_example_season_inputs(worked):
    q7 = worked.q7_season("ex", D)
    assert q7["minutes_avg_season"] == 28.4
    assert q7["points_avg_season"] == (154 + 12) / 10
    assert worked.q6_last10("ex", D, [])[1] == 57


def test_worked_example_zscore_and_breakout(worked):
    v = only_row(worked, "zz")["feature_values"]
    assert v[35] == 0.4
    assert v[36] == 0.0


# --------------------------------------------------------------------------- Vegas (Q9)


def test_bettingpros_opening_line_zero(tmp_path):
    ref = world(
        tmp_path,
        pgs=[pgs("p", D)],
        bettingpros=[
            dict(
                player_lookup="p",
                game_date=D,
                market_type="points",
                points_line=22.5,
                opening_line=0.0,
                created_at=STAMP,
            ),
        ],
    )
    r = only_row(ref, "p")
    assert r["feature_values"][25:29] == [22.5, 22.5, 22.5, 1.0]
    assert r["feature_tags"][25:29] == ["vegas", "vegas", "vegas", "calculated"]


def test_odds_api_priority_latest_and_opening(tmp_path):
    later = STAMP + dt.timedelta(hours=3)
    odds = [
        dict(player_lookup="p", game_date=D, bookmaker="fanduel", points_line=30.5, snapshot_timestamp=later),
        dict(player_lookup="p", game_date=D, bookmaker="draftkings", points_line=24.5, snapshot_timestamp=STAMP),
        dict(player_lookup="p", game_date=D, bookmaker="draftkings", points_line=25.5, snapshot_timestamp=later),
        dict(player_lookup="p", game_date=D, bookmaker="draftkings", points_line=0.0, snapshot_timestamp=later),
        dict(player_lookup=None, game_date=D, bookmaker="draftkings", points_line=40.5, snapshot_timestamp=later),
    ]
    bp = [
        dict(
            player_lookup="p", game_date=D, market_type="points", points_line=20.5, opening_line=19.5, created_at=STAMP
        )
    ]
    ref = world(tmp_path, pgs=[pgs("p", D)], odds_api=odds, bettingpros=bp)
    r = only_row(ref, "p")
    assert r["feature_values"][25:29] == [25.5, 24.5, 1.0, 1.0]
    assert not r["tie_affected"]


def test_no_line_is_missing_not_season_average(tmp_path):
    ref = world(
        tmp_path,
        pgs=[pgs("p", D), pgs("p", days_before(D, 2), points=25)],
        bettingpros=[dict(player_lookup="p", game_date=D, market_type="rebounds", points_line=8.5, created_at=STAMP)],
    )
    r = only_row(ref, "p")
    assert r["feature_values"][25:29] == [None, None, None, 0.0]
    assert r["feature_tags"][25:28] == ["missing"] * 3


def test_vegas_ties_are_flagged_and_broken_by_lowest_line(tmp_path):
    odds = [
        dict(player_lookup="p", game_date=D, bookmaker="fanduel", points_line=21.5, snapshot_timestamp=STAMP),
        dict(player_lookup="p", game_date=D, bookmaker="betmgm", points_line=20.5, snapshot_timestamp=STAMP),
    ]
    bp = [
        dict(
            player_lookup="q", game_date=D, market_type="points", points_line=18.5, opening_line=17.5, created_at=STAMP
        ),
        dict(
            player_lookup="q", game_date=D, market_type="points", points_line=18.5, opening_line=None, created_at=STAMP
        ),
        dict(
            player_lookup="q", game_date=D, market_type="points", points_line=19.5, opening_line=16.5, created_at=STAMP
        ),
    ]
    ref = world(tmp_path, pgs=[pgs("p", D), pgs("q", D)], odds_api=odds, bettingpros=bp)
    p, q = only_row(ref, "p"), only_row(ref, "q")
    assert p["feature_values"][25:28] == [20.5, 20.5, 0.0]
    assert p["tie_affected"] and "q9_odds_api_shared_snapshot" in p["tie_reasons"]
    assert q["feature_values"][25:28] == [18.5, 17.5, 1.0]
    assert q["tie_affected"] and "q9_bettingpros_created_at" in q["tie_reasons"]


# --------------------------------------------------------------------------- Phase 4 (Q1-Q4, §4.1)


def test_composite_table_level_fallback(tmp_path):
    composite = [
        dict(
            player_lookup="p",
            game_date=days_before(D, 3),
            fatigue_score=70,
            shot_zone_mismatch_score=4.5,
            pace_score=1.2,
            usage_spike_score=0.8,
        ),
        dict(
            player_lookup="old",
            game_date=days_before(D, 8),
            fatigue_score=60,
            shot_zone_mismatch_score=2.0,
            pace_score=1.0,
            usage_spike_score=0.5,
        ),
    ]
    ref = world(tmp_path, pgs=[pgs("p", D), pgs("old", D)], composite=composite)
    r = only_row(ref, "p")
    assert r["composite_fallback"] is True
    assert r["feature_values"][5:9] == [70.0, 0.0, 0.0, 0.8]
    assert r["feature_tags"][5:9] == ["phase4"] * 4
    old = only_row(ref, "old")  # outside [D − 7, D]: defaults
    assert old["composite_fallback"] is True
    assert old["feature_values"][5:9] == [50.0, 0.0, 0.0, 0.0]
    assert old["feature_tags"][5:9] == ["default"] * 4


def test_composite_row_at_date_is_all_or_nothing(tmp_path):
    composite = [
        dict(
            player_lookup="other",
            game_date=D,
            fatigue_score=80,
            shot_zone_mismatch_score=-1.5,
            pace_score=0.5,
            usage_spike_score=0.1,
        ),
        dict(
            player_lookup="p",
            game_date=days_before(D, 1),
            fatigue_score=70,
            shot_zone_mismatch_score=4.5,
            pace_score=1.2,
            usage_spike_score=0.8,
        ),
    ]
    ref = world(tmp_path, pgs=[pgs("p", D), pgs("other", D)], composite=composite)
    p, other = only_row(ref, "p"), only_row(ref, "other")
    assert p["composite_fallback"] is False
    assert p["feature_tags"][5:9] == ["default"] * 4
    assert other["feature_values"][5:9] == [80.0, -1.5, 0.5, 0.1]


def test_shot_zone_null_row_hides_daily_cache_copies(tmp_path):
    cache = [
        dict(player_lookup="p", cache_date=D, paint_rate_last_10=40.0, three_pt_rate_last_10=30.0),
        dict(player_lookup="q", cache_date=D, paint_rate_last_10=35.12, three_pt_rate_last_10=30.0),
    ]
    zones = [dict(player_lookup="p", analysis_date=D)]  # all three rates NULL
    ref = world(tmp_path, pgs=[pgs("p", D), pgs("q", D)], daily_cache=cache, shot_zone=zones)
    p, q = only_row(ref, "p"), only_row(ref, "q")
    assert p["feature_values"][18:21] == [None, None, None]
    assert p["feature_tags"][18:21] == ["missing"] * 3
    assert q["feature_values"][18:21] == [0.35119999999999996, None, 0.3]
    assert q["feature_tags"][18:21] == ["phase4", "missing", "phase4"]


def test_daily_cache_fallback_only_when_table_empty_at_date(tmp_path):
    cache = [
        dict(
            player_lookup="p",
            cache_date=days_before(D, 2),
            points_avg_last_5=21.3,
            points_std_last_10=4.0,
            games_in_last_7_days=3,
            team_pace_last_10=101.5,
            team_off_rating_last_10=115.25,
        )
    ]
    ref = world(tmp_path, pgs=[pgs("p", D)], daily_cache=cache)
    r = only_row(ref, "p")
    assert r["feature_values"][0] == 21.3 and r["feature_tags"][0] == "phase4"
    assert r["feature_values"][22:24] == [101.5, 115.25]
    cache.append(dict(player_lookup="other", cache_date=D, points_avg_last_5=5.0))
    ref = world(tmp_path / "b", pgs=[pgs("p", D)], daily_cache=cache)
    r = only_row(ref, "p")
    assert r["feature_tags"][0] == "default" and r["feature_values"][0] == 10.0
    assert r["feature_values"][3:5] == [5.0, 3.0] and r["feature_tags"][3:5] == ["default", "default"]


def test_team_defense_same_day_and_fallback(tmp_path):
    defense = [
        dict(team_abbr="BOS", analysis_date=days_before(D, 5), defensive_rating_last_15=110.33, opponent_pace=98.7),
    ]
    ref = world(tmp_path, pgs=[pgs("p", D, opponent="BOS"), pgs("q", D, opponent="LAL")], team_defense=defense)
    assert only_row(ref, "p")["feature_values"][13:15] == [110.33, 98.7]
    assert only_row(ref, "q")["feature_tags"][13:15] == ["default", "default"]


# --------------------------------------------------------------------------- opponent history


def test_unknown_opponent_uses_first_truthy_season_average(tmp_path):
    rows = [pgs("p", D, opponent=""), pgs("p", days_before(D, 3), points=12), pgs("p", days_before(D, 4), points=15)]
    cache = [dict(player_lookup="p", cache_date=D, points_avg_season=0.0)]  # present but falsy
    ref = world(tmp_path, pgs=rows, daily_cache=cache)
    r = only_row(ref, "p")
    assert (r["feature_values"][29], r["feature_tags"][29]) == (13.5, "fallback")
    assert (r["feature_values"][30], r["feature_tags"][30]) == (0.0, "fallback")
    assert r["feature_tags"][13:15] == ["default", "default"]
    assert r["feature_values"][2] == 0.0 and r["feature_tags"][2] == "phase4"


def test_unknown_opponent_without_any_average_is_ten(tmp_path):
    ref = world(tmp_path, pgs=[pgs("p", D, opponent="")])
    assert only_row(ref, "p")["feature_values"][29:31] == [10.0, 0.0]


def test_known_opponent_without_history_is_nan(tmp_path):
    ref = world(tmp_path, pgs=[pgs("p", D, opponent="BOS"), pgs("p", days_before(D, 2), opponent="NYK")])
    r = only_row(ref, "p")
    assert math.isnan(r["feature_values"][29]) and r["feature_tags"][29] == "opponent_history"
    assert (r["feature_values"][30], r["feature_tags"][30]) == (0.0, "opponent_history")


def test_opponent_window_is_one_calendar_year_feb29(tmp_path):
    day = dt.date(2028, 2, 29)
    assert minus_year(day) == dt.date(2027, 2, 28)
    rows = [
        pgs("p", day, opponent="BOS"),
        pgs("p", dt.date(2027, 2, 28), points=20, opponent="BOS"),
        pgs("p", dt.date(2027, 2, 27), points=40, opponent="BOS"),
        pgs("p", dt.date(2027, 12, 1), points=None, minutes=None, dnp=True, opponent="BOS"),
    ]
    ref = world(tmp_path, pgs=rows)
    r = only_row(ref, "p", day, as_of=dt.date(2028, 3, 1))
    assert r["feature_values"][29:31] == [20.0, 2.0]


# --------------------------------------------------------------------------- NUMERIC paths


def test_minutes_ppm_numeric_and_int64_paths(tmp_path):
    rows = [
        pgs("p", D),
        pgs("p", days_before(D, 2), points=2, minutes=3),
        pgs("q", D),
        pgs("q", days_before(D, 2), points=None, minutes=30, dnp=False),
    ]
    numeric = world(tmp_path / "n", pgs=rows)
    assert numeric.minutes_numeric
    p = only_row(numeric, "p")
    assert p["feature_values"][31:33] == [3.0, 0.666666667]
    q = only_row(numeric, "q")
    assert q["feature_values"][31:33] == [30.0, 0.4] and q["feature_tags"][31:33] == ["minutes_ppm"] * 2
    ints = world(tmp_path / "i", "INT64", pgs=rows)
    assert not ints.minutes_numeric
    assert only_row(ints, "p")["feature_values"][31:33] == [3.0, 2 / 3]
    q = only_row(ints, "q")
    assert math.isnan(q["feature_values"][32]) and q["feature_tags"][32] == "minutes_ppm"


def test_numeric_division_rounds_half_away_from_zero():
    assert numeric_div(1, 3) == Decimal("0.333333333")
    assert numeric_div(2, 3) == Decimal("0.666666667")
    assert numeric_div(Decimal("0.0000000025"), 1) == Decimal("0.000000003")
    assert numeric_div(Decimal("-0.0000000025"), 1) == Decimal("-0.000000003")


def test_season_minutes_numeric_rounding_and_nan_cases(tmp_path):
    rows = [pgs("p", D)] + [
        pgs("p", days_before(D, k), points=None, minutes=m, dnp=False) for k, m in ((2, 10), (3, 10), (4, 11))
    ]
    numeric = world(tmp_path / "n", pgs=rows)
    q7 = numeric.q7_season("p", D)
    assert q7["minutes_avg_season"] == 10.333333333  # 31 / 3 at 9 dp
    assert math.isnan(q7["points_avg_season"])  # N1
    r = only_row(numeric, "p")
    assert math.isnan(r["feature_values"][2]) and r["feature_tags"][2] == "phase3"
    ints = world(tmp_path / "i", "INT64", pgs=rows)
    assert ints.q7_season("p", D)["minutes_avg_season"] == 31 / 3
    nulls = [pgs("p", D), pgs("p", days_before(D, 2), points=5, minutes=None)]
    assert world(tmp_path / "a", pgs=nulls).q7_season("p", D)["minutes_avg_season"] is None
    assert math.isnan(world(tmp_path / "b", "INT64", pgs=nulls).q7_season("p", D)["minutes_avg_season"])


# --------------------------------------------------------------------------- spine, seasons, gate


def test_early_season_skip_in_backfill_and_placeholders_in_production(tmp_path):
    early = dt.date(2025, 10, 25)  # season 2025 starts 2025-10-21
    ref = world(tmp_path, pgs=[pgs("p", early)], upgc=[upgc("p", early, home_game=True, days_rest=2)])
    assert ref.rows(early, early, "auto", AS_OF) == []
    rows = ref.rows(early, early, "production", AS_OF)
    assert len(rows) == 1
    r = rows[0]
    assert r["is_placeholder"] and r["feature_values"] == [None] * 37 and r["feature_tags"] is None
    assert r["is_home"] is True and r["days_rest"] == 2
    assert r["historical_completeness"] == {
        "games_found": 0,
        "games_expected": 0,
        "is_complete": True,
        "is_bootstrap": True,
        "contributing_game_dates": [],
    }
    assert ref.rows(early, early, "auto", as_of=early)[0]["is_placeholder"]
    first_regular = dt.date(2025, 11, 4)
    assert not ref.is_early_season(first_regular) and ref.is_early_season(dt.date(2025, 11, 3))
    assert not ref.is_early_season(dt.date(2025, 10, 20))  # preseason


def test_season_start_without_builtin_date(tmp_path):
    ref = world(tmp_path, pgs=[pgs("p", dt.date(2026, 10, 27))])
    assert ref.season_start(2026) == dt.date(2026, 10, 27)
    assert ref.season_start(2027) == dt.date(2027, 10, 22)
    assert ref.season_start(2024) == dt.date(2024, 10, 22)


def test_fatigue_gate_drops_rows_outside_range(tmp_path):
    composite = [
        dict(player_lookup="hi", game_date=D, fatigue_score=120),
        dict(player_lookup="lo", game_date=D, fatigue_score=-1),
        dict(player_lookup="ok", game_date=D, fatigue_score=100),
    ]
    ref = world(tmp_path, pgs=[pgs(p, D) for p in ("hi", "lo", "ok", "none")], composite=composite)
    emitted = {r["player_lookup"] for r in ref.rows(D, D, "auto", AS_OF)}
    assert emitted == {"ok", "none"}
    gated = {r["player_lookup"]: r["gated"] for r in ref.rows(D, D, "auto", AS_OF, include_gated=True)}
    assert gated == {"hi": True, "lo": True, "ok": False, "none": False}


def test_backfill_spine_collapses_duplicates_and_reads_is_home(tmp_path):
    rows = [
        pgs("p", D, game_id="20260120_BOS_TEA", opponent="BOS"),
        pgs("p", D, game_id="20260120_AAA_TEA", opponent="AAA"),
        pgs("q", D, game_id="20260120_TEA_BOS", team="TEA"),
        pgs("r", D, game_id="20260120", team="TEA"),
    ]
    ref = world(tmp_path, pgs=rows)
    spine = {s["player_lookup"]: s for s in ref.spine(D, D, "backfill", AS_OF)}
    assert spine["p"]["game_id"] == "20260120_AAA_TEA" and spine["p"]["is_home"] is True
    assert spine["p"]["opponent_team_abbr"] == "AAA" and spine["p"]["spine_tie"]
    assert spine["q"]["is_home"] is False and spine["r"]["is_home"] is False


def test_context_from_upgc_in_backfill(tmp_path):
    ref = world(
        tmp_path,
        pgs=[pgs("p", D), pgs("q", D)],
        upgc=[
            upgc(
                "p",
                D,
                home_game=True,
                back_to_back=True,
                season_phase="Playoffs",
                days_rest=5,
                opponent_days_rest=0,
                player_status="Questionable",
            )
        ],
    )
    p, q = only_row(ref, "p"), only_row(ref, "q")
    assert [p["feature_values"][i] for i in (9, 10, 15, 16, 17, 24)] == [2.0, 2.0, 1.0, 1.0, 1.0, 0.5]
    assert p["days_rest"] == 5
    assert [q["feature_values"][i] for i in (9, 10, 15, 16, 17, 24)] == [0.0, 0.0, 0.0, 0.0, 0.0, 0.5]
    assert q["days_rest"] is None


def test_team_win_pct_from_season_games(tmp_path):
    offense = [
        dict(team_abbr="TEA", game_date=days_before(D, k), season_year=2025, win_flag=k % 3 == 0) for k in range(1, 8)
    ]
    offense.append(dict(team_abbr="TEA", game_date=dt.date(2025, 4, 1), season_year=2024, win_flag=True))
    ref = world(tmp_path, pgs=[pgs("p", D)], upgc=[upgc("p", D)], team_offense=offense)
    assert only_row(ref, "p")["feature_values"][24] == round9(2 / 7)


def test_played_filter_and_short_lists(tmp_path):
    rows = [
        pgs("p", D),
        pgs("p", days_before(D, 1), points=0, minutes=None),  # unmarked DNP: not played
        pgs("p", days_before(D, 2), points=8, minutes=None),  # played: points > 0
        pgs("p", days_before(D, 3), points=None, minutes=None, dnp=True),
    ]
    r = only_row(world(tmp_path, pgs=rows), "p")
    v, t = r["feature_values"], r["feature_tags"]
    assert (v[0], t[0]) == (10.0, "default")
    assert (v[1], t[1]) == (8.0, "phase3")
    assert (v[11], v[21], v[34]) == (0.0, 0.15, 0.0)
    assert v[33] == round9(1 / 3)
    assert r["historical_completeness"]["games_found"] == 3
    assert r["historical_completeness"]["is_complete"] is True
