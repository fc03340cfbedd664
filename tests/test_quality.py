"""The quality scorer (docs/quality.md) against the worked cases, the generic cases, boundaries,
and an independent row-at-a-time reference (tests/reference/quality_reference.py)."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import quality_reference as ref
from reference.quality_reference import CASES, A, tags_with

from fsengine.contracts import load_contract
from fsengine.contracts.profile import REFERENCE
from fsengine.output.schema import OUTPUT_SCHEMA, QUALITY_COLUMN_NAMES
from fsengine.scoring import quality

LABELS = sorted(ref.TAG_TABLE)


# docs/quality.md §9, transcribed column by column (letters A..H).
SPEC_TABLE = {
    "sum": [3631, 3331, 3091, 3271, 3391, 2512, 2261, 3531],
    "feature_quality_score": [98.14, 90.03, 83.54, 88.41, 91.65, 67.89, 61.11, 95.43],
    "quality_tier": ["gold", "silver", "bronze", "silver", "silver", "poor", "poor", "gold"],
    "default_feature_count": [0, 3, 7, 6, 4, 14, 19, 2],
    "required_default_count": [0, 0, 4, 6, 4, 11, 16, 2],
    "default_feature_indices": [
        [],
        [25, 26, 27],
        [5, 6, 7, 8, 25, 26, 27],
        [5, 6, 7, 8, 13, 14],
        [5, 6, 7, 8],
        [3, 4, 5, 6, 7, 8, 18, 19, 20, 22, 23, 25, 26, 27],
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 18, 19, 20, 22, 23, 25, 26, 27, 31, 32],
        [29, 30],
    ],
    "quality_alert_level": ["green", "yellow", "yellow", "red", "yellow", "yellow", "yellow", "yellow"],
    "quality_alerts": [
        [],
        [],
        ["composite_factors_missing"],
        [
            "all_matchup_features_defaulted",
            "composite_factors_missing",
            "opponent_defense_missing",
            "matchup_quality_critical",
        ],
        ["composite_factors_missing"],
        ["composite_factors_missing", "high_default_rate_38pct"],
        ["composite_factors_missing", "high_default_rate_51pct"],
        [],
    ],
    "phase4_feature_count": [23, 20, 16, 17, 19, 6, 4, 21],
    "phase3_feature_count": [3, 3, 3, 3, 3, 6, 3, 3],
    "calculated_feature_count": [11] * 8,
    "matchup_quality_pct": [100.0, 100.0, 60.0, 40.0, 60.0, 60.0, 60.0, 100.0],
    "player_history_quality_pct": [97.7, 97.7, 97.7, 97.7, 97.7, 85.5, 66.2, 90.0],
    "team_context_quality_pct": [100.0, 100.0, 100.0, 100.0, 100.0, 60.0, 60.0, 100.0],
    "vegas_quality_pct": [100.0, 25.0, 25.0, 100.0, 100.0, 25.0, 25.0, 100.0],
    "game_context_quality_pct": [96.5, 96.5, 96.5, 96.5, 96.5, 69.2, 69.2, 96.5],
    "default_counts": [
        "0/0/0/0/0",
        "0/0/0/3/0",
        "4/0/0/3/0",
        "6/0/0/0/0",
        "4/0/0/0/0",
        "4/2/2/3/3",
        "4/7/2/3/3",
        "0/2/0/0/0",
    ],
    "is_training_ready": [True, True, False, False, False, False, False, True],
    "training_quality_feature_count": [37, 34, 30, 31, 33, 23, 18, 35],
    "is_quality_ready": [True, False, False, False, False, False, False, False],
    "has_composite_factors": [True, True, False, False, False, False, False, True],
    "has_opponent_defense": [True, True, True, False, True, True, True, True],
    "has_vegas_line": [True] * 8,
    "critical_features_training_quality": [True, True, False, False, False, False, False, True],
    "critical_feature_count": [6, 6, 2, 0, 2, 2, 2, 6],
    "optional_feature_count": [31, 28, 28, 31, 31, 21, 16, 29],
    "matchup_quality_tier": ["gold", "gold", "poor", "critical", "poor", "poor", "poor", "gold"],
    "game_context_quality_tier": ["gold", "gold", "gold", "gold", "gold", "poor", "poor", "gold"],
    "matchup_data_status": [
        "COMPLETE",
        "COMPLETE",
        "COMPLETE",
        "MATCHUP_UNAVAILABLE",
        "COMPLETE",
        "COMPLETE",
        "COMPLETE",
        "COMPLETE",
    ],
    "data_source": ["mixed"] * 8,
    "primary_data_source": ["mixed"] * 8,
}
CATEGORY_ORDER = ["matchup", "player_history", "team_context", "vegas", "game_context"]


def scored(tag_rows: list, **kwargs) -> list[dict]:
    series = pl.Series("feature_tags", tag_rows, dtype=pl.List(pl.Utf8))
    return quality.score(series, **kwargs).to_dicts()


@pytest.fixture(scope="module")
def case_rows() -> dict[str, dict]:
    rows = scored(list(CASES.values()))
    return dict(zip(CASES, rows))


@pytest.mark.parametrize("field", sorted(SPEC_TABLE))
def test_worked_cases_match_spec_table(case_rows, field):
    for letter, expected in zip(CASES, SPEC_TABLE[field]):
        row = case_rows[letter]
        if field == "sum":
            got = sum(int(row[f"feature_{i}_quality"]) for i in range(37))
        elif field == "default_counts":
            got = "/".join(str(row[f"{c}_default_count"]) for c in CATEGORY_ORDER)
        else:
            got = row[field]
        assert got == expected, f"case {letter}, {field}"


def test_worked_cases_spot_checks(case_rows):
    a, b = case_rows["A"], case_rows["B"]
    assert (b["feature_25_quality"], b["feature_25_source"]) == (0.0, "default")
    assert (a["feature_15_quality"], a["feature_15_source"]) == (87.0, "phase3")
    assert (a["feature_29_quality"], a["feature_29_source"]) == (90.0, "phase4")
    assert (a["feature_31_quality"], a["feature_31_source"]) == (95.0, "phase4")
    assert b["feature_fallback_reasons_json"] == (
        '{"25": "vegas_line_unavailable", "26": "vegas_line_unavailable", "27": "vegas_line_unavailable"}'
    )
    assert a["feature_fallback_reasons_json"] == "{}"


def test_worked_cases_equal_reference(case_rows):
    for letter, tags in CASES.items():
        assert case_rows[letter] == ref.score_row(tags), letter


def test_upstream_tables_json_is_the_spec_constant(case_rows):
    assert len(ref.UPSTREAM_TABLES_JSON) == 1017
    assert quality.upstream_tables_json() == ref.UPSTREAM_TABLES_JSON
    assert case_rows["A"]["feature_upstream_tables_json"] == ref.UPSTREAM_TABLES_JSON
    assert json.loads(ref.UPSTREAM_TABLES_JSON)["22"] == "team_offense_game_summary"


def test_contract_facts_match_spec_retyping():
    contract = load_contract()
    assert contract.names == ref.FEATURE_NAMES
    assert [f.fallback_reason for f in contract.features] == ref.FALLBACK_REASONS
    assert [f.index for f in contract.features if f.optional] == ref.OPTIONAL
    for category, idx in ref.CATEGORY_INDICES.items():
        assert contract.indices(category) == idx


def test_placeholder_rows_follow_section_8():
    moment = dt.datetime(2026, 2, 6, 12, 0, tzinfo=dt.UTC)
    rows = scored([None, A], computed_at=moment)
    placeholder, real = rows
    assert placeholder == ref.score_row(None)
    assert placeholder["feature_quality_score"] == 0.0 and placeholder["data_source"] == "early_season"
    assert placeholder["quality_alerts"] == [] and placeholder["default_feature_indices"] == []
    assert placeholder["available_feature_names"] == [] and placeholder["breakout_model_compatible"] == []
    assert placeholder["required_default_count"] is None and placeholder["quality_computed_at"] is None
    assert real == ref.score_row(A, computed_at=moment)


def test_columns_and_types_follow_output_schema():
    frame = quality.score(pl.Series([A, None], dtype=pl.List(pl.Utf8)))
    assert frame.columns == ["feature_quality_score", "data_source", *QUALITY_COLUMN_NAMES]
    arrow = frame.to_arrow()
    for name in QUALITY_COLUMN_NAMES:
        want = OUTPUT_SCHEMA.field(name).type
        got = arrow.schema.field(name).type
        assert (
            got == want
            or (str(want), str(got))
            in {
                ("string", "large_string"),
                ("list<item: string>", "large_list<item: large_string>"),
                ("list<item: int64>", "large_list<item: int64>"),
            }
            or got.equals(want)
        ), (name, got, want)


def test_accepts_a_frame_and_refuses_wrong_lengths():
    frame = pl.DataFrame({"feature_tags": [A]}, schema={"feature_tags": pl.List(pl.Utf8)})
    assert quality.score(frame).row(0, named=True)["quality_tier"] == "gold"
    with pytest.raises(ValueError, match="row 1 with 36 tags"):
        quality.score(pl.Series([A, A[:36]], dtype=pl.List(pl.Utf8)))


def test_empty_input_gives_empty_frame():
    frame = quality.score(pl.Series([], dtype=pl.List(pl.Utf8)))
    assert frame.height == 0 and frame.columns[0] == "feature_quality_score"


# ---- docs/quality.md §10: the generic function ------------------------------------------------

GENERIC_CASES = [
    (["phase4"] * 25, 100.0, "phase4"),
    (["phase3"] * 25, 87.0, "phase3"),
    (["default"] * 25, 40.0, "mixed"),
    ({}, 0.0, "unknown"),
    (["phase4"] * 10 + ["phase3"] * 10 + ["default"] * 5, 82.8, "mixed"),
    (["phase4"] * 10 + ["phase3"] * 10 + ["calculated"] * 5, 94.8, "mixed"),
    (["phase4"] * 15 + ["phase3"] * 10, 94.8, "phase4_partial"),
    (["phase4"] * 19 + ["calculated"] * 6, 100.0, "phase4_partial"),
    ({0: "phase4", 2: "phase3"}, 70.0, "phase4_partial"),
    ({0: "phase4", 1: "no_such_label"}, 70.0, "phase4_partial"),
    (["phase4"] * 24 + ["phase3"], None, "phase4"),
    (["phase4"] * 6 + ["phase3"] * 4, None, "phase4_partial"),
    (["phase3"] * 6 + ["calculated"] * 4, None, "phase3"),
    (["phase4"] * 3 + ["phase3"] * 3 + ["calculated"] * 3, None, "mixed"),
]


@pytest.mark.parametrize("tags, want_score, want_source", GENERIC_CASES)
def test_generic_cases(tags, want_score, want_source):
    got = quality.tag_map_score(tags)
    if want_score is not None:
        assert got.score == want_score
    assert got.primary_source == want_source
    assert got == ref.generic_score(tags)


@given(st.lists(st.sampled_from(LABELS + ["other"]), min_size=0, max_size=60))
def test_generic_function_equals_reference(tags):
    assert quality.tag_map_score(tags) == ref.generic_score(tags)


@given(st.lists(st.sampled_from(LABELS), min_size=37, max_size=37))
@settings(max_examples=50, deadline=None)
def test_generic_function_agrees_with_vectorised_scorer(tags):
    row = scored([tags])[0]
    assert quality.tag_map_score(tags) == (row["feature_quality_score"], row["primary_data_source"])


# ---- tiers and alert boundaries ----------------------------------------------------------


@pytest.mark.parametrize(
    "value, want",
    [
        (100.0, "gold"),
        (95.0, "gold"),
        (94.99, "silver"),
        (85.0, "silver"),
        (84.99, "bronze"),
        (70.0, "bronze"),
        (69.99, "poor"),
        (50.0, "poor"),
        (49.99, "critical"),
        (0.0, "critical"),
    ],
)
def test_tier_boundaries(value, want):
    assert quality.tier(value) == want == ref.tier(value)
    got = pl.select(quality.tier_expr(pl.lit(value, pl.Float64))).item()
    assert got == want


def tags_for_weight_sum(target: int) -> list[str]:
    """37 tags whose weights add up to `target`, built greedily from the real labels."""
    weights = {"phase4": 100, "minutes_ppm": 95, "opponent_history": 90, "phase3": 87, "default": 40, "missing": 0}
    for base in range(38):  # `base` indices at 100, the rest filled to reach the target
        rest = target - 100 * base
        slots = 37 - base
        if rest < 0:
            break
        for combo in _fill(rest, slots, weights):
            return ["phase4"] * base + combo
    raise AssertionError(f"no tag vector sums to {target}")


def _fill(rest, slots, weights):
    labels = sorted(weights, key=weights.get, reverse=True)

    def walk(rest, slots, start):
        if slots == 0:
            if rest == 0:
                yield []
            return
        for k in range(start, len(labels)):
            w = weights[labels[k]]
            if w * slots < rest:
                return
            if w <= rest:
                for tail in walk(rest - w, slots - 1, k):
                    yield [labels[k], *tail]

    yield from walk(rest, slots, 0)


@pytest.mark.parametrize("bound", [95, 85, 70, 50])
def test_score_tier_boundaries_via_tag_patterns(bound):
    # the weight sums closest to the bound on each side
    above = next(s for s in range(bound * 37 - 37, bound * 37 + 37) if round(s / 37, 2) >= bound)
    below = above - 1
    rows = scored([tags_for_weight_sum(above), tags_for_weight_sum(below)])
    assert rows[0]["feature_quality_score"] >= bound > rows[1]["feature_quality_score"]
    assert rows[0]["quality_tier"] == ref.tier(bound)
    assert rows[1]["quality_tier"] == ref.tier(bound - 0.01)
    assert rows == [ref.score_row(tags_for_weight_sum(above)), ref.score_row(tags_for_weight_sum(below))]
    if bound == 50:  # the score's red threshold (matchup is clean in these patterns)
        assert rows[0]["matchup_quality_pct"] >= 70
        assert (rows[0]["quality_alert_level"], rows[1]["quality_alert_level"]) == ("yellow", "red")


def test_matchup_pct_boundary_at_50():
    at_50, below = scored([tags_with(A, _5_7="missing"), tags_with(A, _5_7="missing", _8="default")])
    assert at_50["matchup_quality_pct"] == 50.0 and below["matchup_quality_pct"] == 40.0
    assert at_50["matchup_data_status"] == "COMPLETE" and below["matchup_data_status"] == "MATCHUP_UNAVAILABLE"
    assert (
        "matchup_quality_critical" not in at_50["quality_alerts"]
        and "matchup_quality_critical" in below["quality_alerts"]
    )
    assert at_50["quality_alert_level"] == "yellow" and below["quality_alert_level"] == "red"
    assert at_50["matchup_quality_tier"] == "poor" and below["matchup_quality_tier"] == "critical"


def test_game_context_critical_alert():
    row = scored([tags_with(A, _9_12="missing", _15_21="missing")])[0]
    assert row["game_context_quality_pct"] < 50 and row["quality_alerts"][-1] == "game_context_quality_critical"


def test_alert_level_and_ready_boundaries():
    clean_low = ["phase3"] * 37  # 87 everywhere: silver, no default
    assert scored([clean_low])[0]["quality_alert_level"] == "green"
    # one missing index -> default count 1 -> yellow, not quality-ready
    row = scored([tags_with(A, _9="missing")])[0]
    assert row["quality_alert_level"] == "yellow" and row["is_quality_ready"] is False
    # three defaulted matchup indices: (3*40 + 3*100) / 6 = 70.0 exactly
    row = scored([tags_with(A, _5_7="default")])[0]
    assert row["matchup_quality_pct"] == 70.0
    assert row["is_training_ready"] is True  # matchup >= 70 inclusive, score silver
    row = scored([tags_with(A, _5_7="default", _8="fallback", _13="missing")])[0]
    assert row["matchup_quality_pct"] == 43.3 and row["quality_alert_level"] == "red"
    assert row["matchup_data_status"] == "MATCHUP_UNAVAILABLE"


def test_high_default_rate_threshold():
    seven = tags_with(A, _0_6="default")
    eight = tags_with(A, _0_7="default")
    assert not any(a.startswith("high_default_rate") for a in scored([seven])[0]["quality_alerts"])
    assert "high_default_rate_22pct" in scored([eight])[0]["quality_alerts"]
    table = {
        8: 22,
        9: 24,
        10: 27,
        11: 30,
        12: 32,
        13: 35,
        14: 38,
        15: 41,
        16: 43,
        17: 46,
        18: 49,
        19: 51,
        20: 54,
        21: 57,
        22: 59,
        23: 62,
        24: 65,
        25: 68,
        26: 70,
        27: 73,
        28: 76,
        29: 78,
        30: 81,
        31: 84,
        32: 86,
        33: 89,
        34: 92,
        35: 95,
        36: 97,
        37: 100,
    }
    rows = scored([["missing"] * k + ["phase4"] * (37 - k) for k in table])
    for (k, p), row in zip(table.items(), rows):
        assert f"high_default_rate_{p}pct" in row["quality_alerts"], k


def test_vegas_pct_rounds_half_even_like_python():
    # vegas has 4 indices: odd weight sums give exact .x5 ties, which Python rounds half-even
    rows = scored([tags_with(A, _25_27="missing", _28="phase3"), tags_with(A, _25_27="phase3", _28="missing")])
    assert rows[0]["vegas_quality_pct"] == round(87 / 4, 1) == 21.8  # 21.75 -> even 8
    assert rows[1]["vegas_quality_pct"] == round(261 / 4, 1) == 65.2  # 65.25 -> even 2


# ---- invariants and the property test ------------------------------------------------------


def check_invariants(row: dict) -> None:
    sources = [row[f"feature_{i}_source"] for i in range(37)]
    qualities = [row[f"feature_{i}_quality"] for i in range(37)]
    assert row["default_feature_count"] == len(row["default_feature_indices"]) == sources.count("default")
    assert row["feature_quality_score"] == round(sum(qualities) / 37, 2)
    assert row["quality_tier"] == ref.tier(row["feature_quality_score"])
    assert row["required_default_count"] == sum(1 for i in row["default_feature_indices"] if i not in (25, 26, 27))
    assert json.loads(row["feature_fallback_reasons_json"]).keys() == {str(i) for i in row["default_feature_indices"]}
    assert (
        row["phase4_feature_count"]
        + row["phase3_feature_count"]
        + row["calculated_feature_count"]
        + row["default_feature_count"]
        == 37
    )


tag_vectors = st.lists(st.sampled_from(LABELS), min_size=37, max_size=37)


@given(st.lists(st.one_of(st.none(), tag_vectors), min_size=1, max_size=12))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_vectorised_scorer_equals_reference(rows):
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    got = scored(rows, computed_at=moment)
    for tags, row in zip(rows, got):
        assert row == ref.score_row(tags, computed_at=moment)
        if tags is not None:
            check_invariants(row)


def test_many_random_rows_equal_reference():
    import random

    rng = random.Random(7)
    weights = [rng.random() for _ in LABELS]
    rows = [rng.choices(LABELS, weights=weights, k=37) if rng.random() > 0.02 else None for _ in range(3000)]
    got = scored(rows)
    mismatches = [i for i, (tags, row) in enumerate(zip(rows, got)) if row != ref.score_row(tags)]
    assert mismatches == []


def test_unknown_profile_scorer_is_refused():
    import dataclasses

    other = dataclasses.replace(REFERENCE, scorer_version="v9_nope")
    with pytest.raises(ValueError, match="v9_nope"):
        quality.score(pl.Series([A], dtype=pl.List(pl.Utf8)), profile=other)


def test_unknown_labels_and_absent_tags_in_37_vectors():
    # docs/quality.md §1 last two rows: cannot come from the engine, but the scorer defines them
    tags = tags_with(A, _3="something_else", _5="")
    tags[7] = None
    row = scored([tags])[0]
    assert row == ref.score_row(tags)
    assert (row["feature_3_quality"], row["feature_3_source"]) == (40.0, "default")
    assert 3 not in row["default_feature_indices"] and 7 in row["default_feature_indices"]
