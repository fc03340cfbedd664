"""The documented target table, written out by hand from the spec — NOT from fsengine's code.

Source: docs/output.md §2 (the spec's output.md) (the 143 emitted columns: number, name, type, NOT NULL)
and §8.5 (the Arrow type of each BigQuery type in the local Parquet output); §6 and §7 for the
target table's other columns and layout. Nothing here imports fsengine: the tests compare the
code's schema (fsengine/output/schema.py) with this table, and the emulator tests build their
target table from it, so a wrong name, type, order or NOT NULL in the code cannot also be
baked into the table the code is checked against.

    DOCUMENTED_COLUMNS   ((spec number, name, BigQuery type as the spec writes it, NOT NULL), ...)
    bigquery_fields()    google.cloud.bigquery SchemaFields of the documented target
    arrow_type_matches() §8.5: does an Arrow type carry a documented BigQuery type
"""

from __future__ import annotations

import re

COMPLETENESS = (
    "STRUCT<games_found INT64, games_expected INT64, is_complete BOOL, is_bootstrap BOOL, "
    "contributing_game_dates ARRAY<DATE>>"
)

# docs/output.md §2.1 — identity, payload, context (21): (#, column, type, NOT NULL)
_IDENTITY = [
    (1, "player_lookup", "STRING", True),
    (2, "universal_player_id", "STRING", False),
    (3, "game_date", "DATE", True),
    (4, "game_id", "STRING", True),
    (5, "features", "ARRAY<FLOAT64>", False),
    (6, "feature_names", "ARRAY<STRING>", False),
    (7, "feature_count", "INT64", True),
    (8, "feature_version", "STRING", True),
    (9, "feature_quality_score", "NUMERIC(5,2)", False),
    (10, "opponent_team_abbr", "STRING", False),
    (11, "is_home", "BOOL", False),
    (12, "days_rest", "INT64", False),
    (13, "data_source", "STRING", True),
    (14, "early_season_flag", "BOOL", False),
    (15, "insufficient_data_reason", "STRING", False),
    (16, "data_hash", "STRING", False),
    (17, "historical_completeness", COMPLETENESS, False),
    (18, "created_at", "TIMESTAMP", True),
    (19, "updated_at", "TIMESTAMP", False),
    (20, "feature_sources_json", "STRING", False),
    (21, "fallback_reasons", "ARRAY<STRING>", False),
]

# docs/output.md §2.2 — quality columns (122), none NOT NULL
_QUALITY = [
    # 22–33
    (22, "quality_tier", "STRING", False),
    (23, "quality_alert_level", "STRING", False),
    (24, "quality_alerts", "ARRAY<STRING>", False),
    (25, "default_feature_count", "INT64", False),
    (26, "default_feature_indices", "ARRAY<INT64>", False),
    (27, "required_default_count", "INT64", False),
    (28, "phase4_feature_count", "INT64", False),
    (29, "phase3_feature_count", "INT64", False),
    (30, "calculated_feature_count", "INT64", False),
    (31, "is_training_ready", "BOOL", False),
    (32, "training_quality_feature_count", "INT64", False),
    (33, "is_quality_ready", "BOOL", False),
    # 34–38
    (34, "matchup_quality_pct", "FLOAT64", False),
    (35, "player_history_quality_pct", "FLOAT64", False),
    (36, "team_context_quality_pct", "FLOAT64", False),
    (37, "vegas_quality_pct", "FLOAT64", False),
    (38, "game_context_quality_pct", "FLOAT64", False),
    # 39–43
    (39, "matchup_default_count", "INT64", False),
    (40, "player_history_default_count", "INT64", False),
    (41, "team_context_default_count", "INT64", False),
    (42, "vegas_default_count", "INT64", False),
    (43, "game_context_default_count", "INT64", False),
    # 44–51: BOOL ×4, INT64 ×2, STRING ×2
    (44, "has_composite_factors", "BOOL", False),
    (45, "has_opponent_defense", "BOOL", False),
    (46, "has_vegas_line", "BOOL", False),
    (47, "critical_features_training_quality", "BOOL", False),
    (48, "critical_feature_count", "INT64", False),
    (49, "optional_feature_count", "INT64", False),
    (50, "matchup_quality_tier", "STRING", False),
    (51, "game_context_quality_tier", "STRING", False),
    # 52–88: feature_0_quality … feature_36_quality (the spec's own range notation)
    *[(52 + i, f"feature_{i}_quality", "FLOAT64", False) for i in range(37)],
    # 89–125: feature_0_source … feature_36_source
    *[(89 + i, f"feature_{i}_source", "STRING", False) for i in range(37)],
    # 126–131
    (126, "feature_fallback_reasons_json", "STRING", False),
    (127, "feature_sample_sizes_json", "STRING", False),
    (128, "feature_expected_values_json", "STRING", False),
    (129, "feature_value_ranges_valid_json", "STRING", False),
    (130, "feature_upstream_tables_json", "STRING", False),
    (131, "feature_last_updated_json", "STRING", False),
    # 132–135
    (132, "feature_schema_version", "STRING", False),
    (133, "available_feature_names", "ARRAY<STRING>", False),
    (134, "breakout_model_compatible", "ARRAY<STRING>", False),
    (135, "breakout_v3_features_available", "BOOL", False),
    # 136–141
    (136, "upstream_processors_ran", "STRING", False),
    (137, "missing_processors", "STRING", False),
    (138, "feature_store_age_hours", "FLOAT64", False),
    (139, "upstream_data_freshness_hours", "FLOAT64", False),
    (140, "quality_computed_at", "TIMESTAMP", False),
    (141, "quality_schema_version", "STRING", False),
    # 142–143
    (142, "primary_data_source", "STRING", False),
    (143, "matchup_data_status", "STRING", False),
]

DOCUMENTED_COLUMNS: tuple[tuple[int, str, str, bool], ...] = tuple(_IDENTITY + _QUALITY)
DOCUMENTED_NAMES: list[str] = [name for _, name, _, _ in DOCUMENTED_COLUMNS]

# docs/output.md §6: target columns the engine never emits (a sample; the test target carries these
# too, so the push is shown to leave them alone)
NOT_EMITTED_SAMPLE = [("feature_generation_time_ms", "INT64"), ("vegas_line_source", "STRING")]

# docs/output.md §7: the declared layout (require_partition_filter is left out on the emulator, see
# shared/bigquery-emulator.md: it rejects every MERGE into such a table)
PARTITION_FIELD = "game_date"
CLUSTERING_FIELDS = ["player_lookup", "feature_version", "game_date"]


# --------------------------------------------------------------------------- type text


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def parse_type(text: str) -> tuple:
    """('SCALAR', name) | ('NUMERIC', precision, scale) | ('ARRAY', element) | ('STRUCT', [(name, type)])."""
    text = text.strip()
    if text.startswith("ARRAY<") and text.endswith(">"):
        return ("ARRAY", parse_type(text[6:-1]))
    if text.startswith("STRUCT<") and text.endswith(">"):
        fields = []
        for part in _split_top_level(text[7:-1]):
            name, type_text = part.split(" ", 1)
            fields.append((name, parse_type(type_text)))
        return ("STRUCT", fields)
    numeric = re.fullmatch(r"NUMERIC\((\d+),\s*(\d+)\)", text)
    if numeric:
        return ("NUMERIC", int(numeric[1]), int(numeric[2]))
    if text in {"STRING", "INT64", "FLOAT64", "BOOL", "DATE", "TIMESTAMP"}:
        return ("SCALAR", text)
    raise ValueError(f"not a documented type: {text!r}")


# --------------------------------------------------------------------------- BigQuery


def _field(name: str, parsed: tuple, not_null: bool):
    from google.cloud import bigquery

    mode = "REQUIRED" if not_null else "NULLABLE"
    kind = parsed[0]
    if kind == "ARRAY":
        element = parsed[1]
        if element[0] != "SCALAR":
            raise ValueError(f"{name}: only arrays of scalars are documented")
        return bigquery.SchemaField(name, element[1], mode="REPEATED")
    if kind == "STRUCT":
        return bigquery.SchemaField(name, "RECORD", mode=mode, fields=[_field(n, t, False) for n, t in parsed[1]])
    if kind == "NUMERIC":
        return bigquery.SchemaField(name, "NUMERIC", mode=mode, precision=parsed[1], scale=parsed[2])
    return bigquery.SchemaField(name, parsed[1], mode=mode)


def bigquery_fields(drop=(), retype: dict | None = None, extra_after: dict | None = None) -> list:
    """The documented target table as BigQuery SchemaFields, in the documented order.

    drop: emitted columns to leave out; retype: {column: documented type text} to change;
    extra_after: {column: [(name, type), ...]} non-emitted columns placed after that column.
    """
    fields = []
    for _, name, type_text, not_null in DOCUMENTED_COLUMNS:
        if name not in drop:
            fields.append(_field(name, parse_type((retype or {}).get(name, type_text)), not_null))
        for extra_name, extra_type in (extra_after or {}).get(name, ()):
            fields.append(_field(extra_name, parse_type(extra_type), False))
    return fields


# --------------------------------------------------------------------------- Arrow (§8.5)


def arrow_type_matches(arrow_type, type_text_or_parsed) -> bool:
    """§8.5: STRING → string, INT64 → int64, FLOAT64 → float64, NUMERIC(5,2) → decimal (scale
    ≥ 2, room for the 3 integer digits), BOOL → bool, DATE → date32, TIMESTAMP → timestamp[us,
    tz=UTC], ARRAY → list, STRUCT → struct (same field names, in order)."""
    import pyarrow as pa

    parsed = parse_type(type_text_or_parsed) if isinstance(type_text_or_parsed, str) else type_text_or_parsed
    kind = parsed[0]
    if kind == "ARRAY":
        return pa.types.is_list(arrow_type) and arrow_type_matches(arrow_type.value_type, parsed[1])
    if kind == "STRUCT":
        if not pa.types.is_struct(arrow_type) or [f.name for f in arrow_type] != [n for n, _ in parsed[1]]:
            return False
        return all(arrow_type_matches(f.type, t) for f, (_, t) in zip(arrow_type, parsed[1]))
    if kind == "NUMERIC":
        precision, scale = parsed[1], parsed[2]
        return (
            pa.types.is_decimal(arrow_type)
            and arrow_type.scale >= scale
            and arrow_type.precision - arrow_type.scale >= precision - scale
        )
    expected = {
        "STRING": pa.string(),
        "INT64": pa.int64(),
        "FLOAT64": pa.float64(),
        "BOOL": pa.bool_(),
        "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us", tz="UTC"),
    }[parsed[1]]
    return arrow_type == expected
