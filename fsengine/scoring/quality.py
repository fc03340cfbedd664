"""The quality scorer (docs/quality.md): raw source tags -> the quality columns of the output.

The scorer reads only the raw tags of a row (one per feature of the contract), never the
feature values. `score()` is vectorised over every row of a run: the counts and sums over
feature indices are numpy reductions of the rows x n grid of tag codes (a Polars expression
per index costs ~10x more), the per-row lists (index lists, alerts) are built from numpy
offsets, and the columns derived from those counts are Polars expressions; no Python loop
touches a row. Facts about features (categories,
fallback reasons, upstream-table labels, optional flags, names) come from the contract; the
scorer version and the training-quality threshold come from the profile; this module holds
only the rules of the scorer version itself (the tag table of docs/quality.md §1, tiers, alerts).

Every rounding the spec defines as Python `round` is evaluated by Python itself over the
finite set of integer weight sums a row can have, and looked up per row, so the vectorised
result is bit-identical to the row-at-a-time definition.

>>> frame = score(pl.Series("feature_tags", [["phase4"] * 37, None], dtype=pl.List(pl.Utf8)))
>>> frame.select("feature_quality_score", "data_source", "quality_tier").rows()
[(100.0, 'phase4', 'gold'), (0.0, 'early_season', None)]
>>> tag_map_score({0: "phase4", 2: "phase3"})
TagMapScore(score=70.0, primary_source='phase4_partial')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, NamedTuple

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from fsengine.contracts import Contract, contract_of
from fsengine.contracts.profile import REFERENCE, Profile
from fsengine.output.schema import output_schema, quality_column_names

TAGS_COLUMN = "feature_tags"
_TIMESTAMP = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class TagRule:
    weight: int
    source: str  # canonical source: phase4 / phase3 / calculated / default (/ bettingpros)
    defaulted: bool


@dataclass(frozen=True)
class ScorerRules:
    """One upstream scorer version (docs/quality.md §1-§4), as data."""

    version: str
    tags: Mapping[str, TagRule]
    unknown_label: TagRule  # a label outside `tags`
    absent: TagRule  # an index without a tag (only in generic tag maps)
    tiers: tuple[tuple[float, str], ...]  # (lower bound, tier), highest first
    lowest_tier: str
    alert_levels: tuple[str, str, str]  # quality_alert_level: (green, yellow, red), best first
    training_tiers: frozenset[str]  # tiers for is_training_ready
    ready_tiers: frozenset[str]  # tiers for is_quality_ready
    high_default_share: float  # high_default_rate alert when default share exceeds this
    red_below: float  # alert level red when matchup pct or score is below
    yellow_below: float  # alert level yellow when score or matchup pct is below
    critical_pct_below: float  # matchup/game-context "critical" alerts, MATCHUP_UNAVAILABLE
    training_matchup_min: float
    training_player_history_min: float
    ready_score_min: float
    ready_matchup_min: float
    phase4_primary_share: float
    partial_primary_share: float
    model_compatible: tuple[str, ...]
    # The rules a profile's [profile.scorer] table sets (docs/v2_54/quality.md §3-§4); the defaults
    # are the reference profile's.
    exclude_defaulted_optional: bool = False
    score_caps: tuple[tuple[int, float], ...] = ()
    alert_default_count: str = "default_feature_count"
    ready_default_count: str = "default_feature_count"
    generic_index_limit: int = 0


V1_HYBRID_20260205 = ScorerRules(
    version="v1_hybrid_20260205",
    tags={
        "phase4": TagRule(100, "phase4", False),
        "phase3": TagRule(87, "phase3", False),
        "calculated": TagRule(100, "calculated", False),
        "vegas": TagRule(100, "phase4", False),
        "opponent_history": TagRule(90, "phase4", False),
        "minutes_ppm": TagRule(95, "phase4", False),
        "default": TagRule(40, "default", True),
        "fallback": TagRule(40, "default", True),
        "missing": TagRule(0, "default", True),
    },
    unknown_label=TagRule(40, "default", False),
    absent=TagRule(40, "default", True),
    tiers=((95, "gold"), (85, "silver"), (70, "bronze"), (50, "poor")),
    lowest_tier="critical",
    alert_levels=("green", "yellow", "red"),
    training_tiers=frozenset({"gold", "silver"}),
    ready_tiers=frozenset({"gold", "silver", "bronze"}),
    high_default_share=0.20,
    red_below=50,
    yellow_below=70,
    critical_pct_below=50,
    training_matchup_min=70,
    training_player_history_min=80,
    ready_score_min=70,
    ready_matchup_min=50,
    phase4_primary_share=0.90,
    partial_primary_share=0.50,
    model_compatible=("v2_14features",),
)

SCORERS: dict[str, ScorerRules] = {V1_HYBRID_20260205.version: V1_HYBRID_20260205}

# Fallback reasons (contract) that also name the quality groups and alerts of docs/quality.md §1/§3.
COMPOSITE_REASON = "composite_factors_missing"
OPPONENT_DEFENSE_REASON = "opponent_defense_missing"
CRITICAL_CATEGORY = "matchup"
VEGAS_FLAG_FEATURE = "has_vegas_line"
EMPTY_JSON = "{}"


def scorer_rules(profile: Profile = REFERENCE) -> ScorerRules:
    """The scorer of a profile: the version's fixed rules (tiers, thresholds, alerts) with the
    profile's scorer data (`[profile.scorer]`: tag table, optional-set rule, caps, the count
    that drives alerts and readiness)."""
    try:
        base = SCORERS[profile.scorer_version]
    except KeyError:
        raise ValueError(
            f"profile {profile.name!r} names scorer {profile.scorer_version!r}; known: {sorted(SCORERS)}"
        ) from None
    return _with_profile_data(base.version, profile.scorer)


@cache
def _with_profile_data(version: str, data) -> ScorerRules:
    base = SCORERS[version]
    if data is None:
        return base
    return dataclasses.replace(
        base,
        tags={tag: TagRule(t.weight, t.source, t.defaulted) for tag, t in data.tags},
        exclude_defaulted_optional=data.exclude_defaulted_optional,
        score_caps=tuple(data.score_caps),
        alert_default_count=data.alert_default_count,
        ready_default_count=data.ready_default_count,
        generic_index_limit=data.generic_index_limit,
    )


def defaulted_tags(rules: ScorerRules = V1_HYBRID_20260205) -> tuple[str, ...]:
    """The raw tags that count a feature as defaulted (docs/quality.md §1), in tag-table order."""
    return tuple(tag for tag, rule in rules.tags.items() if rule.defaulted)


def tier_names(rules: ScorerRules = V1_HYBRID_20260205) -> tuple[str, ...]:
    """Every value of quality_tier, best first."""
    return (*(name for _, name in rules.tiers), rules.lowest_tier)


def tag_rule(tag: str | None, rules: ScorerRules = V1_HYBRID_20260205) -> TagRule:
    if tag is None:
        return rules.absent
    return rules.tags.get(tag, rules.unknown_label)


def tier(value: float, rules: ScorerRules = V1_HYBRID_20260205) -> str:
    """quality_tier / matchup_quality_tier / game_context_quality_tier of a value."""
    for bound, name in rules.tiers:
        if value >= bound:
            return name
    return rules.lowest_tier


def tier_expr(value: pl.Expr, rules: ScorerRules = V1_HYBRID_20260205) -> pl.Expr:
    """`tier` as a Polars expression (null stays null)."""
    (bound, name), *rest = rules.tiers
    chain: Any = pl.when(value >= bound).then(pl.lit(name))
    for bound, name in rest:
        chain = chain.when(value >= bound).then(pl.lit(name))
    return pl.when(value.is_null()).then(pl.lit(None, pl.Utf8)).otherwise(chain.otherwise(pl.lit(rules.lowest_tier)))


def primary_source(phase4_count: int, phase3_count: int, entries: int, rules: ScorerRules = V1_HYBRID_20260205) -> str:
    """data_source / primary_data_source from the counts of tags exactly phase4 / phase3 (§2)."""
    if entries == 0:
        return "unknown"
    phase4_share = phase4_count / entries
    phase3_share = phase3_count / entries
    if phase4_share >= rules.phase4_primary_share:
        return "phase4"
    if phase4_share >= rules.partial_primary_share:
        return "phase4_partial"
    if phase3_share >= rules.partial_primary_share:
        return "phase3"
    return "mixed"


class TagMapScore(NamedTuple):
    score: float
    primary_source: str


def tag_map_score(tags: Mapping[int, str] | Sequence[str], profile: Profile = REFERENCE) -> TagMapScore:
    """The generic scorer of docs/quality.md §10 (docs/v2_54/quality.md §9) for tag maps of any length.

    n = number of entries; indices 0..m-1 are scored, m = n or, with the profile's
    generic_index_limit, min(n, limit) (an absent index counts as `default`, an unknown label
    as 40); the profile's optional-set rule and caps apply by index; the primary source counts
    the n entries' labels; an empty map scores 0.0 with primary source `unknown`.
    """
    rules = scorer_rules(profile)
    by_index = dict(enumerate(tags)) if not isinstance(tags, Mapping) else dict(tags)
    n = len(by_index)
    if n == 0:
        return TagMapScore(0.0, "unknown")
    m = min(n, rules.generic_index_limit) if rules.generic_index_limit else n
    contract = contract_of(profile)
    optional = set(contract.optional_indices)
    scored = [(i, tag_rule(by_index.get(i), rules)) for i in range(m)]
    if rules.exclude_defaulted_optional:
        scored = [(i, r) for i, r in scored if not (i in optional and r.defaulted)]
    raw = sum(r.weight for _, r in scored) / len(scored)
    required_defaults = sum(1 for i, r in scored if r.defaulted and i not in optional)
    raw = _capped(raw, required_defaults, rules)
    labels = list(by_index.values())
    return TagMapScore(
        round(raw, 2),
        primary_source(labels.count("phase4"), labels.count("phase3"), n, rules),
    )


def _capped(raw: float, required_defaults: int, rules: ScorerRules) -> float:
    """docs/v2_54/quality.md §3 step 3: the first cap whose required-default count is reached."""
    for count, cap in rules.score_caps:
        if required_defaults >= count:
            return min(raw, cap)
    return raw


@dataclass(frozen=True)
class _Layout:
    """The index groups of docs/quality.md §1, derived from the contract."""

    n: int
    categories: dict[str, list[int]]
    critical: list[int]
    composite: list[int]
    opponent_defense: list[int]
    required: list[int]
    optional: list[int]
    vegas_flag: int
    names: list[str]
    reasons: list[str]
    upstream_tables_json: str


@cache
def _layout(contract: Contract) -> _Layout:
    contract_name = contract.name
    features = contract.features

    def with_reason(reason: str) -> list[int]:
        found = [f.index for f in features if f.fallback_reason == reason]
        if not found:
            raise ValueError(f"contract {contract_name}: no feature has fallback reason {reason!r}")
        return found

    flag = [f.index for f in features if f.name == VEGAS_FLAG_FEATURE]
    if len(flag) != 1:
        raise ValueError(f"contract {contract_name}: expected one feature named {VEGAS_FLAG_FEATURE!r}")
    return _Layout(
        n=contract.feature_count,
        categories={c: contract.indices(c) for c in contract.categories},
        critical=contract.indices(CRITICAL_CATEGORY),
        composite=with_reason(COMPOSITE_REASON),
        opponent_defense=with_reason(OPPONENT_DEFENSE_REASON),
        required=contract.required_indices,
        optional=contract.optional_indices,
        vegas_flag=flag[0],
        names=contract.names,
        reasons=[f.fallback_reason for f in features],
        upstream_tables_json=json.dumps({str(f.index): f.upstream_table for f in features}),
    )


def upstream_tables_json(profile: Profile = REFERENCE) -> str:
    """The constant feature_upstream_tables_json of the profile's contract (docs/quality.md §6)."""
    return _layout(contract_of(profile)).upstream_tables_json


@lru_cache(maxsize=256)
def _rounded(count: int, digits: int, top: int) -> np.ndarray:
    """[Python round(W / count, digits) for W = 0..top]: the mean of `count` integer weights
    summing to W, rounded exactly as the spec's Python does, for every reachable W (float64).
    Cached and read-only: the same few tables serve every part of a run."""
    table = np.array([round(w / count, digits) for w in range(top + 1)], dtype=np.float64)
    table.flags.writeable = False
    return table


@lru_cache(maxsize=8)
def _rounded_by_count(counts: tuple[int, ...], top: int) -> np.ndarray:
    """Entry c * (top + 1) + W = Python round(W / c, 2) for c in `counts` and W = 0..top
    (other entries 0.0): the score of `c` counted indices with weight sum W. Cached, read-only."""
    table = np.zeros((max(counts) + 1) * (top + 1), dtype=np.float64)
    for c in counts:
        table[c * (top + 1) : (c + 1) * (top + 1)] = _rounded(c, 2, top)
    table.flags.writeable = False
    return table


def _code_rules(rules: ScorerRules) -> list[TagRule]:
    """The rules indexed by tag code (see `tag_codes`)."""
    return [*rules.tags.values(), rules.unknown_label, rules.absent]


def tag_codes(tags: pl.Series, rules: ScorerRules, n: int) -> np.ndarray:
    """rows x n grid of small integer tag codes: code k < len(rules.tags) is the k-th label of
    the tag table, len(rules.tags) an unknown label, len(rules.tags) + 1 an absent (null) tag.
    A null tag list counts as absent everywhere. Every list must have n elements."""
    labels = list(rules.tags)
    unknown, absent = len(labels), len(labels) + 1
    filled = (
        pl.select(pl.when(tags.is_null()).then(pl.lit([None] * n, dtype=pl.List(pl.Utf8))).otherwise(tags)).to_series()
        if tags.has_nulls()
        else tags
    )
    flat = filled.explode()
    # the code of a label is its position in an Enum of the labels (a label outside it: NULL)
    positions = flat.cast(pl.Utf8).cast(pl.Enum(labels), strict=False).to_physical()
    codes = positions.fill_null(unknown).to_numpy().astype(np.uint8)
    if flat.has_nulls():
        codes[flat.is_null().to_numpy()] = absent
    return codes.reshape(tags.len(), n)


def _distinct_rows(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a rows x n bool grid and, per row, the index of its distinct row."""
    if not flags.shape[0]:
        return flags, np.zeros(0, dtype=np.int64)
    # each row's flags as the bits of whole 64-bit words (a single word for n <= 64: a plain
    # integer sort instead of a byte-string one)
    packed = np.packbits(flags, axis=1)
    words = -(-packed.shape[1] // 8)
    padded = np.zeros((packed.shape[0], words * 8), dtype=np.uint8)
    padded[:, : packed.shape[1]] = packed
    keys = padded.view(np.uint64).ravel() if words == 1 else padded.view(np.dtype((np.void, words * 8))).ravel()
    _, first, which = np.unique(keys, return_index=True, return_inverse=True)
    return flags[first], which.ravel().astype(np.int64)


def _lists_of_flagged(flags: np.ndarray, items: pa.Array) -> pa.LargeListArray:
    """Per row, the items whose flag is set, in index order ([] when none).

    Built from offsets in one step: Polars' concat_list / list.drop_nulls cost about 0.1 s per
    input column on 150k rows, this costs a few milliseconds."""
    rows = flags.shape[0]
    positions = np.flatnonzero(flags) % flags.shape[1]
    offsets = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(flags.sum(axis=1), out=offsets[1:])
    return pa.LargeListArray.from_arrays(pa.array(offsets), items.take(pa.array(positions)))


def _scores(
    layout: _Layout, rules: ScorerRules, weights: np.ndarray, defaulted: np.ndarray, top_weight: int
) -> np.ndarray:
    """feature_quality_score (docs/quality.md §2; docs/v2_54/quality.md §3) of every row, from the
    n x rows weight and defaulted grids (one row per feature index): the rounded mean of the
    weights, each rounding looked up in a table of Python `round` over every reachable
    (count, weight sum); with the profile's optional rule, optional indices whose tag is
    defaulted neither add nor count; then the first cap whose required_default_count is reached."""
    n = layout.n
    total = weights.sum(axis=0)
    if not rules.exclude_defaulted_optional:
        score = _rounded(n, 2, n * top_weight)[total]
    else:
        optional = layout.optional
        left_out = defaulted[optional].sum(axis=0)
        weight_out = np.where(defaulted[optional], weights[optional], 0).sum(axis=0)
        top = n * top_weight
        table = _rounded_by_count(tuple(range(n - len(optional), n + 1)), top)
        score = table[(n - left_out) * (top + 1) + total - weight_out]
    if rules.score_caps:
        required_defaults = defaulted[layout.required].sum(axis=0)
        capped = score
        for count, cap in reversed(rules.score_caps):  # the first cap reached wins
            capped = np.where(required_defaults >= count, np.minimum(score, round(cap, 2)), capped)
        score = capped
    return score


def _lists_of_items(flags: np.ndarray, choices: np.ndarray, items: pa.Array) -> pa.LargeListArray:
    """Per row, items[choices[row, j]] for each j whose flag is set, in j order ([] when none)."""
    rows = flags.shape[0]
    offsets = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(flags.sum(axis=1), out=offsets[1:])
    return pa.LargeListArray.from_arrays(pa.array(offsets), items.take(pa.array(choices[flags])))


def per_feature_columns(codes: np.ndarray, rules: ScorerRules, scored: np.ndarray | None = None) -> dict[str, pa.Array]:
    """feature_<i>_quality and feature_<i>_source (docs/quality.md §5) of every row, as Arrow
    arrays, from the rows x n grid of `tag_codes`; NULL on the rows where `scored` is False
    (placeholders, §8): each index's codes take from the per-code values. The output rows take
    these as they are (handing 2n Polars columns over to Arrow cost more than building them)."""
    code_rules = _code_rules(rules)
    rows, n = codes.shape
    by_feature = np.ascontiguousarray(codes.T)
    mask = None if scored is None or scored.all() else ~scored
    weights = np.array([r.weight for r in code_rules], dtype=np.float64)[by_feature]
    sources = pa.array([r.source for r in code_rules], pa.string())
    qualities = {f"feature_{i}_quality": pa.array(weights[i], pa.float64(), mask=mask) for i in range(n)}
    return {
        **qualities,
        **{f"feature_{i}_source": sources.take(pa.array(by_feature[i], mask=mask)) for i in range(n)},
    }


def _per_feature_names(n: int) -> set[str]:
    return {f"feature_{i}_{kind}" for i in range(n) for kind in ("quality", "source")}


def _scored_columns(
    tags: pl.Series,
    profile: Profile,
    computed_at: dt.datetime | None,
    codes: np.ndarray | None = None,
    per_feature: bool = True,
) -> pl.DataFrame:
    """Every column of docs/quality.md §2-§7 for every row, as if each row were scored (§8 masking
    of placeholders is `score()`'s job); without feature_<i>_quality / feature_<i>_source unless
    `per_feature`."""
    rules = scorer_rules(profile)
    layout = _layout(contract_of(profile))
    schema = output_schema(contract_of(profile))
    n = layout.n
    threshold = profile.training_quality_threshold
    code_rules = _code_rules(rules)
    if any(not isinstance(r.weight, int) for r in code_rules):
        raise ValueError(f"scorer {rules.version}: weights must be integers")
    top_weight = max(r.weight for r in code_rules)
    labels = list(rules.tags)

    # The per-row counts and sums over feature indices are numpy reductions of the n x rows
    # grid of the tags' codes (one contiguous row per feature index): one pass each instead of
    # a Polars expression per index.
    codes = tag_codes(tags, rules, n) if codes is None else codes
    rows = codes.shape[0]
    by_feature = np.ascontiguousarray(codes.T)
    weights = np.array([r.weight for r in code_rules], dtype=np.int64)[by_feature]
    defaulted = np.array([r.defaulted for r in code_rules], dtype=bool)[by_feature]
    critical_good = weights[layout.critical] >= threshold
    source_names = [r.source for r in code_rules]
    # rows x codes: how many of a row's n tags have each code. A count over all n indices of
    # a property of the tag is then this grid times the property's 0/1 vector, per code.
    per_code = np.bincount(
        (codes + (np.arange(rows, dtype=np.int64) * len(code_rules))[:, None]).ravel(),
        minlength=rows * len(code_rules),
    ).reshape(rows, len(code_rules))

    def count_of(has: list[bool]) -> np.ndarray:
        return per_code @ np.array(has, dtype=np.int64)

    def of_source(source: str) -> np.ndarray:
        return count_of([name == source for name in source_names])

    categories = layout.categories
    critical = set(layout.critical)
    default_count = count_of([r.defaulted for r in code_rules])
    required_defaults = defaulted[layout.required].sum(axis=0)
    composite_defaulted = defaulted[layout.composite].any(axis=0)
    opponent_defense_defaulted = defaulted[layout.opponent_defense].any(axis=0)
    category_sums = {cat: weights[idx].sum(axis=0) for cat, idx in categories.items()}
    category_pcts = {
        cat: _rounded(len(idx), 1, len(idx) * top_weight)[category_sums[cat]] for cat, idx in categories.items()
    }
    reason_fragments = pa.array([f"{json.dumps(str(i))}: {json.dumps(layout.reasons[i])}" for i in range(n)])
    # one text per distinct pattern of defaulted indices (a run has few), spread to the rows
    patterns, pattern_of_row = _distinct_rows(defaulted.T)
    fallback_json = pc.binary_join_element_wise(
        "{", pc.binary_join(_lists_of_flagged(patterns, reason_fragments), ", "), "}", ""
    ).take(pa.array(pattern_of_row))

    # quality_alerts (docs/quality.md §3), in this order: the high default rate alert names the
    # rounded share of defaults, one text per default count.
    high_rate = [
        f"high_default_rate_{round(k / n * 100)}pct" if k / n > rules.high_default_share else None for k in range(n + 1)
    ]
    fixed_alerts = [
        "all_matchup_features_defaulted",
        "composite_factors_missing",
        "opponent_defense_missing",
        "matchup_quality_critical",
        "game_context_quality_critical",
    ]
    alert_texts = pa.array([*fixed_alerts, *high_rate], pa.string())
    alert_flags = np.column_stack(
        [
            defaulted[categories[CRITICAL_CATEGORY]].all(axis=0),
            composite_defaulted,
            opponent_defense_defaulted,
            np.array([text is not None for text in high_rate], dtype=bool)[default_count],
            category_pcts["matchup"] < rules.critical_pct_below,
            category_pcts["game_context"] < rules.critical_pct_below,
        ]
    )
    alert_choices = np.column_stack(
        [*(np.full(rows, k) for k in range(3)), len(fixed_alerts) + default_count, np.full(rows, 3), np.full(rows, 4)]
    )

    frame = pl.DataFrame(
        {
            "feature_quality_score": _scores(layout, rules, weights, defaulted, top_weight),
            "default_feature_count": default_count,
            "required_default_count": required_defaults,
            "_exactly_phase4": per_code[:, labels.index("phase4")].copy(),
            "_exactly_phase3": per_code[:, labels.index("phase3")].copy(),
            "phase4_feature_count": of_source("phase4"),
            "phase3_feature_count": of_source("phase3"),
            "calculated_feature_count": of_source("calculated"),
            "training_quality_feature_count": count_of([r.weight >= threshold for r in code_rules]),
            **{f"{cat}_quality_pct": category_pcts[cat] for cat in categories},
            **{f"{cat}_default_count": defaulted[idx].sum(axis=0) for cat, idx in categories.items()},
            "has_composite_factors": ~composite_defaulted,
            "has_opponent_defense": ~opponent_defense_defaulted,
            "has_vegas_line": ~defaulted[layout.vegas_flag],
            "critical_features_training_quality": critical_good.all(axis=0),
            "critical_feature_count": critical_good.sum(axis=0),
            "optional_feature_count": (~defaulted[[i for i in range(n) if i not in critical]]).sum(axis=0),
        }
    ).with_columns(
        pl.Series("quality_alerts", _lists_of_items(alert_flags, alert_choices, alert_texts)),
        pl.Series("default_feature_indices", _lists_of_flagged(defaulted.T, pa.array(range(n), pa.int64()))),
        pl.Series("feature_fallback_reasons_json", fallback_json),
        *(pl.Series(name, array) for name, array in (per_feature_columns(codes, rules).items() if per_feature else ())),
    )

    score = pl.col("feature_quality_score")
    matchup, game_context = pl.col("matchup_quality_pct"), pl.col("game_context_quality_pct")
    phase4_share = pl.col("_exactly_phase4") / float(n)
    phase3_share = pl.col("_exactly_phase3") / float(n)
    frame = frame.with_columns(
        tier_expr(score, rules).alias("quality_tier"),
        pl.when(phase4_share >= rules.phase4_primary_share)
        .then(pl.lit("phase4"))
        .when(phase4_share >= rules.partial_primary_share)
        .then(pl.lit("phase4_partial"))
        .when(phase3_share >= rules.partial_primary_share)
        .then(pl.lit("phase3"))
        .otherwise(pl.lit("mixed"))
        .alias("data_source"),
    )

    quality_tier = pl.col("quality_tier")
    green, yellow, red = rules.alert_levels
    alert_count_column = pl.col(rules.alert_default_count)
    ready_count = pl.col(rules.ready_default_count)
    columns = {
        "quality_alert_level": pl.when((matchup < rules.red_below) | (score < rules.red_below))
        .then(pl.lit(red))
        .when((alert_count_column > 0) | (score < rules.yellow_below) | (matchup < rules.yellow_below))
        .then(pl.lit(yellow))
        .otherwise(pl.lit(green)),
        "is_training_ready": quality_tier.is_in(sorted(rules.training_tiers))
        & (matchup >= rules.training_matchup_min)
        & (pl.col("player_history_quality_pct") >= rules.training_player_history_min),
        "is_quality_ready": quality_tier.is_in(sorted(rules.ready_tiers))
        & (score >= rules.ready_score_min)
        & (matchup >= rules.ready_matchup_min)
        & (ready_count == 0),
        "matchup_quality_tier": tier_expr(matchup, rules),
        "game_context_quality_tier": tier_expr(game_context, rules),
        **{
            name: pl.lit(value, dtype=_polars_type(schema.field(name).type))
            for name, value in run_constants(profile, computed_at).items()
        },
        "primary_data_source": pl.col("data_source"),
        "matchup_data_status": pl.when(matchup < rules.critical_pct_below)
        .then(pl.lit("MATCHUP_UNAVAILABLE"))
        .otherwise(pl.lit("COMPLETE")),
    }
    omitted = set() if per_feature else _per_feature_names(n)
    return frame.select(
        columns[name].alias(name) if name in columns else pl.col(name)
        for name in scored_column_names(profile)
        if name not in omitted
    )


def run_constants(profile: Profile = REFERENCE, computed_at: dt.datetime | None = None) -> dict[str, object]:
    """The quality columns whose value is the same on every scored row of a run (docs/quality.md
    §6-§7), as Python values; placeholders carry NULL / [] instead (§8)."""
    rules = scorer_rules(profile)
    layout = _layout(contract_of(profile))
    return {
        "feature_sample_sizes_json": EMPTY_JSON,
        "feature_expected_values_json": EMPTY_JSON,
        "feature_value_ranges_valid_json": EMPTY_JSON,
        "feature_upstream_tables_json": layout.upstream_tables_json,
        "feature_last_updated_json": EMPTY_JSON,
        "feature_schema_version": contract_of(profile).feature_schema_version,
        "available_feature_names": list(layout.names),
        "breakout_model_compatible": list(rules.model_compatible),
        "breakout_v3_features_available": False,
        "upstream_processors_ran": None,
        "missing_processors": None,
        "feature_store_age_hours": 0.0,
        "upstream_data_freshness_hours": None,
        "quality_computed_at": utc_instant(computed_at) if computed_at is not None else None,
        "quality_schema_version": rules.version,
    }


def _polars_type(arrow_type: pa.DataType) -> pl.DataType:
    return pl.Series(pa.array([], arrow_type)).dtype if not pa.types.is_timestamp(arrow_type) else _TIMESTAMP


PLACEHOLDER_SCORE = 0.0
PLACEHOLDER_DATA_SOURCE = "early_season"


def scored_column_names(profile: Profile = REFERENCE) -> list[str]:
    """The columns `score()` returns, in order: feature_quality_score, data_source and the
    quality group of the output (docs/output.md §2.2) of the profile's contract, in output order."""
    return ["feature_quality_score", "data_source", *quality_column_names(contract_of(profile))]


def _empty_list(name: str, schema: pa.Schema) -> pl.Expr | None:
    """`[]` of the column's element type when the output column is an array, else None."""
    arrow_type = schema.field(name).type
    if not pa.types.is_list(arrow_type):
        return None
    return pl.lit([], dtype=_polars_type(arrow_type))


def utc_instant(moment: dt.datetime) -> dt.datetime:
    """The run timestamp as an aware datetime in UTC (docs/output.md §5); naive ones are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"timestamp {moment!r} has no timezone; pass an aware UTC instant")
    return moment.astimezone(dt.UTC)


def score(
    tags: pl.Series | pl.DataFrame,
    profile: Profile = REFERENCE,
    computed_at: dt.datetime | None = None,
    codes: np.ndarray | None = None,
    per_feature: bool = True,
) -> pl.DataFrame:
    """Score every row: the feature_tags list column (or a frame holding it) -> quality columns.

    A null tag list marks an early-season placeholder (docs/quality.md §8): score 0.0, data_source
    `early_season`, every other column NULL and every array `[]`. `computed_at` (aware) fills
    `quality_computed_at` of scored rows (NULL when not given). Raises ValueError when a tag
    list does not have the contract's length. `codes`, when given, must be
    `tag_codes(tags, scorer_rules(profile), n)` (a caller that also needs them computes them once).
    Without `per_feature`, feature_<i>_quality and feature_<i>_source are left out (a caller
    that wants them as Arrow arrays takes them from `per_feature_columns`).
    """
    series = tags.get_column(TAGS_COLUMN) if isinstance(tags, pl.DataFrame) else tags
    frame = pl.DataFrame({TAGS_COLUMN: series.cast(pl.List(pl.Utf8))})
    n = _layout(contract_of(profile)).n
    wrong = frame.with_row_index("row").filter(
        pl.col(TAGS_COLUMN).is_not_null() & (pl.col(TAGS_COLUMN).list.len() != n)
    )
    if wrong.height:
        first = wrong.row(0, named=True)
        raise ValueError(
            f"{wrong.height} row(s) have a tag list whose length is not {n} (contract {profile.contract}); "
            f"first: row {first['row']} with {len(first[TAGS_COLUMN])} tags"
        )

    values = _scored_columns(frame.get_column(TAGS_COLUMN), profile, computed_at, codes, per_feature)
    if not frame.get_column(TAGS_COLUMN).has_nulls():
        return values  # no placeholder row: nothing to mask
    values = values.with_columns(frame.get_column(TAGS_COLUMN).is_not_null().alias("_scored"))
    scored = pl.col("_scored")
    placeholder = {
        "feature_quality_score": pl.lit(PLACEHOLDER_SCORE),
        "data_source": pl.lit(PLACEHOLDER_DATA_SOURCE),
    }
    columns = []
    schema = output_schema(contract_of(profile))
    for name in values.columns[:-1]:  # the scored columns, `_scored` left out
        fill = placeholder.get(name, _empty_list(name, schema))
        expr: Any = pl.when(scored).then(pl.col(name))
        if fill is not None:
            expr = expr.otherwise(fill)
        columns.append(expr.alias(name))
    return values.select(columns)
