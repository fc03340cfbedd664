"""The nine source tables (spec sources.md §2): names, date columns, columns with their
BigQuery and Arrow types, and the lookback each needs (§4). Every other module asks here.

>>> [t.key for t in SOURCE_TABLES][:2]
['nba_analytics.player_game_summary', 'nba_analytics.upcoming_player_game_context']
>>> required_bounds(TABLES['nba_analytics.team_offense_game_summary'], dt.date(2025, 11, 3), dt.date(2026, 2, 6))
(datetime.date(2025, 10, 1), datetime.date(2026, 2, 6))
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa

# The type map lives in fsengine.bigquery.types; re-exported for the readers of the sources.
from fsengine.bigquery.types import ARROW_TYPES, LEGACY_TYPE_NAMES, normalise_type  # noqa: F401
from fsengine.contracts.profile import season_of


@dataclass(frozen=True)
class Column:
    name: str
    bq_type: str
    nullable: bool = True

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.bq_type]


@dataclass(frozen=True)
class SourceTable:
    dataset: str
    table: str
    date_column: str
    columns: tuple[Column, ...]
    lookback_days: int | None  # None: back to Oct 1 of the start's season
    extra_restriction: str = ""  # appended to the date restriction (bettingpros: market filter)
    short: str = ""  # the name the SQL files use for the table's view

    @property
    def key(self) -> str:
        return f"{self.dataset}.{self.table}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def arrow_schema(self, overrides: dict[str, str] | None = None) -> pa.Schema:
        overrides = overrides or {}
        return pa.schema(
            [pa.field(c.name, ARROW_TYPES[overrides.get(c.name, c.bq_type)], nullable=c.nullable) for c in self.columns]
        )

    def row_restriction(self, start: dt.date, end: dt.date) -> str:
        text = f"{self.date_column} BETWEEN CAST('{start.isoformat()}' AS DATE) AND CAST('{end.isoformat()}' AS DATE)"
        return text + self.extra_restriction


def _cols(*spec: str) -> tuple[Column, ...]:
    out = []
    for item in spec:
        name, bq_type, *flags = item.split()
        out.append(Column(name, bq_type, nullable="NOTNULL" not in flags))
    return tuple(out)


SOURCE_TABLES: tuple[SourceTable, ...] = (
    SourceTable(
        "nba_analytics", "player_game_summary", "game_date",
        _cols("player_lookup STRING NOTNULL", "universal_player_id STRING", "game_id STRING NOTNULL",
              "game_date DATE NOTNULL", "team_abbr STRING NOTNULL", "opponent_team_abbr STRING NOTNULL",
              "season_year INT64 NOTNULL", "points INT64", "minutes_played NUMERIC", "ft_makes INT64",
              "is_dnp BOOL"),
        lookback_days=366, short="pgs",
    ),
    SourceTable(
        "nba_analytics", "upcoming_player_game_context", "game_date",
        _cols("player_lookup STRING NOTNULL", "universal_player_id STRING", "game_id STRING NOTNULL",
              "game_date DATE NOTNULL", "team_abbr STRING NOTNULL", "opponent_team_abbr STRING NOTNULL",
              "home_game BOOL", "back_to_back BOOL", "season_phase STRING", "days_rest INT64",
              "opponent_days_rest INT64", "player_status STRING"),
        lookback_days=0, short="upgc",
    ),
    SourceTable(
        "nba_precompute", "player_daily_cache", "cache_date",
        _cols("player_lookup STRING NOTNULL", "cache_date DATE NOTNULL", "points_avg_last_5 NUMERIC",
              "points_avg_last_10 NUMERIC", "points_avg_season NUMERIC", "points_std_last_10 NUMERIC",
              "games_in_last_7_days INT64", "paint_rate_last_10 NUMERIC", "three_pt_rate_last_10 NUMERIC",
              "team_pace_last_10 NUMERIC", "team_off_rating_last_10 NUMERIC", "minutes_avg_last_10 NUMERIC"),
        lookback_days=14, short="daily_cache",
    ),
    SourceTable(
        "nba_precompute", "player_composite_factors", "game_date",
        _cols("player_lookup STRING NOTNULL", "game_date DATE NOTNULL", "fatigue_score INT64",
              "shot_zone_mismatch_score NUMERIC", "pace_score NUMERIC", "usage_spike_score NUMERIC"),
        lookback_days=14, short="composite",
    ),
    SourceTable(
        "nba_precompute", "player_shot_zone_analysis", "analysis_date",
        _cols("player_lookup STRING NOTNULL", "analysis_date DATE NOTNULL", "paint_rate_last_10 NUMERIC",
              "mid_range_rate_last_10 NUMERIC", "three_pt_rate_last_10 NUMERIC"),
        lookback_days=14, short="shot_zone",
    ),
    SourceTable(
        "nba_precompute", "team_defense_zone_analysis", "analysis_date",
        _cols("team_abbr STRING NOTNULL", "analysis_date DATE NOTNULL", "defensive_rating_last_15 NUMERIC",
              "opponent_pace NUMERIC"),
        lookback_days=14, short="team_defense",
    ),
    SourceTable(
        "nba_analytics", "team_offense_game_summary", "game_date",
        _cols("team_abbr STRING NOTNULL", "game_date DATE NOTNULL", "season_year INT64 NOTNULL",
              "win_flag BOOL NOTNULL"),
        lookback_days=None, short="team_offense",
    ),
    SourceTable(
        "nba_raw", "odds_api_player_points_props", "game_date",
        _cols("player_lookup STRING", "game_date DATE NOTNULL", "bookmaker STRING NOTNULL",
              "points_line FLOAT64 NOTNULL", "snapshot_timestamp TIMESTAMP NOTNULL", "minutes_before_tipoff INT64"),
        lookback_days=0, short="odds_api",
    ),
    SourceTable(
        "nba_raw", "bettingpros_player_points_props", "game_date",
        _cols("player_lookup STRING NOTNULL", "game_date DATE NOTNULL", "market_type STRING NOTNULL",
              "points_line FLOAT64 NOTNULL", "opening_line FLOAT64", "created_at TIMESTAMP NOTNULL"),
        lookback_days=0, extra_restriction=" AND market_type = 'points'", short="bettingpros",
    ),
)
TABLES: dict[str, SourceTable] = {t.key: t for t in SOURCE_TABLES}
BY_SHORT: dict[str, SourceTable] = {t.short: t for t in SOURCE_TABLES}

# The one column whose live type may differ from the DDL (sources.md §2.1, §3.4).
MINUTES_ALTERNATIVES = {"INT64", "FLOAT64"}


def required_bounds(table: SourceTable, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """Inclusive date bounds table must cover for a run over [start, end] (sources.md §4)."""
    if table.lookback_days is None:
        return dt.date(season_of(start), 10, 1), end
    return start - dt.timedelta(days=table.lookback_days), end
