"""The 143 output columns of the code (fsengine/output/schema.py) against the documented target
table written out by hand from the spec (tests/contract_table.py, docs/output.md §2 and §8.5):
names, order, BigQuery types, NOT NULL, and the Arrow types of the written Parquet."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
from contract_table import DOCUMENTED_COLUMNS, DOCUMENTED_NAMES, arrow_type_matches, bigquery_fields, parse_type

from fsengine.output.schema import OUTPUT_COLUMNS, OUTPUT_NAMES, OUTPUT_SCHEMA, output_dir, write_output


def test_documented_table_is_the_143_numbered_columns_of_the_spec():
    assert [number for number, *_ in DOCUMENTED_COLUMNS] == list(range(1, 144))
    assert len(set(DOCUMENTED_NAMES)) == 143
    assert [n for _, n, _, nn in DOCUMENTED_COLUMNS if nn] == [
        "player_lookup",
        "game_date",
        "game_id",
        "feature_count",
        "feature_version",
        "data_source",
        "created_at",
    ]
    for _, name, type_text, _ in DOCUMENTED_COLUMNS:
        parse_type(type_text)  # every documented type is one the spec defines


def test_output_columns_are_the_documented_names_in_order():
    assert OUTPUT_NAMES == DOCUMENTED_NAMES
    assert [c.name for c in OUTPUT_COLUMNS] == DOCUMENTED_NAMES
    assert OUTPUT_SCHEMA.names == DOCUMENTED_NAMES


def test_output_columns_have_the_documented_bigquery_types_and_not_null():
    wrong = []
    for column, (number, name, type_text, not_null) in zip(OUTPUT_COLUMNS, DOCUMENTED_COLUMNS, strict=True):
        documented = parse_type(type_text)
        if documented[0] == "STRUCT":
            # the code names the struct's type "STRUCT" and gives its fields in the Arrow type
            same_type = column.bq_type == "STRUCT" and arrow_type_matches(column.arrow_type, documented)
        else:
            same_type = parse_type(column.bq_type) == documented
        if not same_type:
            wrong.append(f"#{number} {name}: code {column.bq_type}, documented {type_text}")
        if column.required != not_null:
            wrong.append(f"#{number} {name}: code NOT NULL={column.required}, documented {not_null}")
    assert wrong == []


def test_output_schema_has_the_documented_arrow_types_and_nullability():
    wrong = []
    for field, (number, name, type_text, not_null) in zip(OUTPUT_SCHEMA, DOCUMENTED_COLUMNS, strict=True):
        if field.name != name or not arrow_type_matches(field.type, type_text):
            wrong.append(f"#{number} {name}: Arrow {field.name} {field.type}, documented {type_text}")
        if field.nullable == not_null:
            wrong.append(f"#{number} {name}: Arrow nullable={field.nullable}, documented NOT NULL={not_null}")
    assert wrong == []


def test_written_parquet_has_the_documented_columns_and_types(tmp_path):
    write_output(OUTPUT_SCHEMA.empty_table(), tmp_path)
    (part,) = sorted(output_dir(tmp_path).glob("*.parquet"))
    schema = pq.read_schema(part)
    assert schema.names == DOCUMENTED_NAMES
    wrong = [
        f"{name}: {schema.field(name).type} for {type_text}"
        for _, name, type_text, _ in DOCUMENTED_COLUMNS
        if not arrow_type_matches(schema.field(name).type, type_text)
    ]
    assert wrong == []
    assert [not f.nullable for f in schema] == [nn for *_, nn in DOCUMENTED_COLUMNS]


def test_the_comparison_can_fail():
    """The checks above are not vacuous: a mistyped, renamed or nullable column is caught."""
    assert not arrow_type_matches(pa.decimal128(4, 2), "NUMERIC(5,2)")
    assert not arrow_type_matches(pa.decimal128(5, 1), "NUMERIC(5,2)")
    assert arrow_type_matches(pa.decimal128(38, 9), "NUMERIC(5,2)")
    assert not arrow_type_matches(pa.timestamp("us"), "TIMESTAMP")
    assert not arrow_type_matches(pa.timestamp("ns", tz="UTC"), "TIMESTAMP")
    assert not arrow_type_matches(pa.list_(pa.int64()), "ARRAY<FLOAT64>")
    assert not arrow_type_matches(pa.int32(), "INT64")
    (documented,) = [t for _, n, t, _ in DOCUMENTED_COLUMNS if n == "historical_completeness"]
    struct = OUTPUT_SCHEMA.field("historical_completeness").type
    swapped = pa.struct([struct[1], struct[0], *list(struct)[2:]])
    assert arrow_type_matches(struct, documented) and not arrow_type_matches(swapped, documented)


def test_bigquery_fields_of_the_documented_table():
    fields = bigquery_fields(extra_after={"opponent_team_abbr": [("feature_generation_time_ms", "INT64")]})
    assert len(fields) == 144
    by_name = {f.name: f for f in fields}
    assert [f.name for f in fields if f.name != "feature_generation_time_ms"] == DOCUMENTED_NAMES
    assert fields[DOCUMENTED_NAMES.index("opponent_team_abbr") + 1].name == "feature_generation_time_ms"
    assert (by_name["features"].field_type, by_name["features"].mode) == ("FLOAT64", "REPEATED")
    assert (by_name["game_date"].field_type, by_name["game_date"].mode) == ("DATE", "REQUIRED")
    score = by_name["feature_quality_score"]
    assert (score.field_type, score.precision, score.scale, score.mode) == ("NUMERIC", 5, 2, "NULLABLE")
    completeness = by_name["historical_completeness"]
    assert completeness.field_type == "RECORD"
    assert [(f.name, f.field_type, f.mode) for f in completeness.fields] == [
        ("games_found", "INT64", "NULLABLE"),
        ("games_expected", "INT64", "NULLABLE"),
        ("is_complete", "BOOL", "NULLABLE"),
        ("is_bootstrap", "BOOL", "NULLABLE"),
        ("contributing_game_dates", "DATE", "REPEATED"),
    ]
    assert sum(f.mode == "REQUIRED" for f in fields) == 7
