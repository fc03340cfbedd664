"""fsengine.diagnose.explain against a tiny hand-built snapshot whose rows are known: the listed
inputs (last-10 rows, table-level fallback fired or not, chosen odds snapshots) are checked
against expectations derived here from the hand-written rows."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pytest
from rich.console import Console

from fsengine.diagnose.explain import explain, render_explanation
from fsengine.errors import InputError, SnapshotError
from fsengine.output.schema import OUTPUT_COLUMNS, OUTPUT_SCHEMA, write_output
from fsengine.snapshot.format import write_snapshot
from fsengine.snapshot.sources import TABLES

D = dt.date(2026, 1, 20)
NEXT = D + dt.timedelta(days=1)
UTC = dt.UTC


def day(offset: int) -> dt.date:
    return D + dt.timedelta(days=offset)


def ts(hour: int, minute: int = 0, date: dt.date = D) -> dt.datetime:
    return dt.datetime(date.year, date.month, date.day, hour, minute, tzinfo=UTC)


def pgs(date, points, minutes, opponent="NYK", game_id=None, dnp=False, player="alice"):
    return {
        "player_lookup": player,
        "universal_player_id": f"{player}_001",
        "game_id": game_id or f"{date:%Y%m%d}_LAL_{opponent}",
        "game_date": date,
        "team_abbr": "LAL",
        "opponent_team_abbr": opponent,
        "season_year": 2025 if date.month < 10 or date.year == 2025 else 2026,
        "points": points,
        "minutes_played": None if minutes is None else Decimal(minutes),
        "ft_makes": None if points is None else points // 5,
        "is_dnp": dnp,
    }


# alice's game log: 13 rows in the 60-day window (one DNP, two on the same date), one on D,
# one before the window; BOS games inside and outside the one-year window.
PGS_ROWS = [
    pgs(day(-1), 25, "34"),
    pgs(day(-3), None, None, dnp=True),
    pgs(day(-4), 18, "30", opponent="BOS"),
    pgs(day(-6), 22, "31", game_id="20260114_LAL_ZZZ"),
    pgs(day(-6), 12, "20", game_id="20260114_LAL_AAA"),  # same date: game_id orders them
    pgs(day(-8), 30, "36"),
    pgs(day(-10), 0, "5"),
    pgs(day(-12), 15, "28"),
    pgs(day(-15), 20, "29", opponent="BOS"),
    pgs(day(-20), 11, "25"),
    pgs(day(-25), 9, "22"),
    pgs(day(-31), 27, "33"),
    pgs(day(-45), 16, "27"),
    pgs(day(0), 40, "40"),  # D itself: never in a window ending at D - 1
    pgs(day(-70), 33, "35"),  # before the 60-day window
    pgs(day(-300), 14, "26", opponent="BOS"),  # within one year
    pgs(day(-380), 31, "36", opponent="BOS"),  # older than one year
    pgs(day(-2), 19, "30", player="bob"),
]


def snapshot_tables() -> dict[str, pa.Table]:
    rows = {
        "nba_analytics.player_game_summary": PGS_ROWS,
        "nba_analytics.upcoming_player_game_context": [
            {
                "player_lookup": "alice",
                "universal_player_id": "alice_001",
                "game_id": "20260120_LAL_BOS",
                "game_date": D,
                "team_abbr": "LAL",
                "opponent_team_abbr": "BOS",
                "home_game": True,
                "back_to_back": False,
                "season_phase": "mid",
                "days_rest": 1,
                "opponent_days_rest": 0,
                "player_status": "available",
            },
        ],
        "nba_precompute.player_daily_cache": [
            # rows at D for bob only: the table has rows at D, so alice gets none (no fallback)
            {**_cache("bob", D)},
            {**_cache("alice", day(-1))},
        ],
        "nba_precompute.player_composite_factors": [
            # no row at D for anyone: the table-level fallback takes alice's latest in [D-7, D]
            {
                "player_lookup": "alice",
                "game_date": day(-3),
                "fatigue_score": 72,
                "shot_zone_mismatch_score": Decimal("1.5"),
                "pace_score": Decimal("0.5"),
                "usage_spike_score": Decimal("-0.4"),
            },
            {
                "player_lookup": "alice",
                "game_date": day(-9),
                "fatigue_score": 60,
                "shot_zone_mismatch_score": Decimal("2.5"),
                "pace_score": Decimal("1.5"),
                "usage_spike_score": Decimal("0.4"),
            },
        ],
        "nba_precompute.player_shot_zone_analysis": [
            # two rows at D (a duplicate): the tie-break takes the smaller paint rate
            {
                "player_lookup": "alice",
                "analysis_date": D,
                "paint_rate_last_10": Decimal("41.20"),
                "mid_range_rate_last_10": Decimal("20.00"),
                "three_pt_rate_last_10": Decimal("38.80"),
            },
            {
                "player_lookup": "alice",
                "analysis_date": D,
                "paint_rate_last_10": Decimal("35.12"),
                "mid_range_rate_last_10": Decimal("25.00"),
                "three_pt_rate_last_10": Decimal("39.88"),
            },
        ],
        "nba_precompute.team_defense_zone_analysis": [
            {
                "team_abbr": "BOS",
                "analysis_date": day(-1),
                "defensive_rating_last_15": Decimal("110.25"),
                "opponent_pace": Decimal("99.5"),
            },
            {
                "team_abbr": "BOS",
                "analysis_date": day(-5),
                "defensive_rating_last_15": Decimal("111.00"),
                "opponent_pace": Decimal("98.0"),
            },
        ],
        "nba_analytics.team_offense_game_summary": [
            {"team_abbr": "LAL", "game_date": day(-k), "season_year": 2025, "win_flag": k % 3 != 0}
            for k in range(1, 12)
        ]
        + [{"team_abbr": "LAL", "game_date": D, "season_year": 2025, "win_flag": True}],
        "nba_raw.odds_api_player_points_props": [
            {
                "player_lookup": "alice",
                "game_date": D,
                "bookmaker": "draftkings",
                "points_line": 20.5,
                "snapshot_timestamp": ts(9),
                "minutes_before_tipoff": 600,
            },
            {
                "player_lookup": "alice",
                "game_date": D,
                "bookmaker": "draftkings",
                "points_line": 21.5,
                "snapshot_timestamp": ts(17),
                "minutes_before_tipoff": 120,
            },
            {
                "player_lookup": "alice",
                "game_date": D,
                "bookmaker": "fanduel",
                "points_line": 22.5,
                "snapshot_timestamp": ts(18),
                "minutes_before_tipoff": 60,
            },
            {
                "player_lookup": "alice",
                "game_date": D,
                "bookmaker": "fanduel",
                "points_line": 19.0,
                "snapshot_timestamp": ts(8),
                "minutes_before_tipoff": 660,
            },
            {
                "player_lookup": "alice",
                "game_date": D,
                "bookmaker": "draftkings",
                "points_line": 0.0,
                "snapshot_timestamp": ts(19),
                "minutes_before_tipoff": 0,
            },
            {
                "player_lookup": "bob",
                "game_date": D,
                "bookmaker": "draftkings",
                "points_line": 12.5,
                "snapshot_timestamp": ts(20),
                "minutes_before_tipoff": 0,
            },
        ],
        "nba_raw.bettingpros_player_points_props": [
            {
                "player_lookup": "alice",
                "game_date": D,
                "market_type": "points",
                "points_line": 19.5,
                "opening_line": 18.5,
                "created_at": ts(10),
            },
            {
                "player_lookup": "alice",
                "game_date": D,
                "market_type": "points",
                "points_line": 20.0,
                "opening_line": None,
                "created_at": ts(15),
            },
            {
                "player_lookup": "alice",
                "game_date": D,
                "market_type": "rebounds",
                "points_line": 7.5,
                "opening_line": 7.5,
                "created_at": ts(16),
            },
        ],
    }
    return {key: pa.Table.from_pylist(data, schema=TABLES[key].arrow_schema()) for key, data in rows.items()}


def _cache(player, date):
    return {
        "player_lookup": player,
        "cache_date": date,
        "points_avg_last_5": Decimal("21.4"),
        "points_avg_last_10": Decimal("19.9"),
        "points_avg_season": Decimal("18.2"),
        "points_std_last_10": Decimal("6.25"),
        "games_in_last_7_days": 3,
        "paint_rate_last_10": Decimal("33.00"),
        "three_pt_rate_last_10": Decimal("40.00"),
        "team_pace_last_10": Decimal("101.3"),
        "team_off_rating_last_10": Decimal("118.45"),
        "minutes_avg_last_10": Decimal("31.5"),
    }


@pytest.fixture(scope="module")
def snapshot_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("snap") / "snapshot"
    tables = snapshot_tables()
    bounds = {key: (D - dt.timedelta(days=400), NEXT) for key in tables}
    return write_snapshot(folder, tables, bounds, snapshot_time=ts(23))


def expected_last10(date: dt.date, player: str = "alice") -> list[dict]:
    """Reference: the spec's list, written with sorted() over the hand-made rows."""
    rows = [
        r
        for r in PGS_ROWS
        if r["player_lookup"] == player
        and date - dt.timedelta(days=60) <= r["game_date"] <= date - dt.timedelta(days=1)
    ]
    rows.sort(key=lambda r: r["game_id"])
    rows.sort(key=lambda r: r["game_date"], reverse=True)
    return rows[:10]


CLEAN = (
    ["phase4"] * 9
    + ["calculated"] * 4
    + ["phase4"] * 2
    + ["phase3"] * 3
    + ["phase4"] * 3
    + ["calculated"]
    + ["phase4"] * 2
    + ["calculated"]
    + ["vegas"] * 3
    + ["calculated"]
    + ["opponent_history"] * 2
    + ["minutes_ppm"] * 2
    + ["calculated"] * 4
)
REASONS = {
    0: "data_unavailable",
    1: "data_unavailable",
    2: "data_unavailable",
    3: "data_unavailable",
    4: "data_unavailable",
    22: "data_unavailable",
    23: "data_unavailable",
}


def output_row(player, date, tags, contributing, opponent="BOS") -> dict:
    defaulted = [i for i, t in enumerate(tags) if t in ("default", "fallback", "missing")]
    weights = {
        "phase4": 100.0,
        "phase3": 87.0,
        "calculated": 100.0,
        "vegas": 100.0,
        "opponent_history": 90.0,
        "minutes_ppm": 95.0,
        "default": 40.0,
        "fallback": 40.0,
        "missing": 0.0,
    }
    values = [float(i) + 0.5 for i in range(37)]
    row = {
        "player_lookup": player,
        "game_date": date,
        "game_id": f"{date:%Y%m%d}_LAL_{opponent}",
        "features": values,
        "feature_names": [],
        "feature_count": 37,
        "feature_version": "v2_37features",
        "feature_quality_score": Decimal("88.41"),
        "opponent_team_abbr": opponent,
        "is_home": True,
        "days_rest": 1,
        "data_source": "mixed",
        "early_season_flag": False,
        "historical_completeness": {
            "games_found": len(contributing),
            "games_expected": 10,
            "is_complete": True,
            "is_bootstrap": False,
            "contributing_game_dates": contributing,
        },
        "created_at": ts(12),
        "feature_sources_json": json.dumps({str(i): t for i, t in enumerate(tags)}),
        "fallback_reasons": ["composite_factors_missing_matchup_data"],
        "quality_tier": "silver",
        "quality_alert_level": "yellow",
        "quality_alerts": ["composite_factors_missing"],
        "default_feature_count": len(defaulted),
        "default_feature_indices": defaulted,
        "required_default_count": len(defaulted),
        "is_quality_ready": False,
        "is_training_ready": False,
        **{f"feature_{i}_quality": weights[t] for i, t in enumerate(tags)},
        **{
            f"feature_{i}_source": "default" if t in ("default", "fallback", "missing") else "phase4"
            for i, t in enumerate(tags)
        },
        "feature_fallback_reasons_json": json.dumps({str(i): REASONS.get(i, "x") for i in defaulted}),
    }
    return row


def write_out(folder, rows):
    full = [
        {c.name: r.get(c.name, [] if pa.types.is_list(c.arrow_type) else None) for c in OUTPUT_COLUMNS} for r in rows
    ]
    write_output(pa.Table.from_pylist(full, schema=OUTPUT_SCHEMA), folder)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("out")
    tags_d = list(CLEAN)
    for i in (0, 1, 2):
        tags_d[i] = "phase3"  # alice has no daily-cache row at D
    for i in (3, 4, 22, 23):
        tags_d[i] = "default"
    tags_next = list(CLEAN)
    write_out(
        folder,
        [
            output_row("alice", D, tags_d, [r["game_date"] for r in expected_last10(D)]),
            output_row("alice", NEXT, tags_next, [r["game_date"] for r in expected_last10(NEXT)]),
            output_row(
                "bob", D, CLEAN, [dt.date(2020, 1, 1)], opponent="NYK"
            ),  # stored dates disagree with the snapshot
            {
                "player_lookup": "dave",
                "game_date": D,
                "game_id": "20260120_LAL_BOS",
                "features": [0.0] * 37,
                "feature_count": 37,
                "feature_version": "v2_37features",
                "feature_quality_score": Decimal("0.00"),
                "opponent_team_abbr": "",
                "data_source": "early_season",
                "early_season_flag": True,
                "created_at": ts(12),
                "insufficient_data_reason": "early_season_skip_first_14_days",
            },  # placeholder, unknown opponent
        ],
    )
    return folder


def test_last10_rows_are_the_spec_list(out_dir, snapshot_dir):
    result = explain(out_dir, "alice", D, snapshot=snapshot_dir)
    listed = result.evidence["last10"].rows
    want = expected_last10(D)
    assert len(want) == 10
    assert [(r["game_date"], r["game_id"]) for r in listed] == [(r["game_date"], r["game_id"]) for r in want]
    assert [r["position"] for r in listed] == list(range(10))
    # played = points not NULL and (minutes not NULL or points > 0)
    assert [r["played"] for r in listed] == [
        r["points"] is not None and (r["minutes_played"] is not None or r["points"] > 0) for r in want
    ]
    assert result.warnings == ()  # stored contributing_game_dates match the snapshot


def test_table_level_fallbacks_fired_or_not(out_dir, snapshot_dir):
    ev = explain(out_dir, "alice", D, snapshot=snapshot_dir).evidence
    # daily cache has rows at D (bob's): no fallback, and alice's D-1 row is NOT used
    assert (
        ev["daily_cache"].rows == ()
        and ev["daily_cache"].chosen() is None
        and ev["daily_cache"].fallback_fired is False
    )
    assert ev["composite"].fallback_fired is True and ev["shot_zone"].fallback_fired is False
    assert (
        "no row of alice at 2026-01-20" in ev["daily_cache"].summary
        and "fallback fired" not in ev["daily_cache"].summary
    )
    # composite has no row at D: fallback fired, the latest row in [D-7, D] is D-3
    chosen = ev["composite"].chosen()
    assert chosen["fallback_fired"] and chosen["game_date"] == day(-3) and chosen["fatigue_score"] == 72
    assert "fallback fired" in ev["composite"].summary
    # shot zone has two rows at D: no fallback; the tie-break takes the smaller paint rate
    sz = ev["shot_zone"]
    assert not sz.chosen()["fallback_fired"] and sz.chosen()["paint_rate_last_10"] == Decimal("35.12")
    assert len(sz.rows) == 2 and sz.rows[0]["candidates"] == 2
    # team defense for opponent BOS: no row at D, fallback to D-1
    td = ev["team_defense"].chosen()
    assert td["fallback_fired"] and td["analysis_date"] == day(-1) and td["team_abbr"] == "BOS"


def test_daily_cache_fallback_fires_on_a_date_without_rows(out_dir, snapshot_dir):
    ev = explain(out_dir, "alice", NEXT, snapshot=snapshot_dir).evidence
    chosen = ev["daily_cache"].chosen()
    assert chosen["fallback_fired"] and chosen["cache_date"] == day(
        -1
    )  # D+1 has no row; latest of alice in [D-13, D+1]
    assert [r["game_date"] for r in ev["last10"].rows] == [r["game_date"] for r in expected_last10(NEXT)]
    assert ev["upgc"].rows == ()  # no UPGC row at D+1
    assert ev["odds_api"].chosen("chosen_current") is None and ev["bettingpros"].chosen() is None


def test_chosen_odds_snapshots(out_dir, snapshot_dir):
    ev = explain(out_dir, "alice", D, snapshot=snapshot_dir).evidence
    odds = ev["odds_api"]
    assert len(odds.rows) == 5  # bob's row is not listed
    candidates = [r for r in odds.rows if r["candidate"]]
    assert len(candidates) == 4  # the 0.0 line is not a candidate
    # draftkings first; latest draftkings snapshot = current, earliest = opening (fanduel's later 22.5 loses)
    current, opening = odds.chosen("chosen_current"), odds.chosen("chosen_opening")
    assert (current["bookmaker"], current["points_line"], current["snapshot_timestamp"]) == ("draftkings", 21.5, ts(17))
    assert (opening["bookmaker"], opening["points_line"], opening["snapshot_timestamp"]) == ("draftkings", 20.5, ts(9))
    assert sum(r["chosen_current"] for r in odds.rows) == 1 and sum(r["chosen_opening"] for r in odds.rows) == 1
    bp = ev["bettingpros"]
    assert [r["candidate"] for r in bp.rows].count(True) == 2
    assert bp.chosen()["points_line"] == 20.0 and bp.chosen()["created_at"] == ts(15)


def test_windows_of_opponent_and_30_day_games(out_dir, snapshot_dir):
    ev = explain(out_dir, "alice", D, snapshot=snapshot_dir).evidence
    year_ago = dt.date(D.year - 1, D.month, D.day)
    want_bos = sorted(
        (
            r["game_date"]
            for r in PGS_ROWS
            if r["player_lookup"] == "alice"
            and r["opponent_team_abbr"] == "BOS"
            and year_ago <= r["game_date"] <= day(-1)
        ),
        reverse=True,
    )
    assert [r["game_date"] for r in ev["opponent_games"].rows] == want_bos
    in_30 = [r for r in PGS_ROWS if r["player_lookup"] == "alice" and day(-30) <= r["game_date"] <= day(-1)]
    assert len(ev["minutes_ppm"].rows) == len(in_30)
    assert sum(r["counted"] for r in ev["minutes_ppm"].rows) == sum(
        1 for r in in_30 if r["minutes_played"] and r["minutes_played"] > 0
    )
    counts = ev["player_counts"].rows[0]
    assert counts["total_games"] == sum(
        1 for r in PGS_ROWS if r["player_lookup"] == "alice" and day(-365) <= r["game_date"] <= day(-1)
    )
    assert counts["season_rows"] == sum(
        1
        for r in PGS_ROWS
        if r["player_lookup"] == "alice"
        and r["season_year"] == 2025
        and dt.date(2025, 10, 1) <= r["game_date"] <= day(-1)
    )
    team = ev["team_games"].rows[0]
    assert (team["games"], team["wins"]) == (11, sum(1 for k in range(1, 12) if k % 3 != 0))


def test_features_carry_row_values_tags_and_reasons(out_dir, snapshot_dir):
    result = explain(out_dir, "alice", D, snapshot=snapshot_dir)
    assert len(result.features) == 37
    for f in result.features:
        assert f.value == float(f.index) + 0.5
    by_index = {f.index: f for f in result.features}
    assert by_index[0].tag == "phase3" and not by_index[0].defaulted
    assert by_index[3].tag == "default" and by_index[3].defaulted and by_index[3].fallback_reason == "data_unavailable"
    assert by_index[3].quality == 40.0 and by_index[3].name == "points_std_last_10"
    assert any("no row of alice" in line for line in by_index[3].inputs)
    assert any("table-level fallback" in line and str(day(-3)) in line for line in by_index[5].inputs)
    assert any("current draftkings 21.5" in line for line in by_index[25].inputs)
    assert any("BOS" in line and str(day(-4)) in line for line in by_index[29].inputs)
    assert not any("daily cache" in line for line in by_index[29].inputs)  # known opponent: no season fallback
    assert result.row["opponent_team_abbr"] == "BOS"


def test_warning_when_snapshot_does_not_match_the_row(out_dir, snapshot_dir):
    result = explain(out_dir, "bob", D, snapshot=snapshot_dir)
    assert any("contributing_game_dates" in w for w in result.warnings)
    assert result.evidence["team_defense"].chosen() is None  # NYK has no defense row


def test_errors(out_dir, snapshot_dir, tmp_path):
    with pytest.raises(InputError, match=r"no row for player 'alice' on 2026-01-25.*nearest"):
        explain(out_dir, "alice", dt.date(2026, 1, 25), snapshot=snapshot_dir)
    with pytest.raises(InputError, match="no row for carol on any date"):
        explain(out_dir, "carol", D, snapshot=snapshot_dir)
    with pytest.raises(InputError, match="does not exist"):
        explain(tmp_path / "missing", "alice", D, snapshot=snapshot_dir)
    with pytest.raises(SnapshotError):
        explain(out_dir, "alice", D, snapshot=tmp_path / "no-snapshot")


def test_render(out_dir, snapshot_dir):
    console = Console(record=True, width=260)
    render_explanation(explain(out_dir, "alice", D, snapshot=snapshot_dir), console)
    text = console.export_text()
    for needle in (
        "points_std_last_10",
        "data_unavailable",
        "Last-10 list",
        "Odds API",
        "table-level fallback",
        "20260114_LAL_AAA",
    ):
        assert needle in text
    narrow = Console(record=True, width=80)
    render_explanation(explain(out_dir, "alice", D, snapshot=snapshot_dir), narrow)
    text = narrow.export_text()
    assert "3 points_std_last_10 = 3.5" in text and "defaulted: data_unavailable" in text


def test_placeholder_row_with_unknown_opponent(out_dir, snapshot_dir):
    result = explain(out_dir, "dave", D, snapshot=snapshot_dir)
    assert any("placeholder" in w for w in result.warnings)
    assert all(f.tag is None and not f.defaulted and f.value == 0.0 for f in result.features)
    assert result.evidence["team_defense"].rows == () and "opponent unknown" in result.evidence["team_defense"].summary
    assert result.evidence["opponent_games"].rows == ()
    inputs_29 = {f.index: f for f in result.features}[29].inputs
    assert any("unknown" in line for line in inputs_29) and any(line.startswith("daily cache") for line in inputs_29)
    render_explanation(result, Console(record=True, width=200))


def test_explain_agrees_with_engine_output(tmp_path):
    """End to end on a generated world: the evidence the explain queries list is the evidence
    the engine used (same last-10 dates, same tags as stored)."""
    from fsengine.output.schema import read_output
    from fsengine.pipeline import backfill
    from fsengine.synthetic.generate import generate

    snapshot = tmp_path / "snap"
    generate("small", snapshot, seed=11)
    backfill(
        tmp_path / "out",
        snapshot,
        dt.date(2025, 11, 20),
        dt.date(2025, 11, 20),
        mode="backfill",
        as_of=dt.date(2026, 1, 1),
        contract="v2_37features",
    )
    rows = read_output(tmp_path / "out").to_pylist()
    assert rows
    for row in rows[:: max(1, len(rows) // 6)]:
        result = explain(tmp_path / "out", row["player_lookup"], row["game_date"], snapshot=snapshot)
        assert result.warnings == ()
        assert [r["game_date"] for r in result.evidence["last10"].rows] == row["historical_completeness"][
            "contributing_game_dates"
        ]
        tags = json.loads(row["feature_sources_json"])
        assert [f.tag for f in result.features] == [tags[str(i)] for i in range(37)]
        assert [f.value for f in result.features] == row["features"]
        # composite: the table-level fallback fired for the date exactly when the row says so
        assert result.evidence["composite"].fallback_fired == bool(row["fallback_reasons"])
