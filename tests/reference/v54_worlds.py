"""Hand-built tiny format-2 snapshots for contract v2_54features (tests of the v2_54
reference; usable by the engine parity tests as well).

`TinyWorld` collects rows per table with sensible defaults and `write(path)` writes a format-2
snapshot: manifest.json (format 2, contracts, one entry per table with date_column, start,
end, columns, row_restriction, rows, files with sha256) and one Parquet file per table.
Written without fsengine, so the reference tests stay independent of the engine's reader.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

STAMP = dt.datetime(2026, 1, 20, 12, 0, tzinfo=dt.UTC)

# (column, BigQuery type, NOT NULL) in docs/sources.md order (S37 columns, then v2_54 §2 / §3).
TABLES = {
    "nba_analytics.player_game_summary": (
        "game_date",
        [
            ("player_lookup", "STRING", True),
            ("universal_player_id", "STRING", False),
            ("game_id", "STRING", True),
            ("game_date", "DATE", True),
            ("team_abbr", "STRING", False),
            ("opponent_team_abbr", "STRING", False),
            ("season_year", "INT64", True),
            ("points", "INT64", False),
            ("minutes_played", "NUMERIC", False),
            ("ft_makes", "INT64", False),
            ("is_dnp", "BOOL", False),
            ("fg_attempts", "INT64", False),
            ("paint_attempts", "INT64", False),
            ("mid_range_attempts", "INT64", False),
            ("three_pt_attempts", "INT64", False),
            ("usage_rate", "NUMERIC", False),
        ],
    ),
    "nba_analytics.upcoming_player_game_context": (
        "game_date",
        [
            ("player_lookup", "STRING", True),
            ("universal_player_id", "STRING", False),
            ("game_id", "STRING", True),
            ("game_date", "DATE", True),
            ("team_abbr", "STRING", False),
            ("opponent_team_abbr", "STRING", False),
            ("home_game", "BOOL", False),
            ("back_to_back", "BOOL", False),
            ("season_phase", "STRING", False),
            ("days_rest", "INT64", False),
            ("opponent_days_rest", "INT64", False),
            ("player_status", "STRING", False),
            ("games_in_last_7_days", "INT64", False),
            ("star_teammates_out", "INT64", False),
            ("game_total", "NUMERIC", False),
            ("minutes_in_last_7_days", "INT64", False),
            ("game_spread", "NUMERIC", False),
            ("prop_over_streak", "INT64", False),
            ("prop_under_streak", "INT64", False),
            ("avg_minutes_per_game_last_7", "NUMERIC", False),
            ("has_prop_line", "BOOL", False),
            ("is_production_ready", "BOOL", False),
        ],
    ),
    "nba_precompute.player_daily_cache": (
        "cache_date",
        [
            ("player_lookup", "STRING", True),
            ("cache_date", "DATE", True),
            ("points_avg_last_5", "NUMERIC", False),
            ("points_avg_last_10", "NUMERIC", False),
            ("points_avg_season", "NUMERIC", False),
            ("points_std_last_10", "NUMERIC", False),
            ("games_in_last_7_days", "INT64", False),
            ("paint_rate_last_10", "NUMERIC", False),
            ("three_pt_rate_last_10", "NUMERIC", False),
            ("team_pace_last_10", "NUMERIC", False),
            ("team_off_rating_last_10", "NUMERIC", False),
            ("minutes_avg_last_10", "NUMERIC", False),
        ],
    ),
    "nba_precompute.player_composite_factors": (
        "game_date",
        [
            ("player_lookup", "STRING", True),
            ("game_date", "DATE", True),
            ("fatigue_score", "INT64", False),
            ("shot_zone_mismatch_score", "NUMERIC", False),
            ("pace_score", "NUMERIC", False),
            ("usage_spike_score", "NUMERIC", False),
        ],
    ),
    "nba_precompute.player_shot_zone_analysis": (
        "analysis_date",
        [
            ("player_lookup", "STRING", True),
            ("analysis_date", "DATE", True),
            ("paint_rate_last_10", "NUMERIC", False),
            ("mid_range_rate_last_10", "NUMERIC", False),
            ("three_pt_rate_last_10", "NUMERIC", False),
        ],
    ),
    "nba_precompute.team_defense_zone_analysis": (
        "analysis_date",
        [
            ("team_abbr", "STRING", True),
            ("analysis_date", "DATE", True),
            ("defensive_rating_last_15", "NUMERIC", False),
            ("opponent_pace", "NUMERIC", False),
        ],
    ),
    "nba_analytics.team_offense_game_summary": (
        "game_date",
        [
            ("team_abbr", "STRING", True),
            ("game_date", "DATE", True),
            ("season_year", "INT64", True),
            ("win_flag", "BOOL", False),
            ("game_id", "STRING", True),
            ("pace", "NUMERIC", False),
            ("offensive_rating", "NUMERIC", False),
            ("margin_of_victory", "INT64", False),
        ],
    ),
    "nba_raw.odds_api_player_points_props": (
        "game_date",
        [
            ("player_lookup", "STRING", False),
            ("game_date", "DATE", True),
            ("bookmaker", "STRING", False),
            ("points_line", "FLOAT64", False),
            ("snapshot_timestamp", "TIMESTAMP", False),
            ("minutes_before_tipoff", "INT64", False),
        ],
    ),
    "nba_raw.bettingpros_player_points_props": (
        "game_date",
        [
            ("player_lookup", "STRING", False),
            ("game_date", "DATE", True),
            ("market_type", "STRING", False),
            ("points_line", "FLOAT64", False),
            ("opening_line", "FLOAT64", False),
            ("created_at", "TIMESTAMP", False),
            ("bookmaker", "STRING", True),
        ],
    ),
    "nba_raw.nbac_injury_report": (
        "report_date",
        [
            ("report_date", "DATE", False),
            ("player_lookup", "STRING", False),
            ("team", "STRING", False),
            ("injury_status", "STRING", False),
            ("report_hour", "INT64", False),
            ("game_date", "DATE", False),
        ],
    ),
    "nba_predictions.prediction_accuracy": (
        "game_date",
        [
            ("player_lookup", "STRING", True),
            ("game_date", "DATE", True),
            ("line_value", "NUMERIC", False),
            ("recommendation", "STRING", False),
            ("system_id", "STRING", True),
        ],
    ),
}
SHORT = {
    "pgs": "nba_analytics.player_game_summary",
    "upgc": "nba_analytics.upcoming_player_game_context",
    "daily_cache": "nba_precompute.player_daily_cache",
    "composite": "nba_precompute.player_composite_factors",
    "shot_zone": "nba_precompute.player_shot_zone_analysis",
    "team_defense": "nba_precompute.team_defense_zone_analysis",
    "team_offense": "nba_analytics.team_offense_game_summary",
    "odds": "nba_raw.odds_api_player_points_props",
    "bettingpros": "nba_raw.bettingpros_player_points_props",
    "injury": "nba_raw.nbac_injury_report",
    "accuracy": "nba_predictions.prediction_accuracy",
}
ARROW = {
    "STRING": pa.string(),
    "DATE": pa.date32(),
    "INT64": pa.int64(),
    "NUMERIC": pa.decimal128(38, 9),
    "BOOL": pa.bool_(),
    "FLOAT64": pa.float64(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
}
FILLER = {
    "STRING": "X",
    "INT64": 0,
    "FLOAT64": 0.0,
    "BOOL": False,
    "TIMESTAMP": STAMP,
    "NUMERIC": Decimal(0),
    "DATE": dt.date(2000, 1, 1),
}


def season_year(day: dt.date) -> int:
    return day.year if day.month >= 10 else day.year - 1


class TinyWorld:
    def __init__(self, minutes_type: str = "NUMERIC"):
        self.minutes_type = minutes_type
        self.rows: dict[str, list[dict]] = {name: [] for name in TABLES}

    def add(self, short: str, **row) -> TinyWorld:
        self.rows[SHORT[short]].append(row)
        return self

    # -- convenience builders with defaults -------------------------------------------
    def pgs(self, player, day, points=10, minutes=30, *, team="BOS", opponent="NYK", dnp=False, **extra):
        row = dict(
            player_lookup=player,
            universal_player_id=f"{player}_001",
            game_id=f"{day:%Y%m%d}_{opponent}_{team}",
            game_date=day,
            team_abbr=team,
            opponent_team_abbr=opponent,
            season_year=season_year(day),
            points=points,
            minutes_played=minutes,
            ft_makes=2,
            is_dnp=dnp,
        )
        row.update(extra)
        return self.add("pgs", **row)

    def upgc(self, player, day, *, team="BOS", opponent="NYK", **extra):
        row = dict(
            player_lookup=player,
            universal_player_id=f"{player}_001",
            game_id=f"{day:%Y%m%d}_{opponent}_{team}",
            game_date=day,
            team_abbr=team,
            opponent_team_abbr=opponent,
            home_game=True,
            back_to_back=False,
            season_phase="regular_season",
            days_rest=2,
            opponent_days_rest=0,
            player_status="available",
        )
        row.update(extra)
        return self.add("upgc", **row)

    def team_game(self, team, day, *, win=True, pace=None, rating=None, margin=None, season=None, game_id=None):
        return self.add(
            "team_offense",
            team_abbr=team,
            game_date=day,
            season_year=season_year(day) if season is None else season,
            win_flag=win,
            game_id=game_id or f"{day:%Y%m%d}_{team}",
            pace=pace,
            offensive_rating=rating,
            margin_of_victory=margin,
        )

    def odds(self, player, day, book, line, *, at=None, mbt=60):
        at = at or dt.datetime(day.year, day.month, day.day, 18, 0, tzinfo=dt.UTC)
        return self.add(
            "odds",
            player_lookup=player,
            game_date=day,
            bookmaker=book,
            points_line=line,
            snapshot_timestamp=at,
            minutes_before_tipoff=mbt,
        )

    def props(self, player, day, book, line, *, opening=None, at=None):
        at = at or dt.datetime(day.year, day.month, day.day, 18, 0, tzinfo=dt.UTC)
        return self.add(
            "bettingpros",
            player_lookup=player,
            game_date=day,
            market_type="points",
            points_line=line,
            opening_line=opening,
            created_at=at,
            bookmaker=book,
        )

    # -- writing ------------------------------------------------------------------------
    def _table(self, name: str) -> pa.Table:
        _, columns = TABLES[name]
        fields, arrays = [], []
        for col, bq, not_null in columns:
            bq_type = self.minutes_type if col == "minutes_played" else bq
            typ = ARROW[bq_type]
            values = []
            for row in self.rows[name]:
                if col in row:
                    v = row[col]
                    if v is not None and bq_type == "NUMERIC":
                        v = Decimal(str(v))
                    if v is not None and bq_type == "FLOAT64":
                        v = float(v)
                else:
                    v = FILLER[bq_type] if not_null else None
                values.append(v)
            fields.append(pa.field(col, typ, nullable=not not_null))
            arrays.append(pa.array(values, typ))
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))

    def write(self, path, start=dt.date(2023, 10, 1), end=dt.date(2028, 12, 31)) -> Path:
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        manifest = {
            "format": 2,
            "contracts": ["v2_37features", "v2_54features"],
            "created_at": "2026-01-20T12:00:00.000000Z",
            "tool_version": "tests",
            "tables": {},
        }
        for name, (date_col, columns) in TABLES.items():
            (root / name).mkdir(exist_ok=True)
            rel = f"{name}/part-00000.parquet"
            table = self._table(name)
            pq.write_table(table, root / rel)
            data = (root / rel).read_bytes()
            restriction = f"{date_col} BETWEEN CAST('{start}' AS DATE) AND CAST('{end}' AS DATE)"
            if name == "nba_raw.bettingpros_player_points_props":
                restriction += " AND market_type = 'points'"
            manifest["tables"][name] = {
                "date_column": date_col,
                "start": str(start),
                "end": str(end),
                "columns": [
                    {"name": c, "type": self.minutes_type if c == "minutes_played" else t} for c, t, _ in columns
                ],
                "row_restriction": restriction,
                "snapshot_time": "2026-01-20T12:00:00.000000Z",
                "source": f"tests:{name}",
                "rows": table.num_rows,
                "bytes": len(data),
                "files": [{"path": rel, "rows": table.num_rows, "sha256": hashlib.sha256(data).hexdigest()}],
            }
        (root / "manifest.json").write_text(json.dumps(manifest, indent=1))
        return root
