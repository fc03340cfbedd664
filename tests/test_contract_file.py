"""The contract file drives the facts: a modified copy of v2_37features.toml, loaded from a
temporary folder, changes the engine's fallback values, the scorer's reasons and the output's
names and version — with no other change to the run."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import tomllib

import pytest
from engine.builders import make_snapshot, pgs_row

from fsengine.contracts import contract_file, contract_of, load_contract
from fsengine.contracts.profile import REFERENCE
from fsengine.engine.compute import compute
from fsengine.output.rows import output_rows

DAY = dt.date(2025, 12, 1)  # well past the 2025 season start: no early-season placeholders
RUN_TS = dt.datetime(2025, 12, 2, 12, tzinfo=dt.UTC)


def edit_feature(text: str, index: int, key: str, value: str) -> str:
    """The contract text with `key = value` in the [[feature]] block of `index`."""
    blocks = text.split("[[feature]]")
    position = next(i for i, b in enumerate(blocks) if re.search(rf"^index = {index}$", b, re.M))
    blocks[position], found = re.subn(rf"^{key} = .*$", f"{key} = {value}", blocks[position], flags=re.M)
    assert found == 1, f"feature {index} has no key {key}"
    return "[[feature]]".join(blocks)


@pytest.fixture(scope="module")
def modified_contract(tmp_path_factory):
    text = contract_file("v2_37features").read_text()
    text = re.sub(r'^name = "v2_37features"$', 'name = "v2_37features_copy"', text, count=1, flags=re.M)
    text = edit_feature(text, 3, "default", "6.5")
    text = edit_feature(text, 3, "name", '"points_stdev_last_10"')
    text = edit_feature(text, 3, "fallback_reason", '"daily_cache_missing"')
    text = edit_feature(text, 13, "default", "111.0")
    text = edit_feature(text, 21, "default", "0.2")
    path = tmp_path_factory.mktemp("contract") / "copy.toml"
    path.write_text(text)
    return load_contract(path=path)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    # "a": daily cache and opponent defense at DAY, six games; "b": neither, two games (so
    # features 3, 13 and 21 fall back for b and are computed for a)
    games = [DAY - dt.timedelta(days=2 * k) for k in range(1, 7)]
    pgs = [pgs_row("a", d, points=20, ft_makes=4) for d in games] + [pgs_row("b", d) for d in games[:2]]
    pgs += [pgs_row("a", DAY, opponent="OPP"), pgs_row("b", DAY, opponent="NOD")]
    return make_snapshot(
        tmp_path_factory.mktemp("snap"),
        DAY,
        DAY,
        pgs=pgs,
        daily_cache=[dict(player_lookup="a", cache_date=DAY, points_std_last_10=4.25)],
        team_defense=[dict(team_abbr="OPP", analysis_date=DAY, defensive_rating_last_15=108.5, opponent_pace=99.0)],
    )


def run(snapshot, profile):
    rows = compute(snapshot, DAY, DAY, mode="backfill", as_of=DAY + dt.timedelta(days=1), profile=profile).rows
    return {r["player_lookup"]: r for r in output_rows(rows, RUN_TS, profile).to_pylist()}


def test_the_copy_loads_with_its_own_profile(modified_contract):
    assert modified_contract.name == "v2_37features_copy"
    assert modified_contract.profile.contract == "v2_37features_copy"
    assert contract_of(modified_contract.profile) is modified_contract
    assert contract_of(REFERENCE) is load_contract()
    # the profile values are the reference ones: only its contract differs
    assert (
        dataclasses.replace(
            modified_contract.profile, contract=REFERENCE.contract, contract_path=REFERENCE.contract_path
        )
        == REFERENCE
    )


def test_modified_defaults_reach_the_output(snapshot, modified_contract):
    before = run(snapshot, REFERENCE)
    after = run(snapshot, modified_contract.profile)

    b0, b1 = before["b"], after["b"]
    assert json.loads(b0["feature_sources_json"])["3"] == "default"
    assert (b0["features"][3], b1["features"][3]) == (5.0, 6.5)
    assert json.loads(b0["feature_sources_json"])["13"] == "default"
    assert (b0["features"][13], b1["features"][13]) == (112.0, 111.0)
    assert (b0["features"][21], b1["features"][21]) == (0.15, 0.2)
    changed = {i for i, (x, y) in enumerate(zip(b0["features"], b1["features"])) if x != y}
    assert changed == {3, 13, 21}

    # "a" has every one of those inputs: nothing about its features changes
    assert before["a"]["features"] == after["a"]["features"]
    assert before["a"]["features"][3] == 4.25 and before["a"]["features"][13] == 108.5

    # names, version and fallback reasons come from the file too
    assert (b0["feature_names"][3], b1["feature_names"][3]) == ("points_std_last_10", "points_stdev_last_10")
    assert (b0["feature_version"], b1["feature_version"]) == ("v2_37features", "v2_37features_copy")
    assert b1["feature_schema_version"] == "v2_37features_copy"
    assert json.loads(b0["feature_fallback_reasons_json"])["3"] == "data_unavailable"
    assert json.loads(b1["feature_fallback_reasons_json"])["3"] == "daily_cache_missing"
    # the scorer reads tags, not values: the quality columns are those of the reference run
    assert b0["feature_quality_score"] == b1["feature_quality_score"]


def test_a_profile_value_in_the_file_changes_the_run(tmp_path, snapshot):
    # the fatigue gate lives in the [profile] table: a gate that excludes the default
    # fatigue 50.0 drops every row whose fatigue score fell back
    text = contract_file("v2_37features").read_text()
    text, found = re.subn(r"^fatigue_gate = .*$", "fatigue_gate = [0.0, 40.0]", text, flags=re.M)
    assert found == 1
    path = tmp_path / "gated.toml"
    path.write_text(text)
    profile = load_contract(path=path).profile
    assert profile.fatigue_gate == (0.0, 40.0)
    assert set(run(snapshot, REFERENCE)) == {"a", "b"}
    assert run(snapshot, profile) == {}


def test_a_profile_table_missing_a_value_is_refused(tmp_path):
    text = contract_file("v2_37features").read_text()
    text = re.sub(r"^last10_window_days = .*\n", "", text, flags=re.M)
    path = tmp_path / "short.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match="last10_window_days"):
        load_contract(path=path)


def test_the_bundled_file_is_the_reference_profile():
    data = tomllib.loads(contract_file("v2_37features").read_text())
    assert data["profile"]["name"] == REFERENCE.name == "reference"
    assert REFERENCE.season_starts[2025] == dt.date(2025, 10, 21)


def test_backfill_writes_the_rows_of_the_given_profile(tmp_path, snapshot, modified_contract):
    from fsengine.output.schema import read_output
    from fsengine.pipeline import backfill

    backfill(
        tmp_path / "out",
        snapshot.path,
        DAY,
        DAY,
        mode="backfill",
        as_of=DAY + dt.timedelta(days=1),
        profile=modified_contract.profile,
    )
    rows = {r["player_lookup"]: r for r in read_output(tmp_path / "out").to_pylist()}
    assert rows["b"]["feature_version"] == "v2_37features_copy"
    assert rows["b"]["features"][3] == 6.5
