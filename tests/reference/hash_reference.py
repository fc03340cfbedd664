"""data_hash (docs/output.md §3) the straightforward way: one row (a dict of the 15 fields, Python
values, the feature vector with None and nan) at a time, with repr() of floats."""

from __future__ import annotations

import datetime as dt
import hashlib

FIELDS = (
    "player_lookup",
    "universal_player_id",
    "game_date",
    "game_id",
    "features",
    "feature_names",
    "feature_count",
    "feature_version",
    "feature_quality_score",
    "opponent_team_abbr",
    "is_home",
    "days_rest",
    "data_source",
    "early_season_flag",
    "insufficient_data_reason",
)


def render(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, list):
        return repr(value)  # Python list repr: floats by repr, None, nan, 'quoted' strings
    raise TypeError(f"cannot render {value!r}")


def data_hash(row: dict) -> str:
    assert set(row) == set(FIELDS), set(row) ^ set(FIELDS)
    parts = sorted(f"{name}:{render(row[name])}" for name in FIELDS)
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:16]
