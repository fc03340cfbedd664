"""The feature contract (docs/features.md §1) and its semantics profile, loaded from a TOML
file: the bundled fsengine/contracts/<name>.toml, or any file given by path (a modified copy,
a new contract). Every fact about the features — names, categories, defaults, fallback
reasons, upstream tables, required/optional, the count — and every profile value is read
from the file; the modules that use them take the loaded Contract (or its Profile).

>>> c = load_contract()
>>> c.name, len(c.features), c.features[25].name, c.features[25].optional, c.profile.name
('v2_37features', 37, 'vegas_points_line', True, 'reference')
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fsengine.contracts.profile import Profile

CONTRACT_DIR = Path(__file__).parent
# The contract of the "reference" profile (spec README, D2) and the one a run uses by default.
REFERENCE_CONTRACT = "v2_37features"
# The contract a run uses when none is named (`--contract`): v2_54features, what the live table
# holds (README decision D54-1). Loading a contract without a name (load_contract()) still gives
# the reference one: that is the profile the spec's round-1 rules are stated for.
DEFAULT_RUN_CONTRACT = "v2_54features"
NO_DEFAULT = "none"  # `default = "none"` in the file: the feature is stored 0.0 when missing
# `default = "nan"`: no default either; absent in memory as NaN (docs/v2_54/features.md §0.1),
# stored 0.0 like "none".
NAN_DEFAULT = "nan"


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
    # The in-memory value when absent: "default" (the default), "none" or "nan".
    absent: str = "default"


# eq=False: a contract is identified by the file it was loaded from (load_contract returns
# one object per file), so it can key caches even though its profile holds a dict.
@dataclass(frozen=True, eq=False)
class Contract:
    name: str
    categories: tuple[str, ...]  # the quality groups, in output column order
    features: tuple[Feature, ...]
    profile: Profile
    path: Path
    # The identifiers the output writes (v2_54 README D54-3); both default to `name`.
    feature_version: str = ""
    feature_schema_version: str = ""
    # The contract's optional output columns (`[output]` table; docs/v2_54/output.md §1 #190-251):
    # run-level columns taken from the assembled frame, by name, in output order, and the
    # per-feature feature_N_value columns.
    output_extra_columns: tuple[str, ...] = ()
    feature_value_columns: bool = False

    @property
    def feature_count(self) -> int:
        return len(self.features)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    def indices(self, category: str) -> list[int]:
        return [f.index for f in self.features if f.category == category]

    @property
    def optional_indices(self) -> list[int]:
        return [f.index for f in self.features if f.optional]

    @property
    def required_indices(self) -> list[int]:
        return [f.index for f in self.features if not f.optional]

    def feature(self, name: str) -> Feature:
        for f in self.features:
            if f.name == name:
                return f
        raise ValueError(f"contract {self.name} has no feature named {name!r}")

    def default(self, index: int) -> float:
        """The fallback value of feature `index`; a feature without one is an error to ask."""
        feature = self.features[index]
        if feature.default is None:
            raise ValueError(f"contract {self.name}: feature {index} ({feature.name}) has no default value")
        return feature.default


def contract_file(name: str) -> Path:
    return CONTRACT_DIR / f"{name}.toml"


def load_contract(name: str = REFERENCE_CONTRACT, *, path: str | Path | None = None) -> Contract:
    """The contract `name` bundled with fsengine, or the contract file at `path`.

    Loading the same file twice returns the same object."""
    return _load_file(Path(path).resolve() if path is not None else contract_file(name).resolve())


def resolve_contract(contract: str | Path | Contract | None) -> Contract:
    """A run's contract from `--contract`: a loaded Contract, the name of a bundled contract,
    or the path of a contract file (None: DEFAULT_RUN_CONTRACT). Raises ValueError naming the
    bundled contracts for an unknown name."""
    if contract is None:
        return load_contract(DEFAULT_RUN_CONTRACT)
    if isinstance(contract, Contract):
        return contract
    text = str(contract)
    if contract_file(text).is_file():
        return load_contract(text)
    if text.endswith(".toml") and Path(text).is_file():
        return load_contract(path=text)
    known = sorted(p.stem for p in CONTRACT_DIR.glob("*.toml"))
    raise ValueError(f"unknown contract {text!r}: expected one of {known} or the path of a contract .toml file")


def contract_of(profile: Profile) -> Contract:
    """The contract a profile belongs to (the file it was read from)."""
    if profile.contract_path is not None:
        return load_contract(path=profile.contract_path)
    return load_contract(profile.contract)


@cache
def _load_file(path: Path) -> Contract:
    from fsengine.contracts.profile import profile_from_table

    data = tomllib.loads(path.read_text())
    name = data["name"]
    categories = tuple(data["categories"])
    features = []
    for i, raw in enumerate(data["feature"]):
        if raw["index"] != i:
            raise ValueError(f"contract {name}: feature #{i} has index {raw['index']}")
        if raw["category"] not in categories:
            raise ValueError(f"contract {name}: feature {i} has unknown category {raw['category']!r}")
        default = raw["default"]
        absent = default if default in (NO_DEFAULT, NAN_DEFAULT) else "default"
        features.append(
            Feature(
                index=i,
                name=raw["name"],
                category=raw["category"],
                source_class=raw["source_class"],
                tags=tuple(raw["tags"]),
                default=None if absent != "default" else float(default),
                fallback_reason=raw["fallback_reason"],
                upstream_table=raw["upstream_table"],
                optional=bool(raw["optional"]),
                absent=absent,
            )
        )
    if len(features) != data["feature_count"]:
        raise ValueError(f"contract {name}: {len(features)} features, header says {data['feature_count']}")
    if "profile" not in data:
        raise ValueError(f"contract {name} ({path}) has no [profile] table")
    profile = profile_from_table(data["profile"], contract=name, contract_path=path)
    output = data.get("output", {})
    unknown = [k for k in output if k not in ("extra_columns", "feature_value_columns")]
    if unknown:
        raise ValueError(f"contract {name} ({path}): [output] has unknown keys {unknown}")
    return Contract(
        name=name,
        categories=categories,
        features=tuple(features),
        profile=profile,
        path=path,
        feature_version=data.get("feature_version", name),
        feature_schema_version=data.get("feature_schema_version", name),
        output_extra_columns=tuple(output.get("extra_columns", ())),
        feature_value_columns=bool(output.get("feature_value_columns", False)),
    )


# The reference contract's quality groups, for modules that name the output's columns.
CATEGORIES: tuple[str, ...] = load_contract().categories
