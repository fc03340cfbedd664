"""Golden test of the v2_54 scorer and output-row builder, without the engine.

vectors/expected.parquet is upstream's own output (v2_54/vectors/README.md). From each row we
take only what the engine would hand the output stage — the 60 raw tags (`feature_sources`),
the in-memory feature values and the row's context — and check that scoring + the output-row
builder reproduce every other column upstream wrote: the quality columns, feature_N_quality /
_source, feature_N_value, the stored array, the identifiers and `data_hash` (= data_hash_60).

The in-memory values are rebuilt from upstream's columns alone: feature_N_value where it is
not NULL; for a defaulted tag the contract's absent value (its default, None for "none", NaN
for "nan"; docs/features.md §0.1 and §3).
"""

from __future__ import annotations

import datetime as dt
import json
import math

import polars as pl
import pytest
from vectors.v54 import vectors_dir

from fsengine.contracts import load_contract
from fsengine.output.rows import output_rows
from fsengine.output.schema import output_schema

RUN_TS = dt.datetime(2026, 7, 27, 12, tzinfo=dt.UTC)
DEFAULTED = {"default", "missing", "fallback"}
TIMESTAMPS = {"created_at", "updated_at", "quality_computed_at"}
N = 60


@pytest.fixture(scope="module")
def contract():
    return load_contract("v2_54features")


@pytest.fixture(scope="module")
def expected():
    return pl.read_parquet(vectors_dir() / "expected.parquet").sort("player_lookup", "game_date")


def in_memory_values(row: dict, tags: list[str], contract) -> list[float | None]:
    values = []
    for i, tag in enumerate(tags):
        value = row[f"feature_{i}_value"]
        if value is not None:
            values.append(value)
            continue
        assert tag in DEFAULTED, f"{row['player_lookup']} {row['game_date']}: feature {i} NULL value, tag {tag}"
        absent = contract.features[i].absent
        values.append(contract.features[i].default if absent == "default" else None if absent == "none" else math.nan)
    return values


@pytest.fixture(scope="module")
def produced(expected, contract):
    tags, values = [], []
    for row in expected.iter_rows(named=True):
        sources = json.loads(row["feature_sources"])
        assert list(sources) == [str(i) for i in range(N)]
        row_tags = list(sources.values())
        tags.append(row_tags)
        values.append(in_memory_values(row, row_tags, contract))
    assembled = expected.select(
        "player_lookup",
        "universal_player_id",
        "game_date",
        "game_id",
        "opponent_team_abbr",
        "is_home",
        "days_rest",
        "historical_completeness",
        "cache_miss_fallback_used",
        "vegas_line_source",
    ).with_columns(
        pl.Series("feature_values", values, dtype=pl.List(pl.Float64)),
        pl.Series("feature_tags", tags, dtype=pl.List(pl.Utf8)),
        pl.lit(False).alias("is_placeholder"),
    )
    table = output_rows(assembled, RUN_TS, contract.profile)
    assert table.schema == output_schema(contract)
    return pl.from_arrow(table)


def test_the_vectors_are_upstreams_rows(expected):
    assert expected.height == 1666
    assert expected.select(pl.struct("player_lookup", "game_date").is_unique().all()).item()


def test_row_order_and_keys(expected, produced):
    assert produced.select("player_lookup", "game_date").equals(expected.select("player_lookup", "game_date"))


def compared_columns(expected: pl.DataFrame, contract) -> list[str]:
    names = output_schema(contract).names
    skip = TIMESTAMPS | {"data_hash", "feature_sources_json", "fallback_reasons", "feature_quality_score"}
    missing = [n for n in names if n not in expected.columns and n not in skip]
    assert not missing, f"expected.parquet lacks {missing}"
    return [n for n in names if n not in skip]


def test_every_column_equals_upstreams(expected, produced, contract):
    differing = {}
    for name in compared_columns(expected, contract):
        want, got = expected.get_column(name), produced.get_column(name)
        if name == "features" or name.endswith("_value"):
            # bit-identical floats, NULL where upstream has NULL (nothing computed here: the
            # values only pass through, the NULL mask is the rows builder's)
            same = (want.is_null() & got.is_null()) | (want == got).fill_null(False)
            if name == "features":
                same = pl.Series([a == b for a, b in zip(want.to_list(), got.to_list())])
        else:
            same = (want.is_null() & got.is_null()) | (want.cast(got.dtype) == got).fill_null(False)
        bad = (~same).sum()
        if bad:
            first = int((~same).arg_true()[0])
            differing[name] = (bad, want[first], got[first])
    assert not differing, differing


def test_score(expected, produced):
    got = produced.get_column("feature_quality_score").cast(pl.Float64)
    assert got.to_list() == expected.get_column("feature_quality_score").to_list()


def test_sources_json_and_reasons(expected, produced):
    assert produced.get_column("feature_sources_json").to_list() == expected.get_column("feature_sources").to_list()
    assert produced.get_column("fallback_reasons").to_list() == [[]] * expected.height


def test_data_hash(expected, produced):
    # every row's inputs are upstream's own values (including the tie_spec_differs rows,
    # whose feature 50 is upstream's), so every hash must match
    want = expected.get_column("data_hash_60").to_list()
    got = produced.get_column("data_hash").to_list()
    wrong = [(k, w, g) for k, w, g in zip(expected.get_column("player_lookup"), want, got) if w != g]
    assert not wrong, (len(wrong), wrong[:3])


def test_the_caps_and_the_optional_rule_are_exercised(expected):
    # the vectors hold capped rows, rows with defaulted optional features and bettingpros
    scores = expected.get_column("feature_quality_score")
    assert (scores == 69.0).any() and (scores == 49.0).any()
    assert expected.get_column("feature_sources").str.contains('"50": "bettingpros"').any()
    assert (expected.get_column("required_default_count") == 0).any()
