"""The source tables (docs/sources.md §2; docs/v2_54/sources.md §1-§3): names, date columns,
columns with their BigQuery and Arrow types, and — per contract, as data — which tables and
columns each contract reads and how far back (its lookbacks). Every other module asks here.

A `SourceTable` has its base `columns` (the S37 columns of the nine round-1 tables, every
column of the two v2_54 tables) and the columns v2_54 `added` to a round-1 table (appended
after the S37 columns, docs/v2_54/sources.md §2); `all_columns` is both, in the spec's order. The
generic tie-break marker of the SQL files (fsengine/sql.py) expands to the base `columns`, so
the v2_37 queries keep their S37 order. `CONTRACT_SOURCES` says, per contract, which tables it
reads, which of their columns, and over which lookback.

>>> [t.key for t in SOURCE_TABLES][:2]
['nba_analytics.player_game_summary', 'nba_analytics.upcoming_player_game_context']
>>> required_bounds(TABLES['nba_analytics.team_offense_game_summary'], dt.date(2025, 11, 3), dt.date(2026, 2, 6), 'v2_37features')
(datetime.date(2025, 10, 1), datetime.date(2026, 2, 6))
>>> required_bounds(TABLES['nba_analytics.team_offense_game_summary'], dt.date(2025, 11, 3), dt.date(2026, 2, 6), 'v2_54features')
(datetime.date(2025, 9, 4), datetime.date(2026, 2, 6))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
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
class Lookback:
    """How far before a run's start a contract reads a table: `days` before the start, and/or
    back to Oct 1 of the start's season; with both, the earlier of the two (v2_54 §1)."""

    days: int | None = 0
    season_start: bool = False

    def first_day(self, start: dt.date) -> dt.date:
        candidates = []
        if self.days is not None:
            candidates.append(start - dt.timedelta(days=self.days))
        if self.season_start:
            candidates.append(dt.date(season_of(start), 10, 1))
        return min(candidates)

    def first_start(self, table_start: dt.date) -> dt.date:
        """The earliest run start whose first_day is on or after table_start (first_day is
        monotone in the start, so every later start is covered too)."""
        earliest = dt.date.min
        if self.days is not None:
            earliest = max(earliest, table_start + dt.timedelta(days=self.days))
        if self.season_start:  # the first Oct 1 on or after table_start
            oct1 = dt.date(table_start.year, 10, 1)
            earliest = max(earliest, oct1 if oct1 >= table_start else dt.date(table_start.year + 1, 10, 1))
        return earliest


@dataclass(frozen=True)
class SourceTable:
    dataset: str
    table: str
    date_column: str
    columns: tuple[Column, ...]  # base: S37 columns (round-1 tables) or every column (v2_54 tables)
    added: tuple[Column, ...] = ()  # columns docs/v2_54/sources.md §2 appends to a round-1 table
    extra_restriction: str = ""  # appended to the date restriction (bettingpros: market filter)
    short: str = ""  # the name the SQL files use for the table's view

    @property
    def key(self) -> str:
        return f"{self.dataset}.{self.table}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return self.columns + self.added

    @property
    def all_column_names(self) -> list[str]:
        return [c.name for c in self.all_columns]

    @property
    def lookback_days(self) -> int | None:
        """The v2_37features lookback in days (None: back to Oct 1 of the start's season)."""
        need = CONTRACT_SOURCES[REFERENCE_CONTRACT].get(self.key)
        return None if need is None or need.lookback.season_start else need.lookback.days

    def column(self, name: str) -> Column:
        for c in self.all_columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.key} has no column {name}")

    def arrow_schema(self, overrides: dict[str, str] | None = None, columns: Iterable[str] | None = None) -> pa.Schema:
        """Arrow schema of the base columns, or of the named ones (any of all_columns)."""
        overrides = overrides or {}
        chosen = self.columns if columns is None else tuple(self.column(n) for n in columns)
        return pa.schema(
            [pa.field(c.name, ARROW_TYPES[overrides.get(c.name, c.bq_type)], nullable=c.nullable) for c in chosen]
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


# The S37 columns of each table (v2_37features reads exactly these) ...
_S37_COLUMNS: dict[str, tuple[Column, ...]] = {
    "nba_analytics.player_game_summary": _cols(
        "player_lookup STRING NOTNULL",
        "universal_player_id STRING",
        "game_id STRING NOTNULL",
        "game_date DATE NOTNULL",
        "team_abbr STRING NOTNULL",
        "opponent_team_abbr STRING NOTNULL",
        "season_year INT64 NOTNULL",
        "points INT64",
        "minutes_played NUMERIC",
        "ft_makes INT64",
        "is_dnp BOOL",
    ),
    "nba_analytics.upcoming_player_game_context": _cols(
        "player_lookup STRING NOTNULL",
        "universal_player_id STRING",
        "game_id STRING NOTNULL",
        "game_date DATE NOTNULL",
        "team_abbr STRING NOTNULL",
        "opponent_team_abbr STRING NOTNULL",
        "home_game BOOL",
        "back_to_back BOOL",
        "season_phase STRING",
        "days_rest INT64",
        "opponent_days_rest INT64",
        "player_status STRING",
    ),
    "nba_precompute.player_daily_cache": _cols(
        "player_lookup STRING NOTNULL",
        "cache_date DATE NOTNULL",
        "points_avg_last_5 NUMERIC",
        "points_avg_last_10 NUMERIC",
        "points_avg_season NUMERIC",
        "points_std_last_10 NUMERIC",
        "games_in_last_7_days INT64",
        "paint_rate_last_10 NUMERIC",
        "three_pt_rate_last_10 NUMERIC",
        "team_pace_last_10 NUMERIC",
        "team_off_rating_last_10 NUMERIC",
        "minutes_avg_last_10 NUMERIC",
    ),
    "nba_precompute.player_composite_factors": _cols(
        "player_lookup STRING NOTNULL",
        "game_date DATE NOTNULL",
        "fatigue_score INT64",
        "shot_zone_mismatch_score NUMERIC",
        "pace_score NUMERIC",
        "usage_spike_score NUMERIC",
    ),
    "nba_precompute.player_shot_zone_analysis": _cols(
        "player_lookup STRING NOTNULL",
        "analysis_date DATE NOTNULL",
        "paint_rate_last_10 NUMERIC",
        "mid_range_rate_last_10 NUMERIC",
        "three_pt_rate_last_10 NUMERIC",
    ),
    "nba_precompute.team_defense_zone_analysis": _cols(
        "team_abbr STRING NOTNULL",
        "analysis_date DATE NOTNULL",
        "defensive_rating_last_15 NUMERIC",
        "opponent_pace NUMERIC",
    ),
    "nba_analytics.team_offense_game_summary": _cols(
        "team_abbr STRING NOTNULL", "game_date DATE NOTNULL", "season_year INT64 NOTNULL", "win_flag BOOL NOTNULL"
    ),
    "nba_raw.odds_api_player_points_props": _cols(
        "player_lookup STRING",
        "game_date DATE NOTNULL",
        "bookmaker STRING NOTNULL",
        # points_line is NOT NULL in the DDL, yet the golden v2_54 world (vectors/world) holds 30
        # NULL lines, all on rows without player_lookup; every rule needs points_line > 0, so a NULL
        # line is read as no line rather than refusing the snapshot.
        "points_line FLOAT64",
        "snapshot_timestamp TIMESTAMP NOTNULL",
        "minutes_before_tipoff INT64",
    ),
    "nba_raw.bettingpros_player_points_props": _cols(
        "player_lookup STRING NOTNULL",
        "game_date DATE NOTNULL",
        "market_type STRING NOTNULL",
        "points_line FLOAT64 NOTNULL",
        "opening_line FLOAT64",
        "created_at TIMESTAMP NOTNULL",
    ),
}

# ... and what v2_54features reads in addition (docs/v2_54/sources.md §2, appended in this order;
# §3: the two new tables).
_V2_54_ADDED: dict[str, tuple[Column, ...]] = {
    "nba_analytics.player_game_summary": _cols(
        "fg_attempts INT64",
        "paint_attempts INT64",
        "mid_range_attempts INT64",
        "three_pt_attempts INT64",
        "usage_rate NUMERIC",
    ),
    "nba_analytics.upcoming_player_game_context": _cols(
        "games_in_last_7_days INT64",
        "star_teammates_out INT64",
        "game_total NUMERIC",
        "minutes_in_last_7_days INT64",
        "game_spread NUMERIC",
        "prop_over_streak INT64",
        "prop_under_streak INT64",
        "avg_minutes_per_game_last_7 NUMERIC",
        "has_prop_line BOOL",
        "is_production_ready BOOL",
    ),
    "nba_analytics.team_offense_game_summary": _cols(
        "game_id STRING NOTNULL", "pace NUMERIC", "offensive_rating NUMERIC", "margin_of_victory INT64"
    ),
    "nba_raw.bettingpros_player_points_props": _cols("bookmaker STRING NOTNULL"),
    # minutes_before_tipoff of the Odds API is already an S37 column.
    "nba_raw.nbac_injury_report": _cols(
        "report_date DATE",
        "player_lookup STRING",
        "team STRING",
        "injury_status STRING",
        "report_hour INT64",
        "game_date DATE",
    ),
    "nba_predictions.prediction_accuracy": _cols(
        "player_lookup STRING NOTNULL",
        "game_date DATE NOTNULL",
        "line_value NUMERIC",
        "recommendation STRING",
        "system_id STRING NOTNULL",
    ),
}


def _table(dataset: str, table: str, date_column: str, short: str, extra_restriction: str = "") -> SourceTable:
    key = f"{dataset}.{table}"
    if key in _S37_COLUMNS:
        base, added = _S37_COLUMNS[key], _V2_54_ADDED.get(key, ())
    else:
        base, added = _V2_54_ADDED[key], ()
    return SourceTable(dataset, table, date_column, base, added, extra_restriction=extra_restriction, short=short)


SOURCE_TABLES: tuple[SourceTable, ...] = (
    _table("nba_analytics", "player_game_summary", "game_date", "pgs"),
    _table("nba_analytics", "upcoming_player_game_context", "game_date", "upgc"),
    _table("nba_precompute", "player_daily_cache", "cache_date", "daily_cache"),
    _table("nba_precompute", "player_composite_factors", "game_date", "composite"),
    _table("nba_precompute", "player_shot_zone_analysis", "analysis_date", "shot_zone"),
    _table("nba_precompute", "team_defense_zone_analysis", "analysis_date", "team_defense"),
    _table("nba_analytics", "team_offense_game_summary", "game_date", "team_offense"),
    _table("nba_raw", "odds_api_player_points_props", "game_date", "odds_api"),
    _table(
        "nba_raw",
        "bettingpros_player_points_props",
        "game_date",
        "bettingpros",
        extra_restriction=" AND market_type = 'points'",
    ),
    _table("nba_raw", "nbac_injury_report", "report_date", "injury_report"),
    _table("nba_predictions", "prediction_accuracy", "game_date", "prediction_accuracy"),
)
TABLES: dict[str, SourceTable] = {t.key: t for t in SOURCE_TABLES}
BY_SHORT: dict[str, SourceTable] = {t.short: t for t in SOURCE_TABLES}

# The one column whose live type may differ from the DDL (docs/sources.md §2.1, §3.4).
MINUTES_ALTERNATIVES = {"INT64", "FLOAT64"}


# --------------------------------------------------------------------------- per contract


@dataclass(frozen=True)
class TableNeed:
    """What one contract reads of one table: these columns, over this lookback."""

    columns: tuple[str, ...]
    lookback: Lookback


REFERENCE_CONTRACT = "v2_37features"  # what a format-1 snapshot serves (docs/v2_54/sources.md §5 rule 1)

_S37_LOOKBACKS = {
    "nba_analytics.player_game_summary": Lookback(366),
    "nba_analytics.upcoming_player_game_context": Lookback(0),
    "nba_precompute.player_daily_cache": Lookback(14),
    "nba_precompute.player_composite_factors": Lookback(14),
    "nba_precompute.player_shot_zone_analysis": Lookback(14),
    "nba_precompute.team_defense_zone_analysis": Lookback(14),
    "nba_analytics.team_offense_game_summary": Lookback(None, season_start=True),
    "nba_raw.odds_api_player_points_props": Lookback(0),
    "nba_raw.bettingpros_player_points_props": Lookback(0),
}
_V2_54_LOOKBACKS = {
    "nba_analytics.player_game_summary": Lookback(366),
    "nba_analytics.upcoming_player_game_context": Lookback(0),
    "nba_precompute.player_daily_cache": Lookback(0),
    "nba_precompute.player_composite_factors": Lookback(0),
    "nba_precompute.player_shot_zone_analysis": Lookback(0),
    "nba_precompute.team_defense_zone_analysis": Lookback(0),
    "nba_analytics.team_offense_game_summary": Lookback(60, season_start=True),
    "nba_raw.odds_api_player_points_props": Lookback(14),
    "nba_raw.bettingpros_player_points_props": Lookback(0),
    "nba_raw.nbac_injury_report": Lookback(0),
    "nba_predictions.prediction_accuracy": Lookback(60),
}

# contract -> {table key -> TableNeed}, tables in SOURCE_TABLES order.
CONTRACT_SOURCES: dict[str, dict[str, TableNeed]] = {
    "v2_37features": {
        key: TableNeed(tuple(c.name for c in _S37_COLUMNS[key]), lookback) for key, lookback in _S37_LOOKBACKS.items()
    },
    "v2_54features": {
        key: TableNeed(tuple(TABLES[key].all_column_names), lookback) for key, lookback in _V2_54_LOOKBACKS.items()
    },
}
CONTRACTS: tuple[str, ...] = tuple(sorted(CONTRACT_SOURCES))


def check_contracts(contracts: Iterable[str] | None) -> tuple[str, ...]:
    """Sorted, de-duplicated contract names (None: every known contract); unknown names refused."""
    from fsengine.errors import InputError

    chosen = CONTRACTS if contracts is None else tuple(sorted(set(contracts)))
    unknown = [c for c in chosen if c not in CONTRACT_SOURCES]
    if unknown or not chosen:
        raise InputError(f"unknown contract(s) {unknown or '(none given)'}; known: {', '.join(CONTRACTS)}")
    return chosen


def tables_for(contracts: Iterable[str] | None = None) -> list[SourceTable]:
    """The tables the contracts read (their union), in SOURCE_TABLES order."""
    chosen = check_contracts(contracts)
    return [t for t in SOURCE_TABLES if any(t.key in CONTRACT_SOURCES[c] for c in chosen)]


def columns_for(table: SourceTable, contracts: Iterable[str] | None = None) -> list[str]:
    """The columns of `table` the contracts read (their union), in the spec's column order."""
    chosen = check_contracts(contracts)
    wanted = {n for c in chosen if table.key in CONTRACT_SOURCES[c] for n in CONTRACT_SOURCES[c][table.key].columns}
    return [n for n in table.all_column_names if n in wanted]


def required_bounds(
    table: SourceTable, start: dt.date, end: dt.date, contracts: str | Iterable[str] | None = None
) -> tuple[dt.date, dt.date]:
    """Inclusive date bounds `table` must cover for a run over [start, end] of the contracts
    (one name or several; None: every contract that reads the table) — the union of their windows."""
    if isinstance(contracts, str):
        contracts = (contracts,)
    chosen = [c for c in check_contracts(contracts) if table.key in CONTRACT_SOURCES[c]]
    if not chosen:
        raise KeyError(f"no contract of {list(contracts or CONTRACTS)} reads {table.key}")
    return min(CONTRACT_SOURCES[c][table.key].lookback.first_day(start) for c in chosen), end


def first_servable_start(
    table: SourceTable, table_start: dt.date, contracts: str | Iterable[str] | None = None
) -> dt.date:
    """The earliest run start for which a table held from table_start covers every named contract's window."""
    if isinstance(contracts, str):
        contracts = (contracts,)
    chosen = [c for c in check_contracts(contracts) if table.key in CONTRACT_SOURCES[c]]
    return max(CONTRACT_SOURCES[c][table.key].lookback.first_start(table_start) for c in chosen)


def missing_for(contract: str, column_types: Mapping[str, Iterable[str]]) -> tuple[list[str], list[str]]:
    """(tables, `table.column`s) `contract` reads that a snapshot with these tables/columns lacks."""
    tables: list[str] = []
    columns: list[str] = []
    for key, need in CONTRACT_SOURCES[contract].items():
        if key not in column_types:
            tables.append(key)
            continue
        columns.extend(f"{key}.{n}" for n in need.columns if n not in column_types[key])
    return tables, columns
