"""The golden vectors of contract v2_54features (tests/vectors/v2_54, copied from the spec's vectors folder): where to find
them and which differences from upstream's output are documented (vectors/README.md plus the
readings in test_engine_reference_v54.py). Shared by the reference test and usable by the
engine parity test: pass the engine's (or the reference's) row as `row`, and the v2_54
reference's rows (spec rule and emulator rule for Q11) for the same key.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[2]
START, END = dt.date(2025, 11, 11), dt.date(2025, 11, 21)

SPEC_50 = {  # vectors/README.md, tie_spec_differs: "spec (our reading)"
    "jayenvinvin": 5.795112883571236,
    "kalulovinle": 0.3535533905932738,
    "lostenimarle": 2.1213203435596424,
    "okanantho": 4.242640687119285,
    "phchshavin": 0.5,
}
Q9_TIES = {"q9_odds_api_shared_snapshot", "q9_bettingpros_created_at"}
Q9_FEATURES = {25, 26, 27, 53}  # 53 = 25 − 2: not flagged by the vectors, which skip 0–36
UPGC_FEATURES = {4, 9, 10, 15, 16, 17, 22, 23, 24, 37, 38, 39, 40, 41, 42, 47, 51, 52, 59}


def vectors_dir() -> Path:
    """tests/vectors/v2_54 in the repository, else ../shared/spec/v2_54/vectors; fails (never
    skips) when neither exists."""
    for candidate in (REPO / "tests" / "vectors" / "v2_54", REPO.parent / "shared" / "spec" / "v2_54" / "vectors"):
        if (candidate / "expected.parquet").exists() and (candidate / "world" / "manifest.json").exists():
            return candidate
    pytest.fail("golden vectors for v2_54features not found (tests/vectors/v2_54 or ../shared/spec/v2_54/vectors)")


def load_expected(vec: Path) -> dict:
    return {(r["player_lookup"], r["game_date"]): r for r in pq.read_table(vec / "expected.parquet").to_pylist()}


def same(i: int, a, b) -> bool:
    """How one element compares: 50 and 58 within 1e-12, every other one bit-identical."""
    if a is None or b is None:
        return a is None and b is None
    if i in (50, 58):
        return abs(a - b) <= 1e-12
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def documented_difference(i: int, expected: dict, value, ref: dict, ref_emulator: dict, which: str) -> str | None:
    """Why `value` (feature i of some row, array element when which == "features", else the
    feature_N_value column) may differ from `expected`, or None when it may not.
    `ref` / `ref_emulator`: the v2_54 reference's row for the key, computed with the spec's Q11
    rule and with the emulator's (q11_round_ratios=False)."""
    reasons = set(ref["tie_reasons"])
    if i == 50 and json.loads(expected["tie_spec_differs"]):
        return "tie_spec_differs" if abs(value - SPEC_50[expected["player_lookup"]]) <= 1e-12 else None
    if i == 32 and ref["features"][32] != ref_emulator["features"][32]:
        exp_value = expected["features"][32] if which == "features" else expected["feature_32_value"]
        emu_value = ref_emulator["features"][32] if which == "features" else ref_emulator["feature_values"][32]
        return "q11_emulator" if exp_value == emu_value and value == ref["features"][32] else None
    if i == 30 and ref["spine_duplicates"] > 1:
        k = ref["spine_duplicates"]
        return "pgs_duplicate_spine" if expected["features"][30] == k * k * value else None
    if i in Q9_FEATURES and reasons & Q9_TIES:
        return "q9_tie"
    if i in UPGC_FEATURES and "upgc_duplicates" in reasons:
        return "upgc_tie"
    if expected["tie_affected"] and i in json.loads(expected["tie_features"]):
        return "tie_affected"
    return None
