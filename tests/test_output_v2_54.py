"""Output rows of contract v2_54features (docs/v2_54/output.md §1-§2): the 251 columns in order,
the data_hash vectors of §2, placeholder fill of the new columns, feature_N_value masking, and
the refusal of an assembled frame without the two new inputs. Expected values are the spec's."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from reference import hash_reference
from test_finalize import BASE_FIELDS, HASH_SCHEMA, VECTOR_1

from fsengine.contracts import load_contract
from fsengine.output import rows as finalize
from fsengine.output.schema import output_schema

C54 = load_contract("v2_54features")
RUN_TS = dt.datetime(2026, 2, 6, 7, 8, 9, tzinfo=dt.UTC)

# docs/v2_54/output.md §2, row a: features 37-59
TAIL_A = [
    2.0,
    224.5,
    1.0,
    68.0,
    6.5,
    115.5,
    28.333333333333332,
    0.75,
    0.6123724356957945,
    0.0,
    44.453333333,
    24.669999999999998,
    3.0,
    0.5773502691896257,
    0.0,
    2.0,
    1.6999999999999993,
    1.5,
    0.428571429,
    -4.1,
    0.4,
    3.06,
    1.5,
]
VECTOR_A = VECTOR_1 + TAIL_A
VECTOR_B = list(VECTOR_A)
for _i in (18, 19, 20, 25, 26, 27, 38):
    VECTOR_B[_i] = None
VECTOR_B[28] = 0.0
for _i in (42, 47, 50, 53, 54, 55, 56):
    VECTOR_B[_i] = math.nan

BASE_54 = {**BASE_FIELDS, "feature_names": C54.names, "feature_count": 60, "feature_version": "v2_54features"}
VECTORS_54 = [
    ({**BASE_54, "features": VECTOR_A, "feature_quality_score": 97.12}, "c7992936abfdd905"),
    ({**BASE_54, "features": VECTOR_B, "feature_quality_score": 96.61}, "360a629f362e29f1"),
    (
        {
            **BASE_54,
            "universal_player_id": None,
            "game_date": dt.date(2026, 10, 21),
            "game_id": "20261021_BOS_LAL",
            "features": [None] * 60,
            "feature_quality_score": 0.0,
            "opponent_team_abbr": "BOS",
            "is_home": True,
            "days_rest": None,
            "data_source": "early_season",
            "early_season_flag": True,
            "insufficient_data_reason": "early_season_skip_first_14_days",
        },
        "ec92bb158530a7c1",
    ),
]


@pytest.mark.parametrize("fields, want", VECTORS_54)
def test_reference_hash_matches_the_v2_54_vectors(fields, want):
    assert hash_reference.data_hash(fields) == want


def test_vectorised_hash_matches_the_v2_54_vectors():
    frame = pl.DataFrame([f for f, _ in VECTORS_54], schema=HASH_SCHEMA)
    assert finalize.data_hashes(frame, 60).to_list() == [want for _, want in VECTORS_54]


def test_251_columns_in_order():
    names = output_schema(C54).names
    assert len(names) == 251
    assert names[:21] == output_schema(load_contract()).names[:21]
    assert names[51] == "feature_0_quality" and names[110] == "feature_59_quality"
    assert names[111] == "feature_0_source" and names[170] == "feature_59_source"
    assert names[171:191] == [
        "feature_fallback_reasons_json",
        "feature_sample_sizes_json",
        "feature_expected_values_json",
        "feature_value_ranges_valid_json",
        "feature_upstream_tables_json",
        "feature_last_updated_json",
        "feature_schema_version",
        "available_feature_names",
        "breakout_model_compatible",
        "breakout_v3_features_available",
        "upstream_processors_ran",
        "missing_processors",
        "feature_store_age_hours",
        "upstream_data_freshness_hours",
        "quality_computed_at",
        "quality_schema_version",
        "primary_data_source",
        "matchup_data_status",
        "cache_miss_fallback_used",
        "vegas_line_source",
    ]
    assert names[191:] == [f"feature_{i}_value" for i in range(60)]


# pattern A of docs/v2_54/quality.md §8, with 50 from BettingPros (pattern E) and 25-27 missing
TAGS_A = (
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
    + ["phase3"] * 6
    + ["calculated"] * 7
    + ["vegas"]
    + ["phase3"] * 2
    + ["calculated"]
    + ["vegas"]
    + ["calculated"] * 5
)


def assembled(rows: list[dict]) -> pl.DataFrame:
    schema = {
        "player_lookup": pl.Utf8,
        "universal_player_id": pl.Utf8,
        "game_date": pl.Date,
        "game_id": pl.Utf8,
        "opponent_team_abbr": pl.Utf8,
        "is_home": pl.Boolean,
        "days_rest": pl.Int64,
        "feature_values": pl.List(pl.Float64),
        "feature_tags": pl.List(pl.Utf8),
        "is_placeholder": pl.Boolean,
        "historical_completeness": pl.Struct(
            {
                "games_found": pl.Int64,
                "games_expected": pl.Int64,
                "is_complete": pl.Boolean,
                "is_bootstrap": pl.Boolean,
                "contributing_game_dates": pl.List(pl.Date),
            }
        ),
        "cache_miss_fallback_used": pl.Boolean,
        "vegas_line_source": pl.Utf8,
    }
    return pl.DataFrame(rows, schema=schema)


def scored_row(tags, values, **extra) -> dict:
    return {
        "player_lookup": "lebronjames",
        "universal_player_id": "lebronjames_001",
        "game_date": dt.date(2026, 2, 5),
        "game_id": "20260205_LAL_GSW",
        "opponent_team_abbr": "GSW",
        "is_home": False,
        "days_rest": 1,
        "feature_values": values,
        "feature_tags": tags,
        "is_placeholder": False,
        "historical_completeness": {
            "games_found": 3,
            "games_expected": 3,
            "is_complete": True,
            "is_bootstrap": True,
            "contributing_game_dates": [],
        },
        "cache_miss_fallback_used": True,
        "vegas_line_source": "bettingpros",
        **extra,
    }


def placeholder_row() -> dict:
    return {
        "player_lookup": "lebronjames",
        "universal_player_id": None,
        "game_date": dt.date(2026, 10, 21),
        "game_id": "20261021_BOS_LAL",
        "opponent_team_abbr": "BOS",
        "is_home": True,
        "days_rest": None,
        "feature_values": None,
        "feature_tags": None,
        "is_placeholder": True,
        "historical_completeness": None,
        "cache_miss_fallback_used": None,
        "vegas_line_source": None,
    }


def test_rows_of_v2_54():
    tags = list(TAGS_A)
    values = list(VECTOR_A)
    for i in (25, 26, 27):
        tags[i], values[i] = "missing", None
    tags[50] = "bettingpros"
    tags[37], values[37] = "default", 0.0
    tags[45], values[45] = "missing", math.nan
    scored, placeholder = finalize.output_rows(
        assembled([scored_row(tags, values), placeholder_row()]), RUN_TS, C54.profile
    ).to_pylist()
    assert (scored["feature_count"], scored["feature_version"]) == (60, "v2_54features")
    assert (scored["feature_schema_version"], scored["quality_schema_version"]) == (
        "v2_60features",
        "v1_hybrid_20260205",
    )
    assert scored["feature_names"] == C54.names == scored["available_feature_names"]
    assert scored["fallback_reasons"] == [] and placeholder["fallback_reasons"] == []
    assert (scored["cache_miss_fallback_used"], scored["vegas_line_source"]) == (True, "bettingpros")
    assert scored["features"][45] == 0.0 and scored["features"][25] == 0.0 and len(scored["features"]) == 60
    value_columns = [scored[f"feature_{i}_value"] for i in range(60)]
    assert [i for i, v in enumerate(value_columns) if v is None] == [25, 26, 27, 37, 45]
    assert value_columns[50] == VECTOR_A[50] and value_columns[0] == VECTOR_A[0]
    assert (scored["feature_50_source"], scored["feature_50_quality"]) == ("bettingpros", 100.0)
    # counted = 60 - 5 defaulted optional; W = 5827 - 3*100 - 87 - 100 = 5340 -> 97.09
    assert float(scored["feature_quality_score"]) == round(5340 / 55, 2)
    assert scored["required_default_count"] == 0 and scored["default_feature_count"] == 5
    assert scored["quality_alert_level"] == "green" and scored["is_quality_ready"] is True

    assert placeholder["features"] == [0.0] * 60
    assert placeholder["data_hash"] == "ec92bb158530a7c1"
    for name in (
        "cache_miss_fallback_used",
        "vegas_line_source",
        "feature_schema_version",
        "feature_59_quality",
        "feature_59_source",
        "quality_schema_version",
        *(f"feature_{i}_value" for i in range(60)),
    ):
        assert placeholder[name] is None, name
    assert placeholder["feature_version"] == "v2_54features" and placeholder["feature_count"] == 60


@pytest.mark.parametrize("column", ["cache_miss_fallback_used", "vegas_line_source"])
def test_the_new_inputs_are_required_for_v2_54(column):
    frame = assembled([scored_row(list(TAGS_A), list(VECTOR_A))])
    with pytest.raises(ValueError, match=column):
        finalize.output_rows(frame.drop(column), RUN_TS, C54.profile)
    with pytest.raises(ValueError, match=f"NULL {column}"):
        finalize.output_rows(frame.with_columns(pl.lit(None).alias(column)), RUN_TS, C54.profile)


# ---- write, read back, push checks over the contract's own columns ------------------------


def v54_table():
    tags = list(TAGS_A)
    return finalize.output_rows(assembled([scored_row(tags, list(VECTOR_A)), placeholder_row()]), RUN_TS, C54.profile)


def test_write_and_read_back_with_the_contracts_schema(tmp_path):
    from fsengine.output.schema import read_output, write_output

    table = v54_table()
    write_output(table, tmp_path, contract=C54)
    back = read_output(tmp_path)
    assert back.schema == output_schema(C54)
    assert back.to_pylist() == table.to_pylist()
    with pytest.raises(ValueError, match="output columns"):
        write_output(table, tmp_path / "other")  # the reference contract's columns


def test_push_checks_use_the_rows_contract():
    import pyarrow as pa
    import pyarrow.compute as pc
    from google.cloud import bigquery

    from fsengine.bigquery.tables import TableId
    from fsengine.push.checks import check_rows, check_target_schema, rows_columns
    from fsengine.push.merge import render_merge

    table = v54_table()
    columns = rows_columns(table)
    assert [c.name for c in columns] == output_schema(C54).names
    assert check_rows(table) == []
    short = table.set_column(
        table.schema.get_field_index("features"),
        "features",
        pa.array([r[:37] for r in table["features"].to_pylist()], pa.list_(pa.float64())),
    )
    assert any("exactly 60 elements" in p for p in check_rows(short))
    sql = render_merge(
        TableId.parse("my-project.data.target"), TableId.parse("my-project.data.stage"), replace=False, columns=columns
    )
    assert "feature_59_value" in sql and "vegas_line_source" in sql
    target = [
        bigquery.SchemaField(
            c.name,
            c.bq_type.split("(")[0].split("<")[0] if c.bq_type != "STRUCT" else "RECORD",
            mode="REPEATED" if c.bq_type.startswith("ARRAY") else "NULLABLE",
        )
        for c in columns
        if c.name != "feature_59_value"
    ]
    _, problems = check_target_schema(target, table)
    assert any("lacks 1 emitted columns: feature_59_value" in p for p in problems)
    assert pc.all(pc.equal(table["feature_count"], 60)).as_py()


def test_backfill_refuses_an_unknown_contract(tmp_path):
    from fsengine.errors import InputError
    from fsengine.pipeline import backfill

    with pytest.raises(InputError, match="unknown contract 'v9'"):
        backfill(tmp_path, contract="v9")


def test_resolve_contract():
    from fsengine.contracts import DEFAULT_RUN_CONTRACT, resolve_contract

    assert resolve_contract("v2_54features") is C54
    assert resolve_contract(None).name == DEFAULT_RUN_CONTRACT
    assert resolve_contract(str(C54.path)) is C54
