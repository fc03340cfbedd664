"""The semantics profile (spec README, D2): every window, switch and version that a later,
corrected profile might change. The values are data: the `[profile]` table of the contract
file (fsengine/contracts/<contract>.toml); a contract names its profile, and the profile
follows from the contract. `REFERENCE` is the profile "reference" as loaded from the
contract v2_37features.

>>> REFERENCE.name, REFERENCE.contract, REFERENCE.last10_window_days
('reference', 'v2_37features', 60)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TagWeight:
    """One row of the scorer's tag table (docs/quality.md §1): weight q_i, canonical source src_i,
    defaulted d_i."""

    weight: int
    source: str
    defaulted: bool


# Values of ScorerProfile.alert_default_count / ready_default_count.
DEFAULT_COUNTS = ("default_feature_count", "required_default_count")


@dataclass(frozen=True)
class ScorerProfile:
    """The scorer's data of a profile (`[profile.scorer]`): the tag table and the rules that
    differ between profiles (docs/v2_54/quality.md §1-§4)."""

    tags: tuple[tuple[str, TagWeight], ...]  # (raw tag, its row), in table order

    @property
    def tag_table(self) -> dict[str, TagWeight]:
        return dict(self.tags)

    # The score is the mean over all indices except optional ones whose tag is defaulted.
    exclude_defaulted_optional: bool
    # (min required_default_count, cap) pairs, checked in order; the first that applies caps.
    score_caps: tuple[tuple[int, float], ...]
    # The count that raises quality_alert_level to yellow / blocks is_quality_ready.
    alert_default_count: str
    ready_default_count: str
    # The generic scorer scores indices 0 .. min(n, limit) - 1 of an n-entry tag map (0: all).
    generic_index_limit: int = 0


@dataclass(frozen=True)
class Profile:
    name: str
    contract: str  # the name of the contract whose file holds this profile
    scorer_version: str
    # Windows, in calendar days unless named otherwise (docs/features.md §3, §5, §8).
    last10_window_days: int
    last10_size: int
    total_games_window_days: int
    opponent_window_years: int
    minutes_ppm_window_days: int
    daily_cache_fallback_days: int
    composite_fallback_days: int
    shot_zone_fallback_days: int
    team_defense_fallback_days: int
    early_season_days: int
    training_quality_threshold: int
    # Built-in season starts (docs/features.md §2.5); other seasons derive from PGS.
    season_starts: dict[int, dt.date] = field(default_factory=dict)
    fallback_season_start_month_day: tuple[int, int] = (10, 22)
    fatigue_gate: tuple[float, float] = (0.0, 100.0)
    # Switches of the rules of features 0-36 (docs/v2_54/features.md §0-§2; documented in
    # v2_54features.toml; v2_37features.toml holds the reference values).
    spine_history_filter_days: int = 0
    production_spine_filter: bool = False
    phase4_exact_date_only: bool = False
    composite_zero_forcing: bool = True
    nan_is_absent: bool = False
    cache_miss_fallback: bool = False
    cache_miss_games_window_days: int = 7
    phase3_games_in_last_7_days: bool = False
    odds_pre_tipoff_only: bool = False
    recent_trend_newest_first: bool = False
    opponent_fallback_tag: str = "fallback"
    opponent_no_games_fallback: bool = False
    minutes_ppm_phase4_fallback: bool = False
    minutes_ppm_missing_tag: str = "fallback"
    emit_fallback_reasons: bool = True
    # Windows of the extractions of features 37-59 (docs/v2_54/features.md §4).
    odds_lookback_days: int = 14
    rolling_stats_window_days: int = 60
    line_history_window_days: int = 60
    opportunity_window_days: int = 60
    teammate_usage_window_days: int = 30
    multi_book_bettingpros_below_std: float = 0.3
    # The assembly that builds the contract's rows (fsengine/engine/compute.py): "reference" =
    # the round-1 registry and assemble.py; "head" = assemble_head.py with its extractions.
    assembly: str = "reference"
    # The scorer's data ([profile.scorer]).
    scorer: ScorerProfile | None = None
    # The contract file the profile was read from (fsengine.contracts.contract_of reads the
    # contract back from it, so a contract loaded from any path travels with its profile).
    contract_path: Path | None = None


# Filled in by the loader from the contract, never read from the [profile] table.
_FROM_CONTRACT = ("contract", "contract_path")


def profile_from_table(table: dict[str, Any], contract: str, contract_path: Path) -> Profile:
    """The Profile of a contract file's `[profile]` table. Every field must be present and no
    other key may be (a misspelt window must not silently keep a built-in value)."""
    wanted = [f.name for f in fields(Profile) if f.name not in _FROM_CONTRACT]
    missing = [k for k in wanted if k not in table]
    unknown = [k for k in table if k not in wanted]
    if missing or unknown:
        raise ValueError(
            f"contract {contract} ({contract_path}): [profile] lacks {missing} / has unknown keys {unknown}"
        )
    values = dict(table)
    values["season_starts"] = {int(season): day for season, day in table["season_starts"].items()}
    for key in ("fallback_season_start_month_day", "fatigue_gate"):
        values[key] = tuple(table[key])
    values["scorer"] = scorer_from_table(table["scorer"], contract, contract_path)
    return Profile(**values, contract=contract, contract_path=contract_path)


_SCORER_KEYS = (
    "tags",
    "exclude_defaulted_optional",
    "score_caps",
    "alert_default_count",
    "ready_default_count",
    "generic_index_limit",
)


def scorer_from_table(table: dict[str, Any], contract: str, contract_path: Path) -> ScorerProfile:
    """The ScorerProfile of a `[profile.scorer]` table (every key required, none unknown)."""
    missing = [k for k in _SCORER_KEYS if k not in table]
    unknown = [k for k in table if k not in _SCORER_KEYS]
    if missing or unknown:
        raise ValueError(
            f"contract {contract} ({contract_path}): [profile.scorer] lacks {missing} / has unknown keys {unknown}"
        )
    tags = {}
    for tag, row in table["tags"].items():
        if set(row) != {"weight", "source", "defaulted"} or not isinstance(row["weight"], int):
            raise ValueError(f"contract {contract}: scorer tag {tag!r} needs integer weight, source, defaulted: {row}")
        tags[tag] = TagWeight(weight=row["weight"], source=str(row["source"]), defaulted=bool(row["defaulted"]))
    for key in ("alert_default_count", "ready_default_count"):
        if table[key] not in DEFAULT_COUNTS:
            raise ValueError(f"contract {contract}: [profile.scorer] {key} must be one of {DEFAULT_COUNTS}")
    caps = tuple((int(count), float(cap)) for count, cap in table["score_caps"])
    return ScorerProfile(
        tags=tuple(tags.items()),
        exclude_defaulted_optional=bool(table["exclude_defaulted_optional"]),
        score_caps=caps,
        alert_default_count=table["alert_default_count"],
        ready_default_count=table["ready_default_count"],
        generic_index_limit=int(table["generic_index_limit"]),
    )


def season_of(day: dt.date) -> int:
    """Season start year S of a date (2024 = season 2024-25)."""
    return day.year if day.month >= 10 else day.year - 1


# Loaded last: the contract loader builds Profiles with the class above.
from fsengine.contracts import REFERENCE_CONTRACT, load_contract  # noqa: E402

REFERENCE: Profile = load_contract(REFERENCE_CONTRACT).profile
