"""Tiny hand-built DuckDB worlds for the head assembly (contract v2_54features): one table per
snapshot view, every column of docs/sources.md (v2_37 + v2_54), rows as dicts (unnamed columns
NULL), and a runner that builds the spine and assembles like compute() does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb

from fsengine.contracts import load_contract
from fsengine.engine.assemble_head import compute_head
from fsengine.engine.extract import run_query
from fsengine.engine.session import connect, query_params, register_season_starts

HEAD = load_contract("v2_54features").profile

SCHEMAS: dict[str, dict[str, str]] = {
    "pgs": dict(
        player_lookup="VARCHAR",
        universal_player_id="VARCHAR",
        game_id="VARCHAR",
        game_date="DATE",
        team_abbr="VARCHAR",
        opponent_team_abbr="VARCHAR",
        season_year="BIGINT",
        points="BIGINT",
        minutes_played="DECIMAL(38,9)",
        ft_makes="BIGINT",
        is_dnp="BOOLEAN",
        fg_attempts="BIGINT",
        paint_attempts="BIGINT",
        mid_range_attempts="BIGINT",
        three_pt_attempts="BIGINT",
        usage_rate="DECIMAL(38,9)",
    ),
    "upgc": dict(
        player_lookup="VARCHAR",
        universal_player_id="VARCHAR",
        game_id="VARCHAR",
        game_date="DATE",
        team_abbr="VARCHAR",
        opponent_team_abbr="VARCHAR",
        home_game="BOOLEAN",
        back_to_back="BOOLEAN",
        season_phase="VARCHAR",
        days_rest="BIGINT",
        opponent_days_rest="BIGINT",
        player_status="VARCHAR",
        games_in_last_7_days="BIGINT",
        star_teammates_out="BIGINT",
        game_total="DECIMAL(38,9)",
        minutes_in_last_7_days="BIGINT",
        game_spread="DECIMAL(38,9)",
        prop_over_streak="BIGINT",
        prop_under_streak="BIGINT",
        avg_minutes_per_game_last_7="DECIMAL(38,9)",
        has_prop_line="BOOLEAN",
        is_production_ready="BOOLEAN",
    ),
    "daily_cache": dict(
        player_lookup="VARCHAR",
        cache_date="DATE",
        points_avg_last_5="DECIMAL(38,9)",
        points_avg_last_10="DECIMAL(38,9)",
        points_avg_season="DECIMAL(38,9)",
        points_std_last_10="DECIMAL(38,9)",
        games_in_last_7_days="BIGINT",
        paint_rate_last_10="DECIMAL(38,9)",
        three_pt_rate_last_10="DECIMAL(38,9)",
        team_pace_last_10="DECIMAL(38,9)",
        team_off_rating_last_10="DECIMAL(38,9)",
        minutes_avg_last_10="DECIMAL(38,9)",
    ),
    "composite": dict(
        player_lookup="VARCHAR",
        game_date="DATE",
        fatigue_score="BIGINT",
        shot_zone_mismatch_score="DECIMAL(38,9)",
        pace_score="DECIMAL(38,9)",
        usage_spike_score="DECIMAL(38,9)",
    ),
    "shot_zone": dict(
        player_lookup="VARCHAR",
        analysis_date="DATE",
        paint_rate_last_10="DECIMAL(38,9)",
        mid_range_rate_last_10="DECIMAL(38,9)",
        three_pt_rate_last_10="DECIMAL(38,9)",
    ),
    "team_defense": dict(
        team_abbr="VARCHAR",
        analysis_date="DATE",
        defensive_rating_last_15="DECIMAL(38,9)",
        opponent_pace="DECIMAL(38,9)",
    ),
    "team_offense": dict(
        team_abbr="VARCHAR",
        game_date="DATE",
        season_year="BIGINT",
        win_flag="BOOLEAN",
        game_id="VARCHAR",
        pace="DECIMAL(38,9)",
        offensive_rating="DECIMAL(38,9)",
        margin_of_victory="BIGINT",
    ),
    "odds_api": dict(
        player_lookup="VARCHAR",
        game_date="DATE",
        bookmaker="VARCHAR",
        points_line="DOUBLE",
        snapshot_timestamp="TIMESTAMPTZ",
        minutes_before_tipoff="BIGINT",
    ),
    "bettingpros": dict(
        player_lookup="VARCHAR",
        game_date="DATE",
        market_type="VARCHAR",
        points_line="DOUBLE",
        opening_line="DOUBLE",
        created_at="TIMESTAMPTZ",
        bookmaker="VARCHAR",
    ),
    "injury_report": dict(
        report_date="DATE",
        player_lookup="VARCHAR",
        team="VARCHAR",
        injury_status="VARCHAR",
        report_hour="BIGINT",
        game_date="DATE",
    ),
    "prediction_accuracy": dict(
        player_lookup="VARCHAR",
        game_date="DATE",
        line_value="DECIMAL(38,9)",
        recommendation="VARCHAR",
        system_id="VARCHAR",
    ),
}


def D(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def pgs(player, day, team="BOS", opponent="NYK", points=10, minutes=30, **extra) -> dict:
    day = D(day) if isinstance(day, str) else day
    row = dict(
        player_lookup=player,
        universal_player_id=f"{player}_1",
        game_id=f"{day:%Y%m%d}_{opponent}_{team}",
        game_date=day,
        team_abbr=team,
        opponent_team_abbr=opponent,
        season_year=2025,
        points=points,
        minutes_played=minutes,
        ft_makes=1,
        is_dnp=False,
    )
    row.update(extra)
    return row


def upgc(player, day, team="BOS", opponent="NYK", **extra) -> dict:
    day = D(day) if isinstance(day, str) else day
    row = dict(
        player_lookup=player,
        universal_player_id=f"{player}_1",
        game_id=f"{day:%Y%m%d}_{opponent}_{team}",
        game_date=day,
        team_abbr=team,
        opponent_team_abbr=opponent,
        home_game=True,
        back_to_back=False,
        season_phase="regular",
        days_rest=2,
        opponent_days_rest=2,
        player_status="available",
    )
    row.update(extra)
    return row


def tables(con: duckdb.DuckDBPyConnection, rows: dict[str, list[dict]]) -> None:
    for short, columns in SCHEMAS.items():
        con.execute(f'CREATE TABLE "{short}" ({", ".join(f"{c} {t}" for c, t in columns.items())})')
        for row in rows.get(short, []):
            unknown = set(row) - set(columns)
            assert not unknown, (short, unknown)
            names = list(row)
            values = [
                str(v) if isinstance(v, (float, int)) and columns[n].startswith("DECIMAL") and v is not None else v
                for n, v in row.items()
            ]
            values = [
                Decimal(v) if isinstance(v, str) and columns[n].startswith("DECIMAL") else v
                for n, v in zip(names, values)
            ]
            con.execute(f'INSERT INTO "{short}" ({", ".join(names)}) VALUES ({", ".join("?" for _ in names)})', values)


def run(
    rows: dict[str, list[dict]],
    start: str,
    end: str | None = None,
    production_from: str | None = None,
    minutes_type: str = "NUMERIC",
    profile=HEAD,
    con: duckdb.DuckDBPyConnection | None = None,
):
    """The assembled head frame for [start, end] (backfill unless production_from is given)."""
    con = con or connect(1)
    if rows is not None:
        tables(con, rows)
    register_season_starts(con, profile)
    run_query(con, "season_first_game", {})
    start_d, end_d = D(start), D(end or start)
    switch = D(production_from) if production_from else end_d + dt.timedelta(days=1)
    params = query_params(start_d, end_d, switch, switch, profile)
    run_query(con, "spine", params)
    return compute_head(con, params, profile, minutes_type)


def row_of(frame, player: str, day: str) -> dict:
    found = [r for r in frame.to_dicts() if r["player_lookup"] == player and r["game_date"] == D(day)]
    assert len(found) == 1, (player, day, len(found))
    return found[0]
