"""The head assembly is a function of the profile's switches: with every 0-36 switch and
Phase-4 window set to the reference profile's values, its features 0-36 (values bit for bit,
raw tags), composite flag and completeness equal the reference engine's (contract
v2_37features) on the bundled fixture."""

from __future__ import annotations

import dataclasses
import datetime as dt
import struct

import pytest

from fsengine.contracts import load_contract
from fsengine.contracts.profile import REFERENCE
from fsengine.engine.compute import compute
from fsengine.pipeline import default_snapshot
from fsengine.snapshot.format import Snapshot

SWITCHES = (
    "spine_history_filter_days",
    "production_spine_filter",
    "phase4_exact_date_only",
    "composite_zero_forcing",
    "nan_is_absent",
    "cache_miss_fallback",
    "phase3_games_in_last_7_days",
    "odds_pre_tipoff_only",
    "recent_trend_newest_first",
    "opponent_fallback_tag",
    "opponent_no_games_fallback",
    "minutes_ppm_phase4_fallback",
    "minutes_ppm_missing_tag",
    "emit_fallback_reasons",
    "daily_cache_fallback_days",
    "composite_fallback_days",
    "shot_zone_fallback_days",
    "team_defense_fallback_days",
)


def _bits(x):
    return None if x is None else struct.pack("<d", x)


@pytest.mark.parametrize("mode", ["backfill", "auto"])
def test_head_with_reference_switches_reproduces_v2_37_features(mode):
    head = load_contract("v2_54features").profile
    mixed = dataclasses.replace(head, **{k: getattr(REFERENCE, k) for k in SWITCHES})
    assert mixed.assembly == "head"
    snapshot = Snapshot.open(default_snapshot())
    start, end, as_of = dt.date(2025, 11, 4), dt.date(2025, 11, 30), dt.date(2025, 11, 25)
    got = compute(snapshot, start, end, mode=mode, as_of=as_of, profile=mixed, threads=2).rows
    want = compute(snapshot, start, end, mode=mode, as_of=as_of, profile=REFERENCE, threads=2).rows
    assert got.height == want.height > 1000
    got_rows = {(r["player_lookup"], r["game_date"]): r for r in got.to_dicts()}
    differing = []
    for w in want.to_dicts():
        g = got_rows[(w["player_lookup"], w["game_date"])]
        if w["is_placeholder"]:
            same = g["feature_values"] is None and g["feature_tags"] is None
        else:
            same = [_bits(v) for v in w["feature_values"]] == [_bits(v) for v in g["feature_values"][:37]] and w[
                "feature_tags"
            ] == g["feature_tags"][:37]
        same = same and (w["composite_fallback"], w["historical_completeness"]) == (
            g["composite_fallback"],
            g["historical_completeness"],
        )
        if not same:
            differing.append((w["player_lookup"], w["game_date"]))
    assert differing == []


def test_the_head_switches_change_features_0_36():
    """The same run with the head profile's own switches differs (the test above can fail)."""
    head = load_contract("v2_54features").profile
    snapshot = Snapshot.open(default_snapshot())
    day = dt.date(2025, 11, 20)
    got = compute(snapshot, day, day, mode="backfill", as_of=dt.date(2026, 1, 1), profile=head, threads=2).rows
    want = compute(snapshot, day, day, mode="backfill", as_of=dt.date(2026, 1, 1), profile=REFERENCE, threads=2).rows
    want_rows = {(r["player_lookup"], r["game_date"]): r for r in want.to_dicts()}
    changed = sum(
        1
        for g in got.to_dicts()
        if g["feature_tags"][:37] != want_rows[(g["player_lookup"], g["game_date"])]["feature_tags"]
        or g["feature_values"][:37] != want_rows[(g["player_lookup"], g["game_date"])]["feature_values"]
    )
    assert changed > 0
