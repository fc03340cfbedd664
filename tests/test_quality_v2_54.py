"""The scorer under profile head-2026-07 (docs/v2_54/quality.md): the worked cases of §8 and the
unit cases of §9 from the spec's table; the vectorised scorer against the row-at-a-time
reference (tests/reference/quality_reference.py, v2_54 part) on random tag vectors."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import quality_reference as ref

from fsengine.contracts import load_contract
from fsengine.scoring import quality

PROFILE = load_contract("v2_54features").profile
RUN_TS = dt.datetime(2026, 7, 27, 12, tzinfo=dt.UTC)
LABELS = list(ref.TAG_TABLE_54)


def scored(tag_lists, computed_at=None) -> list[dict]:
    series = pl.Series("feature_tags", tag_lists, dtype=pl.List(pl.Utf8))
    return quality.score(series, PROFILE, computed_at=computed_at).to_dicts()


def test_columns_are_the_references():
    assert quality.scored_column_names(PROFILE) == ["feature_quality_score", "data_source", *ref.QUALITY_COLUMNS_54]


@pytest.mark.parametrize("column", sorted(ref.EXPECTED_54))
def test_worked_cases_match_the_spec_table(column):
    rows = dict(zip(ref.CASES_54, scored(list(ref.CASES_54.values()))))
    for case, want in ref.EXPECTED_54[column].items():
        assert rows[case][column] == want, (case, column)
        assert ref.score_row_54(ref.CASES_54[case])[column] == want, (case, column, "reference")


def test_worked_case_b_reasons_and_e_source():
    b, e = scored([ref.B54, ref.E54])
    assert b["feature_fallback_reasons_json"] == (
        '{"25": "vegas_line_unavailable", "26": "vegas_line_unavailable", "27": "vegas_line_unavailable", '
        '"47": "dead_feature", "50": "dead_feature", "53": "line_vs_season_unavailable", "54": "no_prior_line", '
        '"55": "insufficient_prop_history", "56": "insufficient_prop_history"}'
    )
    assert (e["feature_50_source"], e["feature_50_quality"]) == ("bettingpros", 100.0)
    assert len(e["feature_upstream_tables_json"]) == 1597
    assert e["data_source"] == e["primary_data_source"] == "mixed"


@pytest.mark.parametrize(
    "tags, want",
    [
        (["phase4"] * 60, 100.0),
        (["phase4" if i in ref.REQUIRED_54 else "missing" for i in range(60)], 100.0),
        (["default"] + ["phase4"] * 59, 69.0),
        (["default"] * 5 + ["phase4"] * 55, 49.0),
        (["phase4"] * 60 + ["missing"] * 4, 100.0),
    ],
)
def test_unit_cases(tags, want):
    assert quality.tag_map_score(tags, PROFILE).score == want == ref.generic_score_54(tags)[0]


def test_an_exact_binary_tie_rounds_to_even():
    # docs/v2_54/quality.md §3 step 4: 3885/40 = 97.125 -> 97.12. 34 required + 6 present optional
    # indices counted; required: 0-4 opponent_history (-50), 15-17 phase3 (-39); optional 37-38
    # phase3, 39-42 phase4, the rest missing: 3400 - 89 + 174 + 400 = 3885.
    tags = ["phase4" if i in ref.REQUIRED_54 else "missing" for i in range(60)]
    for i in range(5):
        tags[i] = "opponent_history"
    for i in (15, 16, 17, 37, 38):
        tags[i] = "phase3"
    for i in (39, 40, 41, 42):
        tags[i] = "phase4"
    assert scored([tags])[0]["feature_quality_score"] == 97.12 == ref.score_row_54(tags)["feature_quality_score"]
    assert quality.tag_map_score(tags, PROFILE).score == 97.12


@given(st.lists(st.lists(st.sampled_from(LABELS), min_size=60, max_size=60), min_size=1, max_size=8))
@settings(max_examples=150, deadline=None)
def test_vectorised_scorer_equals_reference(tag_lists):
    got = scored(tag_lists, RUN_TS)
    for tags, row in zip(tag_lists, got):
        assert row == ref.score_row_54(tags, RUN_TS)


@given(st.lists(st.sampled_from(LABELS + ["other"]), min_size=0, max_size=70))
def test_generic_function_equals_reference(tags):
    assert quality.tag_map_score(tags, PROFILE) == ref.generic_score_54(tags)


@given(st.lists(st.sampled_from(LABELS), min_size=60, max_size=60))
@settings(max_examples=50, deadline=None)
def test_generic_function_agrees_with_vectorised_scorer(tags):
    row = scored([tags])[0]
    assert quality.tag_map_score(tags, PROFILE) == (row["feature_quality_score"], row["primary_data_source"])


def test_placeholders():
    (row,) = scored([None])
    assert row == ref.score_row_54(None)
