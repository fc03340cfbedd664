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
class Profile:
    name: str
    contract: str  # the name of the contract whose file holds this profile
    scorer_version: str
    # Windows, in calendar days unless named otherwise (features.md §3, §5, §8).
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
    # Built-in season starts (features.md §2.5); other seasons derive from PGS.
    season_starts: dict[int, dt.date] = field(default_factory=dict)
    fallback_season_start_month_day: tuple[int, int] = (10, 22)
    fatigue_gate: tuple[float, float] = (0.0, 100.0)
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
    return Profile(**values, contract=contract, contract_path=contract_path)


def season_of(day: dt.date) -> int:
    """Season start year S of a date (2024 = season 2024-25)."""
    return day.year if day.month >= 10 else day.year - 1


# Loaded last: the contract loader builds Profiles with the class above.
from fsengine.contracts import REFERENCE_CONTRACT, load_contract  # noqa: E402

REFERENCE: Profile = load_contract(REFERENCE_CONTRACT).profile
