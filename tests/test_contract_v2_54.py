"""The contract file v2_54features (docs/v2_54/features.md §3, docs/quality.md §1-§2, README D54-3)
and its profile head-2026-07, as the loader reads them. Expected values are written out from
the spec, not derived from the file."""

from __future__ import annotations

import re

import pytest

from fsengine.contracts import contract_file, load_contract


@pytest.fixture(scope="module")
def c54():
    return load_contract("v2_54features")


@pytest.fixture(scope="module")
def c37():
    return load_contract("v2_37features")


def test_sixty_features_with_the_old_names(c54, c37):
    assert c54.feature_count == 60
    assert c54.names[:37] == c37.names
    assert c54.names[37:] == [
        "star_teammates_out",
        "game_total_line",
        "days_rest",
        "minutes_load_last_7d",
        "spread_magnitude",
        "implied_team_total",
        "points_avg_last_3",
        "scoring_trend_slope",
        "deviation_from_avg_last3",
        "consecutive_games_below_avg",
        "teammate_usage_available",
        "usage_rate_last_5",
        "games_since_structural_change",
        "multi_book_line_std",
        "prop_over_streak",
        "prop_under_streak",
        "line_vs_season_avg",
        "prop_line_delta",
        "over_rate_last_10",
        "margin_vs_line_avg_last_5",
        "blowout_minutes_risk",
        "minutes_volatility_last_10",
        "opponent_pace_mismatch",
    ]


def test_categories_over_sixty(c54):
    # docs/v2_54/quality.md §2
    assert c54.indices("matchup") == [5, 6, 7, 8, 13, 14]
    assert c54.indices("player_history") == [
        0,
        1,
        2,
        3,
        4,
        29,
        30,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        43,
        44,
        45,
        46,
        48,
        49,
        54,
        55,
        56,
        58,
    ]
    assert c54.indices("team_context") == [22, 23, 24, 57]
    assert c54.indices("vegas") == [25, 26, 27, 28]
    assert c54.indices("game_context") == [
        9,
        10,
        11,
        12,
        15,
        16,
        17,
        18,
        19,
        20,
        21,
        38,
        39,
        40,
        41,
        42,
        47,
        50,
        51,
        52,
        53,
        59,
    ]


def test_optional_set(c54, c37):
    assert c54.optional_indices == [25, 26, 27, *range(37, 60)]
    assert len(c54.required_indices) == 34
    assert c37.optional_indices == [25, 26, 27]


def test_reasons_labels_and_absent_values(c54):
    f = c54.features
    assert (f[47].fallback_reason, f[47].upstream_table) == ("dead_feature", "default")
    assert (f[50].fallback_reason, f[50].upstream_table) == ("dead_feature", "default")
    assert f[54].fallback_reason == "no_prior_line"
    assert f[37].default == 0.0 and f[37].absent == "default"
    assert f[38].default is None and f[38].absent == "none"
    assert all(f[i].absent == "nan" and f[i].default is None for i in range(39, 60))
    assert "bettingpros" in f[50].tags
    with pytest.raises(ValueError):
        c54.default(45)


def test_identifiers(c54, c37):
    assert (c54.feature_version, c54.feature_schema_version) == ("v2_54features", "v2_60features")
    assert (c37.feature_version, c37.feature_schema_version) == ("v2_37features", "v2_37features")


def test_profile_switches(c54, c37):
    p, r = c54.profile, c37.profile
    assert (p.name, p.contract, p.scorer_version) == ("head-2026-07", "v2_54features", "v1_hybrid_20260205")
    assert (p.spine_history_filter_days, r.spine_history_filter_days) == (60, 0)
    assert (p.phase4_exact_date_only, r.phase4_exact_date_only) == (True, False)
    assert (p.nan_is_absent, r.nan_is_absent) == (True, False)
    assert (p.cache_miss_fallback, r.cache_miss_fallback) == (True, False)
    assert (p.odds_pre_tipoff_only, r.odds_pre_tipoff_only) == (True, False)
    assert (p.composite_zero_forcing, r.composite_zero_forcing) == (False, True)
    assert (p.emit_fallback_reasons, r.emit_fallback_reasons) == (False, True)
    assert p.odds_lookback_days == 14 and p.early_season_days == 14 and p.fatigue_gate == (0.0, 100.0)


def test_scorer_data(c54, c37):
    s, r = c54.profile.scorer, c37.profile.scorer
    assert s.tag_table["bettingpros"].weight == 100 and s.tag_table["bettingpros"].source == "bettingpros"
    assert "bettingpros" not in r.tag_table
    assert s.score_caps == ((5, 49.0), (1, 69.0)) and r.score_caps == ()
    assert s.exclude_defaulted_optional and not r.exclude_defaulted_optional
    assert s.alert_default_count == s.ready_default_count == "required_default_count"
    assert r.alert_default_count == r.ready_default_count == "default_feature_count"
    assert {t: w for t, w in s.tags if t != "bettingpros"} == r.tag_table


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: re.sub(r"^nan_is_absent = true\n", "", t, flags=re.M), "lacks"),
        (
            lambda t: t.replace("exclude_defaulted_optional = true", "exclude_defaulted_optional = true\ncap = 1"),
            "unknown",
        ),
        (
            lambda t: t.replace('alert_default_count = "required_default_count"', 'alert_default_count = "x"'),
            "must be one of",
        ),
    ],
)
def test_loader_refuses_incomplete_profiles(tmp_path, edit, message):
    path = tmp_path / "bad.toml"
    path.write_text(edit(contract_file("v2_54features").read_text()))
    with pytest.raises(ValueError, match=message):
        load_contract(path=path)
