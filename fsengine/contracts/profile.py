"""The semantics profile "reference" (spec README, D2): every window, switch and version
that a later, corrected profile might change lives here and nowhere else."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Profile:
    name: str
    contract: str
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


REFERENCE = Profile(
    name="reference",
    contract="v2_37features",
    scorer_version="v1_hybrid_20260205",
    last10_window_days=60,
    last10_size=10,
    total_games_window_days=365,
    opponent_window_years=1,
    minutes_ppm_window_days=30,
    daily_cache_fallback_days=14,
    composite_fallback_days=7,
    shot_zone_fallback_days=14,
    team_defense_fallback_days=7,
    early_season_days=14,
    training_quality_threshold=85,
    season_starts={
        2021: dt.date(2021, 10, 19),
        2022: dt.date(2022, 10, 18),
        2023: dt.date(2023, 10, 24),
        2024: dt.date(2024, 10, 22),
        2025: dt.date(2025, 10, 21),
    },
)


def season_of(day: dt.date) -> int:
    """Season start year S of a date (2024 = season 2024-25)."""
    return day.year if day.month >= 10 else day.year - 1
