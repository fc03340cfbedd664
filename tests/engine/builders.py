"""Tiny hand-built snapshots for the engine tests: rows as dicts, every unnamed column NULL
(or a harmless default for NOT NULL columns), written with the real snapshot writer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from fsengine.engine.compute import ENGINE_QUERIES
from fsengine.snapshot.format import Snapshot, write_snapshot
from fsengine.snapshot.sources import BY_SHORT, required_bounds

SNAPSHOT_TIME = dt.datetime(2026, 2, 7, 12, 0, tzinfo=dt.UTC)

# Values used for NOT NULL columns a test does not care about.
NOT_NULL_DEFAULTS = {
    "STRING": "X",
    "INT64": 0,
    "FLOAT64": 0.0,
    "BOOL": False,
    "TIMESTAMP": SNAPSHOT_TIME,
}


def _value(column, row):
    if column.name in row:
        value = row[column.name]
        if column.bq_type == "NUMERIC" and value is not None and not isinstance(value, Decimal):
            value = Decimal(str(value))
        return value
    if column.nullable:
        return None
    return NOT_NULL_DEFAULTS[column.bq_type]


def arrow_table(short: str, rows: list[dict], minutes_type: str = "NUMERIC") -> pa.Table:
    spec = BY_SHORT[short]
    overrides = {"minutes_played": minutes_type} if short == "pgs" else {}
    schema = spec.arrow_schema(overrides)
    columns = {c.name: [_value(c, r) for r in rows] for c in spec.columns}
    return pa.table({f.name: pa.array(columns[f.name], f.type) for f in schema}, schema=schema)


def pgs_row(player, day, opponent="OPP", team="TEA", points=10, minutes=30, **extra):
    """One PGS row; the game id is YYYYMMDD_<away>_<home> with the player's team at home."""
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
        ft_makes=2,
        is_dnp=False,
    )
    row.update(extra)
    return row


def upgc_row(player, day, opponent="OPP", team="TEA", **extra):
    row = dict(
        player_lookup=player,
        universal_player_id=f"{player}_001",
        game_id=f"{day:%Y%m%d}_{opponent}_{team}",
        game_date=day,
        team_abbr=team,
        opponent_team_abbr=opponent,
        home_game=True,
        back_to_back=False,
        season_phase="mid",
        days_rest=1,
        opponent_days_rest=0,
        player_status="available",
    )
    row.update(extra)
    return row


def make_snapshot(
    folder: Path,
    start: dt.date,
    end: dt.date,
    minutes_type: str = "NUMERIC",
    bounds: dict[str, tuple[dt.date, dt.date]] | None = None,
    **rows_by_short: list[dict],
) -> Snapshot:
    """Snapshot covering exactly what a run over [start, end] needs, with the given rows."""
    tables, all_bounds = {}, {}
    for short, spec in BY_SHORT.items():
        tables[spec.key] = arrow_table(short, rows_by_short.get(short, []), minutes_type)
        all_bounds[spec.key] = (bounds or {}).get(short) or required_bounds(spec, start, end)
    write_snapshot(folder, tables, all_bounds, snapshot_time=SNAPSHOT_TIME)
    return Snapshot.open(folder)


ENGINE_SQL = ENGINE_QUERIES  # the core extractions, in the registry's order


def run_engine_sql(
    snapshot: Snapshot, start: dt.date, end: dt.date, as_of: dt.date | None = None, mode: str = "auto", names=ENGINE_SQL
):
    """A session with the spine and the engine-core extraction tables materialised."""
    from fsengine.engine.compute import production_from
    from fsengine.engine.extract import run_query
    from fsengine.engine.session import open_session, query_params

    as_of = as_of or end + dt.timedelta(days=1)
    con = open_session(snapshot, threads=1)
    params = query_params(start, end, as_of, production_from(mode, start, as_of))
    for name in names:
        run_query(con, name, params)
    return con


def rows_of(con, table: str, order: str = "player_lookup, game_date") -> list[dict]:
    cursor = con.execute(f"SELECT * FROM {table} ORDER BY {order}")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


HISTORY_DEFAULTS = dict(
    last10_n=0,
    total_games=0,
    contributing_game_dates=[],
    p3_points_avg_last_5=None,
    p3_points_avg_last_10=None,
    recent_trend=0.0,
    pct_free_throw=0.15,
    dnp_rate=0.0,
    pts_slope_10g=0.0,
    minutes_list_mean=None,
    season_points_avg=None,
    season_minutes_avg=None,
    opp_games=None,
    opp_points_avg=None,
    mppm_present=False,
    minutes_avg_30d=None,
    ppm_avg_30d=None,
)


def history_frame(con, **by_player):
    """A player-history frame (docs/engine.md) for every spine row: defaults of a player
    without history, overridden per player by a dict of column values."""
    import polars as pl

    from fsengine.engine.assemble import HISTORY_COLUMNS

    records = []
    for player, day in con.execute("SELECT player_lookup, game_date FROM spine").fetchall():
        record = dict(player_lookup=player, game_date=day, **HISTORY_DEFAULTS)
        record.update(by_player.get(player, {}))
        records.append(record)
    schema = {"player_lookup": pl.Utf8, "game_date": pl.Date, **HISTORY_COLUMNS}
    return pl.DataFrame(records, schema=schema, orient="row")
