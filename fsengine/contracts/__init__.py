"""The feature contract (spec features.md §1), loaded from the TOML file beside this module.

>>> c = load_contract()
>>> c.name, len(c.features), c.features[25].name, c.features[25].optional
('v2_37features', 37, 'vegas_points_line', True)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CONTRACT_DIR = Path(__file__).parent
CATEGORIES = ("matchup", "player_history", "team_context", "vegas", "game_context")


@dataclass(frozen=True)
class Feature:
    index: int
    name: str
    category: str
    source_class: str
    tags: tuple[str, ...]
    default: float | None  # None: the feature has no default value (stored 0.0 when missing)
    fallback_reason: str
    upstream_table: str
    optional: bool


@dataclass(frozen=True)
class Contract:
    name: str
    features: tuple[Feature, ...]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    def indices(self, category: str) -> list[int]:
        return [f.index for f in self.features if f.category == category]


@lru_cache(maxsize=None)
def load_contract(name: str = "v2_37features") -> Contract:
    data = tomllib.loads((CONTRACT_DIR / f"{name}.toml").read_text())
    features = []
    for i, raw in enumerate(data["feature"]):
        if raw["index"] != i:
            raise ValueError(f"contract {name}: feature #{i} has index {raw['index']}")
        if raw["category"] not in CATEGORIES:
            raise ValueError(f"contract {name}: feature {i} has unknown category {raw['category']!r}")
        default = raw["default"]
        features.append(
            Feature(
                index=i,
                name=raw["name"],
                category=raw["category"],
                source_class=raw["source_class"],
                tags=tuple(raw["tags"]),
                default=None if default == "none" else float(default),
                fallback_reason=raw["fallback_reason"],
                upstream_table=raw["upstream_table"],
                optional=bool(raw["optional"]),
            )
        )
    if len(features) != data["feature_count"]:
        raise ValueError(f"contract {name}: {len(features)} features, header says {data['feature_count']}")
    return Contract(name=data["name"], features=tuple(features))
