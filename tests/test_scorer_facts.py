"""The facts the diagnosis shows about quality (which raw tags count as defaulted, the tier
and alert-level names) are the scorer's: the same rules that produce the output columns."""

from __future__ import annotations

import polars as pl

from fsengine.contracts import load_contract
from fsengine.contracts.profile import REFERENCE
from fsengine.scoring import quality


def test_defaulted_tags_are_the_tags_the_scorer_counts_as_defaults():
    rules = quality.scorer_rules(REFERENCE)
    n = load_contract().feature_count
    for tag in rules.tags:
        scored = quality.score(pl.Series([[tag] * n], dtype=pl.List(pl.Utf8)))
        counted = scored["default_feature_count"][0] == n
        assert counted == (tag in quality.defaulted_tags(rules)), tag
    # the spec's list (README glossary: "defaulted")
    assert set(quality.defaulted_tags(rules)) == {"default", "fallback", "missing"}


def test_tier_and_alert_names_are_those_the_scorer_emits():
    rules = quality.scorer_rules(REFERENCE)
    n = load_contract().feature_count
    emitted_tiers, emitted_levels = set(), set()
    for tags in (
        ["phase4"] * n,
        ["phase3"] * n,
        ["default"] * n,
        ["missing"] * n,
        ["phase4"] * (n - 8) + ["missing"] * 8,
        ["phase4"] * (n - 3) + ["default"] * 3,
    ):
        row = quality.score(pl.Series([tags], dtype=pl.List(pl.Utf8))).row(0, named=True)
        emitted_tiers.add(row["quality_tier"])
        emitted_levels.add(row["quality_alert_level"])
    assert emitted_tiers <= set(quality.tier_names(rules))
    assert emitted_levels == set(rules.alert_levels)
    assert quality.tier_names(rules) == ("gold", "silver", "bronze", "poor", "critical")
    assert [quality.tier(b, rules) for b, _ in rules.tiers] == list(quality.tier_names(rules)[:-1])
