"""What if a category or a feature were never defaulted: the rows that would become
quality-ready, for `fsengine report`.

The platform blocks a prediction whenever a required feature is defaulted, so coverage on a
date is the number of quality-ready players. For every category and every feature this
module counts the rows that are not quality-ready now and would be if that category's or
feature's defaulted tags were not defaulted, all else equal — which ranks the fixes.

A row gains under X exactly when: it is scored (not an early-season placeholder), its stored
`is_quality_ready` is false, at least one index of X is defaulted in its raw tags (otherwise
nothing about the row changes), and the scorer (`fsengine.scoring.quality.score`, the very
rules that produced `is_quality_ready`: tier, score, matchup share and zero defaults,
docs/quality.md §3) says "ready" for its tags with every defaulted index of X replaced. The
replacement is the feature's own first non-defaulted raw tag in the contract (docs/features.md
§1, e.g. phase4 for feature 0, vegas for 25, minutes_ppm for 31): the tag it carries when its
source is there. Its weight only moves the score and the matchup share, never below what a
non-defaulted tag gives, so the choice cannot turn a "ready" into "not ready".

Readiness depends on the tags alone and a run has few distinct tag maps, so each distinct
`feature_sources_json` of a not-ready row is scored once per scenario (one scorer call for
all of them) and the verdicts are joined back to the rows.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from dataclasses import dataclass

import polars as pl

from fsengine.contracts import Contract
from fsengine.contracts.profile import REFERENCE, Profile
from fsengine.scoring.quality import score, scorer_rules, tag_rule

CATEGORY, FEATURE = "category", "feature"


@dataclass(frozen=True)
class WhatIf:
    kind: str  # "category" or "feature"
    name: str  # category name or feature name
    index: int | None  # feature index (None for a category)
    category: str
    indices: tuple[int, ...]  # the feature indices treated as never defaulted
    rows: int  # not-ready rows that would become quality-ready
    players: int  # distinct players among them
    gain_median: float  # players per game date who would become ready: median over the dates,
    gain_min: int  # ... smallest
    gain_max: int  # ... and largest
    ready_median_after: float  # quality-ready players per date with the gain, median over the dates

    @property
    def label(self) -> str:
        return f"{self.index} {self.name}" if self.kind == FEATURE else f"category {self.name}"


def replacement_tags(contract: Contract, profile: Profile = REFERENCE) -> list[str]:
    """Per feature index, the tag that stands for "not defaulted": the first tag of the
    contract's list whose scorer rule is not a default."""
    rules = scorer_rules(profile)
    out = []
    for f in contract.features:
        present = [t for t in f.tags if not tag_rule(t, rules).defaulted]
        if not present:
            raise ValueError(f"contract {contract.name}: feature {f.index} {f.name} has no non-defaulted tag")
        out.append(present[0])
    return out


def scenarios(contract: Contract) -> list[tuple[str, str, int | None, str, tuple[int, ...]]]:
    """(kind, name, index, category, indices): every category, then every feature."""
    out: list[tuple[str, str, int | None, str, tuple[int, ...]]] = [
        (CATEGORY, c, None, c, tuple(contract.indices(c))) for c in contract.categories
    ]
    out += [(FEATURE, f.name, f.index, f.category, (f.index,)) for f in contract.features]
    return out


def _tag_list(text: str, n: int) -> list[str | None]:
    """feature_sources_json (docs/output.md §4: {"<i>": "<raw tag>"}) as a list in index order; an
    index without an entry is None (the scorer's "absent")."""
    mapping = json.loads(text)
    return [mapping.get(str(i)) for i in range(n)]


def what_if(
    scored: pl.DataFrame,
    dates: list[dt.date],
    ready_per_date: dict[dt.date, int],
    contract: Contract,
    profile: Profile = REFERENCE,
) -> tuple[WhatIf, ...]:
    """Every scenario of `scenarios(contract)`, ranked: most rows gained first (ties: categories
    before features, then contract order).

    `scored`: the scored rows of the report (player_lookup, game_date, feature_sources_json,
    is_quality_ready); `dates`: every game date of the report, for the per-date median and
    range (a date without a gain counts as 0); `ready_per_date`: quality-ready players now.
    """
    n = len(contract.features)
    rules = scorer_rules(profile)
    replacement = replacement_tags(contract, profile)
    candidates = scored.filter(
        ~pl.col("is_quality_ready").fill_null(False) & pl.col("feature_sources_json").is_not_null()
    ).select("player_lookup", "game_date", "feature_sources_json")
    patterns = candidates["feature_sources_json"].unique().sort().to_list()

    # one modified tag list per (scenario, pattern) that the scenario changes
    plan = scenarios(contract)
    keys: list[tuple[int, str]] = []
    modified: list[list[str | None]] = []
    for text in patterns:
        tags = _tag_list(text, n)
        defaulted = [tag_rule(t, rules).defaulted for t in tags]
        for k, (_, _, _, _, indices) in enumerate(plan):
            changed = [i for i in indices if defaulted[i]]
            if not changed:
                continue  # nothing about the row changes under this scenario
            new = list(tags)
            for i in changed:
                new[i] = replacement[i]
            keys.append((k, text))
            modified.append(new)

    gains = pl.DataFrame(schema={"scenario": pl.Int64, "feature_sources_json": pl.Utf8})
    if modified:
        verdict = score(pl.Series("feature_tags", modified, dtype=pl.List(pl.Utf8)), profile)["is_quality_ready"]
        gains = (
            pl.DataFrame(
                {"scenario": [k for k, _ in keys], "feature_sources_json": [t for _, t in keys], "ready": verdict}
            )
            .filter(pl.col("ready").fill_null(False))
            .select("scenario", "feature_sources_json")
        )
    gained = gains.join(candidates, on="feature_sources_json", how="inner")

    totals = {
        k: (rows, players)
        for k, rows, players in gained.group_by("scenario")
        .agg(pl.len().alias("rows"), pl.col("player_lookup").n_unique().alias("players"))
        .iter_rows()
    }
    per_date: dict[int, dict[dt.date, int]] = {}
    for k, day, players in gained.group_by("scenario", "game_date").agg(pl.col("player_lookup").n_unique()).iter_rows():
        per_date.setdefault(k, {})[day] = int(players)

    result = []
    for k, (kind, name, index, category, indices) in enumerate(plan):
        rows, players = totals.get(k, (0, 0))
        by_date = per_date.get(k, {})
        counts = [by_date.get(d, 0) for d in dates] or [0]
        after = [ready_per_date.get(d, 0) + by_date.get(d, 0) for d in dates] or [0]
        result.append(
            WhatIf(
                kind=kind,
                name=name,
                index=index,
                category=category,
                indices=indices,
                rows=int(rows),
                players=int(players),
                gain_median=float(statistics.median(counts)),
                gain_min=min(counts),
                gain_max=max(counts),
                ready_median_after=float(statistics.median(after)),
            )
        )
    order = {CATEGORY: 0, FEATURE: 1}
    result.sort(
        key=lambda w: (-w.rows, order[w.kind], w.index if w.index is not None else contract.categories.index(w.name))
    )
    return tuple(result)
