"""The one map between BigQuery types and Arrow types.

Used both ways: reading (the Arrow type the Storage Read API delivers for a BigQuery column,
docs/sources.md §1) and writing (the BigQuery type a target column needs for an output column,
docs/output.md §8.5). Legacy names (INTEGER, FLOAT, BOOLEAN, RECORD, ...) are what the REST API
reports for tables made with the legacy names; they mean the same types.

>>> arrow_type("NUMERIC(5,2)"), arrow_type("ARRAY<INT64>")
(Decimal128Type(decimal128(5, 2)), ListType(list<item: int64>))
>>> bigquery_type(pa.list_(pa.float64()))
(True, 'FLOAT64', [])
"""

from __future__ import annotations

import re

import pyarrow as pa

# BigQuery scalar type name (no parameters) -> Arrow type. NUMERIC without parameters is
# NUMERIC(38,9), which is what Storage Read delivers for every NUMERIC column.
ARROW_TYPES: dict[str, pa.DataType] = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "FLOAT64": pa.float64(),
    "NUMERIC": pa.decimal128(38, 9),
    "BOOL": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
}
LEGACY_TYPE_NAMES = {
    "INTEGER": "INT64",
    "FLOAT": "FLOAT64",
    "BOOLEAN": "BOOL",
    "RECORD": "STRUCT",
    "BIGDECIMAL": "BIGNUMERIC",
    "DECIMAL": "NUMERIC",
}


def normalise_type(name: str) -> str:
    """BigQuery type name without parameters, legacy names mapped (NUMERIC(5,1) -> NUMERIC, INTEGER -> INT64)."""
    base = name.split("(")[0].strip().upper()
    return LEGACY_TYPE_NAMES.get(base, base)


def arrow_type(bq_type: str) -> pa.DataType:
    """The Arrow type of a BigQuery DDL type: scalars, NUMERIC(P,S) and ARRAY<...> of them."""
    text = bq_type.strip()
    if text.upper().startswith("ARRAY<") and text.endswith(">"):
        return pa.list_(arrow_type(text[6:-1]))
    numeric = re.fullmatch(r"(?i)(?:NUMERIC|DECIMAL)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)", text)
    if numeric:
        return pa.decimal128(int(numeric[1]), int(numeric[2]))
    name = normalise_type(text)
    if name not in ARROW_TYPES:
        raise TypeError(f"no Arrow type for BigQuery type {bq_type!r}")
    return ARROW_TYPES[name]


def bigquery_type(arrow: pa.DataType) -> tuple[bool, str, list[tuple[str, pa.DataType]]]:
    """(repeated, BigQuery type, struct fields) a column needs to hold an Arrow type."""
    if pa.types.is_list(arrow):
        _, base, fields = bigquery_type(arrow.value_type)
        return True, base, fields
    if pa.types.is_struct(arrow):
        return False, "STRUCT", [(f.name, f.type) for f in arrow]
    if pa.types.is_decimal(arrow):
        return False, "NUMERIC", []
    if pa.types.is_timestamp(arrow):
        return False, "TIMESTAMP", []
    for name, candidate in ARROW_TYPES.items():
        if arrow == candidate:
            return False, name, []
    raise TypeError(f"no BigQuery type for {arrow}")


def describe_field(schema_field) -> str:
    """A google.cloud.bigquery SchemaField as DDL text: ARRAY<FLOAT64>, NUMERIC(5,2), STRUCT<...>."""
    base = normalise_type(schema_field.field_type)
    if base in ("NUMERIC", "BIGNUMERIC") and schema_field.precision is not None:
        base += f"({schema_field.precision},{schema_field.scale or 0})"
    if base == "STRUCT":
        base = "STRUCT<" + ", ".join(f"{f.name} {describe_field(f)}" for f in schema_field.fields) + ">"
    return f"ARRAY<{base}>" if schema_field.mode == "REPEATED" else base
