"""Output rows (docs/output.md §1-§5): schema, zero fill, data_hash, feature_sources_json, placeholder
fill, timestamps, refusals — checked against the spec's vectors and plain-Python references."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import random
import struct
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import hash_reference
from reference import quality_reference as ref
from reference.quality_reference import CASES, A, B, C

from fsengine.output import rows as finalize
from fsengine.output.schema import OUTPUT_SCHEMA, read_output, write_output

REPO = Path(__file__).resolve().parents[1]
RUN_TS = dt.datetime(2026, 2, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
NAMES = ref.FEATURE_NAMES

# docs/output.md §3, test vector 1
VECTOR_1 = [
    25.4,
    26.1,
    24.8,
    6.12,
    3.0,
    85.0,
    1.5,
    -0.5,
    0.9,
    1.0,
    0.0,
    -1.0,
    0.0,
    113.25,
    99.8,
    1.0,
    0.0,
    0.0,
    0.35119999999999996,
    0.1845,
    0.4643,
    0.221052632,
    101.3,
    118.45,
    0.62,
    26.5,
    25.5,
    1.0,
    1.0,
    27.5,
    2.0,
    35.46,
    0.712345679,
    0.0,
    0.472727273,
    0.1,
    0.0,
]
VECTOR_2 = list(VECTOR_1)
for _i in (18, 19, 20, 25, 26, 27):
    VECTOR_2[_i] = None
VECTOR_2[28] = 0.0
VECTOR_2[29] = math.nan

BASE_FIELDS = {
    "player_lookup": "lebronjames",
    "universal_player_id": "lebronjames_001",
    "game_date": dt.date(2026, 2, 5),
    "game_id": "20260205_LAL_GSW",
    "features": VECTOR_1,
    "feature_names": NAMES,
    "feature_count": 37,
    "feature_version": "v2_37features",
    "feature_quality_score": 98.14,
    "opponent_team_abbr": "GSW",
    "is_home": False,
    "days_rest": 1,
    "data_source": "mixed",
    "early_season_flag": False,
    "insufficient_data_reason": None,
}
SPEC_VECTORS = [
    (BASE_FIELDS, "48935bfcd1350651"),
    ({**BASE_FIELDS, "features": VECTOR_2, "feature_quality_score": 85.0}, "bb04a7699d096b7f"),
    (
        {
            **BASE_FIELDS,
            "universal_player_id": None,
            "game_date": dt.date(2026, 10, 21),
            "game_id": "20261021_BOS_LAL",
            "features": [None] * 37,
            "feature_quality_score": 0.0,
            "opponent_team_abbr": "BOS",
            "is_home": True,
            "days_rest": None,
            "data_source": "early_season",
            "early_season_flag": True,
            "insufficient_data_reason": "early_season_skip_first_14_days",
        },
        "0f1a53eeaed3be7a",
    ),
]

HASH_SCHEMA = {
    "player_lookup": pl.Utf8,
    "universal_player_id": pl.Utf8,
    "game_date": pl.Date,
    "game_id": pl.Utf8,
    "features": pl.List(pl.Float64),
    "feature_names": pl.List(pl.Utf8),
    "feature_count": pl.Int64,
    "feature_version": pl.Utf8,
    "feature_quality_score": pl.Float64,
    "opponent_team_abbr": pl.Utf8,
    "is_home": pl.Boolean,
    "days_rest": pl.Int64,
    "data_source": pl.Utf8,
    "early_season_flag": pl.Boolean,
    "insufficient_data_reason": pl.Utf8,
}
COMPLETENESS_DTYPE = pl.Struct(
    {
        "games_found": pl.Int64,
        "games_expected": pl.Int64,
        "is_complete": pl.Boolean,
        "is_bootstrap": pl.Boolean,
        "contributing_game_dates": pl.List(pl.Date),
    }
)
ASSEMBLED_SCHEMA = {
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
    "composite_fallback": pl.Boolean,
    "historical_completeness": COMPLETENESS_DTYPE,
}
COMPLETENESS = {
    "games_found": 10,
    "games_expected": 10,
    "is_complete": True,
    "is_bootstrap": False,
    "contributing_game_dates": [dt.date(2026, 2, 3), dt.date(2026, 2, 1)],
}


def scored_row(**overrides) -> dict:
    row = {
        "player_lookup": "lebronjames",
        "universal_player_id": "lebronjames_001",
        "game_date": dt.date(2026, 2, 5),
        "game_id": "20260205_LAL_GSW",
        "opponent_team_abbr": "GSW",
        "is_home": False,
        "days_rest": 1,
        "feature_values": list(VECTOR_1),
        "feature_tags": list(A),
        "is_placeholder": False,
        "composite_fallback": False,
        "historical_completeness": COMPLETENESS,
    }
    row.update(overrides)
    return row


def placeholder_row(**overrides) -> dict:
    row = {
        "player_lookup": "lebronjames",
        "universal_player_id": None,
        "game_date": dt.date(2026, 10, 21),
        "game_id": "20261021_BOS_LAL",
        "opponent_team_abbr": "BOS",
        "is_home": True,
        "days_rest": None,
        "feature_values": [None] * 37,
        "feature_tags": None,
        "is_placeholder": True,
        "composite_fallback": False,
        "historical_completeness": None,
    }
    row.update(overrides)
    return row


def assembled(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ASSEMBLED_SCHEMA)


def output_dicts(rows: list[dict]) -> list[dict]:
    return finalize.output_rows(assembled(rows), RUN_TS).to_pylist()


# ---- data_hash -------------------------------------------------------------------------


@pytest.mark.parametrize("fields, want", SPEC_VECTORS)
def test_reference_hash_matches_spec_vectors(fields, want):
    assert hash_reference.data_hash(fields) == want


def test_vectorised_hash_matches_spec_vectors():
    frame = pl.DataFrame([f for f, _ in SPEC_VECTORS], schema=HASH_SCHEMA)
    assert finalize.data_hashes(frame, 37).to_list() == [want for _, want in SPEC_VECTORS]


def test_output_rows_hash_matches_spec_vectors_1_and_3():
    rows = output_dicts([scored_row(), placeholder_row()])
    assert rows[0]["feature_quality_score"] == decimal.Decimal("98.14")
    assert [r["data_hash"] for r in rows] == ["48935bfcd1350651", "0f1a53eeaed3be7a"]


EDGE_FLOATS = [
    0.0,
    -0.0,
    1e-05,
    -1e-05,
    1.2345e-05,
    9.999999999999999e-05,
    0.0001,
    1e-4 * (1 - 2**-52),
    5e-324,
    2.2250738585072014e-308,
    1e15,
    1e16,
    1e16 - 2,
    9007199254740993.0,
    1.7976931348623157e308,
    0.1,
    0.35119999999999996,
    17.11111111111111,
    123456789.123,
    1e22,
    1e-7,
    -2.5e-7,
    1e100,
    math.nan,
    math.inf,
    -math.inf,
    1.0,
    10.0,
    100.0,
    0.5,
    1 / 3,
]


def random_bit_floats(count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(count)]


def test_float_texts_equal_repr_on_edges_and_random_bits():
    values = EDGE_FLOATS + random_bit_floats(200_000, 1) + [rng_decimal(i) for i in range(50_000)]
    got = finalize.python_float_texts(pl.Series(values, dtype=pl.Float64)).to_list()
    bad = [(v, g) for v, g in zip(values, got) if g != repr(v)]
    assert bad == []


def rng_decimal(i: int) -> float:
    rng = random.Random(i)
    return round(rng.uniform(-1, 1) * 10.0 ** rng.randint(-9, 18), rng.randint(0, 12))


@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)), max_size=50))
@settings(max_examples=200, deadline=None)
def test_float_texts_equal_repr_property(values):
    got = finalize.python_float_texts(pl.Series(values, dtype=pl.Float64)).to_list()
    assert got == [None if v is None else repr(v) for v in values]


@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)), max_size=50))
@settings(max_examples=200, deadline=None)
def test_float_texts_with_null_text_render_null_as_it(values):
    got = finalize.python_float_texts(pl.Series(values, dtype=pl.Float64), null_text="None").to_list()
    assert got == [repr(v) for v in values]


text = st.text(
    alphabet=st.sampled_from(["a", "b", " ", "\t", "\n", "\u3000", "\x1c", "\x85", "é", "Z", "'", '"', "|"]), max_size=8
)
vector_element = st.one_of(
    st.none(), st.floats(allow_infinity=False), st.sampled_from([v for v in EDGE_FLOATS if not math.isinf(v)])
)
hash_rows = st.fixed_dictionaries(
    {
        "player_lookup": text,
        "universal_player_id": st.one_of(st.none(), text),
        "game_date": st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
        "game_id": text,
        "features": st.lists(vector_element, min_size=37, max_size=37),
        "feature_names": st.just(NAMES),
        "feature_count": st.just(37),
        "feature_version": st.just("v2_37features"),
        "feature_quality_score": st.integers(0, 10000).map(lambda c: round(c / 100, 2)),
        "opponent_team_abbr": st.one_of(st.none(), text),
        "is_home": st.one_of(st.none(), st.booleans()),
        "days_rest": st.one_of(st.none(), st.integers(-5, 400)),
        "data_source": st.sampled_from(["mixed", "early_season"]),
        "early_season_flag": st.booleans(),
        "insufficient_data_reason": st.one_of(st.none(), text),
    }
)


@given(st.lists(hash_rows, min_size=1, max_size=8))
@settings(max_examples=150, deadline=None)
def test_vectorised_hash_equals_reference(rows):
    frame = pl.DataFrame(rows, schema=HASH_SCHEMA)
    assert finalize.data_hashes(frame, 37).to_list() == [hash_reference.data_hash(r) for r in rows]


# ---- output rows ------------------------------------------------------------------------


def test_schema_is_output_schema():
    table = finalize.output_rows(assembled([scored_row(), placeholder_row()]), RUN_TS)
    assert table.schema == OUTPUT_SCHEMA
    assert table.schema.names == [f.name for f in OUTPUT_SCHEMA] and len(table.schema) == 143


def test_empty_run_gives_empty_table():
    table = finalize.output_rows(assembled([]), RUN_TS)
    assert table.num_rows == 0 and table.schema == OUTPUT_SCHEMA


def test_scored_row_fields():
    values = list(VECTOR_2)
    row = output_dicts([scored_row(feature_values=values, feature_tags=list(B), composite_fallback=True)])[0]
    assert row["features"] == [0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in values]
    assert len(row["features"]) == 37 and row["features"][29] == 0.0 and row["features"][18] == 0.0
    assert row["feature_names"] == NAMES and row["feature_count"] == 37 and row["feature_version"] == "v2_37features"
    assert row["fallback_reasons"] == ["composite_factors_missing_matchup_data"]
    assert row["early_season_flag"] is False and row["insufficient_data_reason"] is None
    assert row["created_at"] == RUN_TS == row["quality_computed_at"] and row["updated_at"] is None
    assert row["historical_completeness"] == COMPLETENESS
    assert row["feature_quality_score"] == decimal.Decimal("90.03")
    assert row["feature_sources_json"] == ref.feature_sources_json(B)
    # the hash sees the in-memory vector (None, nan), not the stored zeros
    fields = {k: row[k] for k in hash_reference.FIELDS if k != "features"}
    fields.update(features=values, feature_quality_score=90.03)
    assert row["data_hash"] == hash_reference.data_hash(fields)


def test_feature_sources_json_of_case_a_is_the_spec_string():
    spec = (
        '{"0": "phase4", "1": "phase4", "2": "phase4", "3": "phase4", "4": "phase4", "5": "phase4", "6": "phase4", '
        '"7": "phase4", "8": "phase4", "9": "calculated", "10": "calculated", "11": "calculated", "12": "calculated", '
        '"13": "phase4", "14": "phase4", "15": "phase3", "16": "phase3", "17": "phase3", "18": "phase4", '
        '"19": "phase4", "20": "phase4", "21": "calculated", "22": "phase4", "23": "phase4", "24": "calculated", '
        '"25": "vegas", "26": "vegas", "27": "vegas", "28": "calculated", "29": "opponent_history", '
        '"30": "opponent_history", "31": "minutes_ppm", "32": "minutes_ppm", "33": "calculated", '
        '"34": "calculated", "35": "calculated", "36": "calculated"}'
    )
    row = output_dicts([scored_row()])[0]
    assert row["feature_sources_json"] == spec == ref.feature_sources_json(A)


def test_placeholder_row_fields():
    row = output_dicts([placeholder_row()])[0]
    assert row["features"] == [0.0] * 37
    assert row["feature_quality_score"] == decimal.Decimal("0.00")
    assert row["data_source"] == "early_season" and row["early_season_flag"] is True
    assert row["insufficient_data_reason"] == "early_season_skip_first_14_days"
    assert row["historical_completeness"] == finalize.PLACEHOLDER_COMPLETENESS
    assert row["feature_sources_json"] is None and row["fallback_reasons"] == []
    assert row["created_at"] == RUN_TS and row["updated_at"] is None and row["quality_computed_at"] is None
    quality_part = {k: row[k] for k in ref.QUALITY_COLUMNS}
    assert quality_part == {k: v for k, v in ref.score_row(None).items() if k in ref.QUALITY_COLUMNS}


def test_quality_columns_equal_reference_for_every_case():
    rows = [scored_row(player_lookup=f"p{letter}", feature_tags=list(tags)) for letter, tags in CASES.items()]
    for out, tags in zip(output_dicts(rows), CASES.values()):
        want = ref.score_row(tags, computed_at=RUN_TS)
        assert {k: out[k] for k in ref.QUALITY_COLUMNS} == {k: want[k] for k in ref.QUALITY_COLUMNS}
        assert out["data_source"] == want["data_source"]
        assert out["feature_quality_score"] == decimal.Decimal(repr(want["feature_quality_score"])).quantize(
            decimal.Decimal("0.01")
        )


tags_strategy = st.lists(st.sampled_from(sorted(ref.TAG_TABLE)), min_size=37, max_size=37)


@given(
    st.lists(st.one_of(st.none(), tags_strategy), min_size=1, max_size=6),
    st.lists(vector_element, min_size=37, max_size=37),
)
@settings(max_examples=40, deadline=None)
def test_random_rows_equal_references(tag_rows, values):
    rows = [
        placeholder_row(player_lookup=f"p{i}")
        if tags is None
        else scored_row(player_lookup=f"p{i}", feature_tags=tags, feature_values=values, composite_fallback=i % 2 == 0)
        for i, tags in enumerate(tag_rows)
    ]
    for i, (tags, out) in enumerate(zip(tag_rows, output_dicts(rows))):
        want = ref.score_row(tags, computed_at=RUN_TS)
        assert {k: out[k] for k in ref.QUALITY_COLUMNS} == {k: want[k] for k in ref.QUALITY_COLUMNS}
        assert out["feature_quality_score"] == decimal.Decimal(f"{want['feature_quality_score']:.2f}")
        vector = [None] * 37 if tags is None else values
        fields = {k: out[k] for k in hash_reference.FIELDS if k != "features"}
        fields.update(features=vector, feature_quality_score=want["feature_quality_score"])
        assert out["data_hash"] == hash_reference.data_hash(fields)
        assert all(math.isfinite(v) for v in out["features"]) and len(out["features"]) == 37
        assert out["feature_sources_json"] == (None if tags is None else ref.feature_sources_json(tags))
        assert out["fallback_reasons"] == (["composite_factors_missing_matchup_data"] if tags and i % 2 == 0 else [])


def test_scores_are_exact_decimals():
    rows = output_dicts([scored_row(player_lookup=k, feature_tags=list(t)) for k, t in CASES.items()])
    assert [r["feature_quality_score"] for r in rows] == [
        decimal.Decimal(s) for s in ["98.14", "90.03", "83.54", "88.41", "91.65", "67.89", "61.11", "95.43"]
    ]


def test_run_timestamp_must_be_aware_and_is_stored_in_utc():
    with pytest.raises(ValueError, match="timezone"):
        finalize.output_rows(assembled([scored_row()]), dt.datetime(2026, 2, 6, 7, 8, 9))
    plus_two = RUN_TS.astimezone(dt.timezone(dt.timedelta(hours=2)))
    row = finalize.output_rows(assembled([scored_row()]), plus_two).to_pylist()[0]
    assert row["created_at"] == RUN_TS and row["created_at"].utcoffset() == dt.timedelta(0)


def test_written_and_read_back_unchanged(tmp_path):
    table = finalize.output_rows(
        assembled([scored_row(), placeholder_row(), scored_row(player_lookup="x", feature_tags=list(C))]), RUN_TS
    )
    write_output(table, tmp_path)
    assert read_output(tmp_path).equals(table)


# ---- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_row, message",
    [
        (scored_row(feature_values=VECTOR_1[:36]), "exactly 37 values"),
        (scored_row(feature_values=VECTOR_1[:36] + [math.inf]), "Inf"),
        (scored_row(feature_values=[-math.inf] + VECTOR_1[1:]), "Inf"),
        (scored_row(feature_tags=A[:36] + ["phase5"]), "feature_tags outside"),
        (scored_row(feature_tags=A[:36] + [None]), "feature_tags outside"),
        (scored_row(feature_tags=A[:36]), "exactly 37 tags"),
        (scored_row(feature_tags=None), "without feature_tags"),
        (scored_row(feature_values=None), "without feature_values"),
        (scored_row(composite_fallback=None), "NULL composite_fallback"),
        (scored_row(historical_completeness=None), "NULL historical_completeness"),
        (placeholder_row(feature_tags=list(A)), "placeholder row with feature_tags"),
        (placeholder_row(feature_values=[1.0] + [None] * 36), "placeholder row with feature values"),
        (scored_row(game_id=None), "NULL game_id"),
        (scored_row(is_placeholder=None), "NULL is_placeholder"),
    ],
)
def test_refusals_name_the_row(bad_row, message):
    bad_row = {**bad_row, "player_lookup": "bad_player", "game_date": dt.date(2026, 3, 4)}
    frame = assembled([scored_row(), bad_row])
    with pytest.raises(ValueError, match=message) as caught:
        finalize.output_rows(frame, RUN_TS)
    assert "player_lookup='bad_player', game_date=2026-03-04" in str(caught.value)


def test_missing_column_is_refused():
    with pytest.raises(ValueError, match="composite_fallback"):
        finalize.output_rows(assembled([scored_row()]).drop("composite_fallback"), RUN_TS)


def test_non_finite_guard_names_row_and_column():
    table = pa.table({"features": pa.array([[1.0], [float("nan")]], pa.list_(pa.float64())), "x": [1.0, 2.0]})
    keys = pl.DataFrame({"player_lookup": ["a", "b"], "game_date": [dt.date(2026, 1, 1), dt.date(2026, 1, 2)]})
    with pytest.raises(ValueError, match="features: player_lookup='b'"):
        finalize._refuse_non_finite(table, keys)
    table = pa.table({"y": [1.0, float("inf")]})
    with pytest.raises(ValueError, match="y: player_lookup='b'"):
        finalize._refuse_non_finite(table, keys)
    # a slice of longer arrays: the value after the slice is not the table's
    longer = pa.array([[1.0], [-float("inf")], [float("nan")]], pa.list_(pa.float64()))
    with pytest.raises(ValueError, match="features: player_lookup='b'"):
        finalize._refuse_non_finite(pa.table({"features": longer.slice(0, 2)}), keys)
    finalize._refuse_non_finite(pa.table({"features": longer.slice(0, 1)}), keys.head(1))


def test_non_finite_guard_ignores_what_nulls_hide():
    """A NULL slot's data is no value: NaN or ±Inf under it is not refused."""
    keys = pl.DataFrame({"player_lookup": ["a", "b"], "game_date": [dt.date(2026, 1, 1), dt.date(2026, 1, 2)]})
    hidden = pa.array(np.array([1.0, np.nan]), pa.float64(), mask=np.array([False, True]))
    lists = pa.ListArray.from_arrays(pa.array([0, 1, 2], pa.int32()), pa.array([2.0, np.inf], mask=[False, True]))
    finalize._refuse_non_finite(pa.table({"y": hidden, "features": lists}), keys)


# ---- on the engine's own rows ---------------------------------------------------------


def engine_runs():
    from fsengine.engine.compute import compute
    from fsengine.snapshot.format import Snapshot

    snapshot = Snapshot.open(REPO / "fixtures" / "small")  # committed: missing is a failure
    first, last = snapshot.servable_range()
    yield compute(snapshot, first, first + dt.timedelta(days=6), mode="production").rows  # with placeholders
    yield compute(snapshot, first, last, mode="backfill").rows


def test_engine_rows_equal_references():
    """fixtures/small through the engine: placeholders (production) and scored rows (backfill)."""
    placeholders = scored_rows = 0
    for frame in engine_runs():
        table = finalize.output_rows(frame, RUN_TS)
        assert table.schema == OUTPUT_SCHEMA and table.num_rows == frame.height
        for source, out in zip(frame.iter_rows(named=True), table.to_pylist()):
            tags, values = source["feature_tags"], source["feature_values"]
            want = ref.score_row(tags, computed_at=RUN_TS)
            assert {k: out[k] for k in ref.QUALITY_COLUMNS} == {k: want[k] for k in ref.QUALITY_COLUMNS}
            assert out["data_source"] == want["data_source"]
            assert out["feature_quality_score"] == decimal.Decimal(f"{want['feature_quality_score']:.2f}")
            vector = [None] * 37 if source["is_placeholder"] else values
            assert out["features"] == [0.0 if v is None or math.isnan(v) else v for v in vector]
            fields = {k: out[k] for k in hash_reference.FIELDS if k != "features"}
            fields.update(features=vector, feature_quality_score=want["feature_quality_score"])
            assert out["data_hash"] == hash_reference.data_hash(fields)
            assert out["feature_sources_json"] == (None if tags is None else ref.feature_sources_json(tags))
            assert out["fallback_reasons"] == (
                ["composite_factors_missing_matchup_data"] if source["composite_fallback"] else []
            )
            assert out["early_season_flag"] == source["is_placeholder"]
            if source["is_placeholder"]:
                placeholders += 1
                assert out["historical_completeness"] == finalize.PLACEHOLDER_COMPLETENESS
            else:
                scored_rows += 1
                assert out["historical_completeness"] == source["historical_completeness"]
    assert placeholders > 0 and scored_rows > 0
