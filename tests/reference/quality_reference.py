"""Row-at-a-time reference of the quality scorer, written from the spec (docs/quality.md) alone.

Independent of fsengine: every table below is retyped from docs/quality.md / docs/features.md §1, so a
wrong contract file or a wrong vectorised expression both show up as a disagreement.

    CASES = the tag patterns of the worked cases A-H of docs/quality.md §9;
    score_row(tags) -> dict of every column `fsengine.scoring.quality.score` returns
                       (feature_quality_score, data_source, the 122 quality columns);
    tags = the 37 raw source tags of a row, or None for an early-season placeholder.
`quality_computed_at` is the run timestamp; pass it as `computed_at` (None -> NULL).
"""

from __future__ import annotations

import json

N = 37

# docs/quality.md §1: raw tag -> (weight, canonical source, defaulted)
TAG_TABLE = {
    "phase4": (100, "phase4", False),
    "phase3": (87, "phase3", False),
    "calculated": (100, "calculated", False),
    "vegas": (100, "phase4", False),
    "opponent_history": (90, "phase4", False),
    "minutes_ppm": (95, "phase4", False),
    "default": (40, "default", True),
    "fallback": (40, "default", True),
    "missing": (0, "default", True),
}
UNKNOWN_LABEL = (40, "default", False)
ABSENT_INDEX = (40, "default", True)

CATEGORY_INDICES = {
    "matchup": [5, 6, 7, 8, 13, 14],
    "player_history": [0, 1, 2, 3, 4, 29, 30, 31, 32, 33, 34, 35, 36],
    "team_context": [22, 23, 24],
    "vegas": [25, 26, 27, 28],
    "game_context": [9, 10, 11, 12, 15, 16, 17, 18, 19, 20, 21],
}
CRITICAL = [5, 6, 7, 8, 13, 14]
COMPOSITE = [5, 6, 7, 8]
OPPONENT_DEFENSE = [13, 14]
OPTIONAL = [25, 26, 27]
TRAINING_THRESHOLD = 85

# docs/features.md §1
FEATURE_NAMES = [
    "points_avg_last_5",
    "points_avg_last_10",
    "points_avg_season",
    "points_std_last_10",
    "games_in_last_7_days",
    "fatigue_score",
    "shot_zone_mismatch_score",
    "pace_score",
    "usage_spike_score",
    "rest_advantage",
    "injury_risk",
    "recent_trend",
    "minutes_change",
    "opponent_def_rating",
    "opponent_pace",
    "home_away",
    "back_to_back",
    "playoff_game",
    "pct_paint",
    "pct_mid_range",
    "pct_three",
    "pct_free_throw",
    "team_pace",
    "team_off_rating",
    "team_win_pct",
    "vegas_points_line",
    "vegas_opening_line",
    "vegas_line_move",
    "has_vegas_line",
    "avg_points_vs_opponent",
    "games_vs_opponent",
    "minutes_avg_last_10",
    "ppm_avg_last_10",
    "dnp_rate",
    "pts_slope_10g",
    "pts_vs_season_zscore",
    "breakout_flag",
]
FALLBACK_REASONS = (
    ["data_unavailable"] * 5
    + ["composite_factors_missing"] * 4
    + ["data_unavailable"] * 4
    + ["opponent_defense_missing"] * 2
    + ["data_unavailable"] * 3
    + ["shot_zone_data_missing"] * 3
    + ["data_unavailable"] * 4
    + ["vegas_line_unavailable"] * 3
    + ["data_unavailable"]
    + ["no_opponent_history"] * 2
    + ["minutes_ppm_unavailable"] * 2
    + ["data_unavailable"] * 4
)
# docs/quality.md §6, verbatim
UPSTREAM_TABLES_JSON = (
    '{"0": "player_daily_cache", "1": "player_daily_cache", "2": "player_daily_cache", '
    '"3": "player_daily_cache", "4": "player_daily_cache", "5": "player_composite_factors", '
    '"6": "player_composite_factors", "7": "player_composite_factors", "8": "player_composite_factors", '
    '"9": "calculated", "10": "calculated", "11": "calculated", "12": "calculated", '
    '"13": "team_defense_zone_analysis", "14": "team_defense_zone_analysis", '
    '"15": "upcoming_player_game_context", "16": "upcoming_player_game_context", '
    '"17": "upcoming_player_game_context", "18": "player_shot_zone_analysis", '
    '"19": "player_shot_zone_analysis", "20": "player_shot_zone_analysis", "21": "calculated", '
    '"22": "team_offense_game_summary", "23": "team_offense_game_summary", "24": "calculated", '
    '"25": "odds_api", "26": "odds_api", "27": "calculated", "28": "calculated", '
    '"29": "player_game_summary", "30": "player_game_summary", "31": "player_daily_cache", '
    '"32": "player_daily_cache", "33": "calculated", "34": "calculated", "35": "calculated", '
    '"36": "calculated"}'
)


def tags_with(base: list[str], **ranges: str) -> list[str]:
    """`base` with index spans relabelled: tags_with(A, _5_8="default", _28="missing")."""
    out = list(base)
    for span, label in ranges.items():
        lo, _, hi = span.strip("_").partition("_")
        for i in range(int(lo), int(hi or lo) + 1):
            out[i] = label
    return out


# docs/quality.md §9: the tag patterns of the worked cases A-H (indices not mentioned are as in A).
def case_a() -> list[str]:
    tags = [None] * 37
    for i in [*range(0, 9), 13, 14, *range(18, 21), 22, 23]:
        tags[i] = "phase4"
    for i in [*range(9, 13), 21, 24, 28, *range(33, 37)]:
        tags[i] = "calculated"
    for i in range(15, 18):
        tags[i] = "phase3"
    for i in range(25, 28):
        tags[i] = "vegas"
    tags[29] = tags[30] = "opponent_history"
    tags[31] = tags[32] = "minutes_ppm"
    assert None not in tags
    return tags


A = case_a()
B = tags_with(A, _25_27="missing")
C = tags_with(B, _5_8="default")
D = tags_with(A, _5_8="default", _13_14="default")
E = tags_with(A, _5_8="default")
F = tags_with(
    A,
    _0_2="phase3",
    _3_4="default",
    _5_8="default",
    _18_20="missing",
    _22_23="default",
    _25_27="missing",
    _13_14="phase4",
    _29_30="opponent_history",
    _31_32="minutes_ppm",
)
G = tags_with(F, _0_2="default", _31_32="fallback")
H = tags_with(A, _29_30="fallback")
CASES = {"A": A, "B": B, "C": C, "D": D, "E": E, "F": F, "G": G, "H": H}


def tier(x: float) -> str:
    if x >= 95:
        return "gold"
    if x >= 85:
        return "silver"
    if x >= 70:
        return "bronze"
    if x >= 50:
        return "poor"
    return "critical"


def classify(tag):
    if tag is None:
        return ABSENT_INDEX
    return TAG_TABLE.get(tag, UNKNOWN_LABEL)


def primary_source(labels: list) -> str:
    if not labels:
        return "unknown"
    p4 = sum(1 for t in labels if t == "phase4") / len(labels)
    p3 = sum(1 for t in labels if t == "phase3") / len(labels)
    if p4 >= 0.90:
        return "phase4"
    if p4 >= 0.50:
        return "phase4_partial"
    if p3 >= 0.50:
        return "phase3"
    return "mixed"


def generic_score(tag_map) -> tuple[float, str]:
    """docs/quality.md §10: (score, primary source) of a tag map {index: label} of any length."""
    if not isinstance(tag_map, dict):
        tag_map = dict(enumerate(tag_map))
    n = len(tag_map)
    if n == 0:
        return 0.0, "unknown"
    total = sum(float(classify(tag_map.get(i))[0]) for i in range(n))
    return round(total / n, 2), primary_source(list(tag_map.values()))


QUALITY_COLUMNS = (
    [
        "quality_tier",
        "quality_alert_level",
        "quality_alerts",
        "default_feature_count",
        "default_feature_indices",
        "required_default_count",
        "phase4_feature_count",
        "phase3_feature_count",
        "calculated_feature_count",
        "is_training_ready",
        "training_quality_feature_count",
        "is_quality_ready",
    ]
    + [f"{c}_quality_pct" for c in CATEGORY_INDICES]
    + [f"{c}_default_count" for c in CATEGORY_INDICES]
    + [
        "has_composite_factors",
        "has_opponent_defense",
        "has_vegas_line",
        "critical_features_training_quality",
        "critical_feature_count",
        "optional_feature_count",
        "matchup_quality_tier",
        "game_context_quality_tier",
    ]
    + [f"feature_{i}_quality" for i in range(N)]
    + [f"feature_{i}_source" for i in range(N)]
    + [
        "feature_fallback_reasons_json",
        "feature_sample_sizes_json",
        "feature_expected_values_json",
        "feature_value_ranges_valid_json",
        "feature_upstream_tables_json",
        "feature_last_updated_json",
        "feature_schema_version",
        "available_feature_names",
        "breakout_model_compatible",
        "breakout_v3_features_available",
        "upstream_processors_ran",
        "missing_processors",
        "feature_store_age_hours",
        "upstream_data_freshness_hours",
        "quality_computed_at",
        "quality_schema_version",
        "primary_data_source",
        "matchup_data_status",
    ]
)
ARRAY_COLUMNS = {"quality_alerts", "default_feature_indices", "available_feature_names", "breakout_model_compatible"}


def score_row(tags: list[str] | None, computed_at=None) -> dict:
    if tags is None:  # docs/quality.md §8
        row = {c: ([] if c in ARRAY_COLUMNS else None) for c in QUALITY_COLUMNS}
        return {"feature_quality_score": 0.0, "data_source": "early_season", **row}
    assert len(tags) == N, len(tags)
    weights, sources, defaulted = [], [], []
    for t in tags:
        w, s, d = classify(t)
        weights.append(w)
        sources.append(s)
        defaulted.append(d)

    score = round(sum(float(w) for w in weights) / N, 2)
    dflt = sum(defaulted)
    pct = {}
    row = {}
    for c, idx in CATEGORY_INDICES.items():
        values = [float(weights[i]) for i in idx]
        pct[c] = round(sum(values) / len(values), 1)
    matchup, game_context = pct["matchup"], pct["game_context"]

    alerts = []
    if all(defaulted[i] for i in CATEGORY_INDICES["matchup"]):
        alerts.append("all_matchup_features_defaulted")
    if any(defaulted[i] for i in COMPOSITE):
        alerts.append("composite_factors_missing")
    if any(defaulted[i] for i in OPPONENT_DEFENSE):
        alerts.append("opponent_defense_missing")
    if dflt / N > 0.20:
        alerts.append(f"high_default_rate_{round(100 * dflt / N)}pct")
    if matchup < 50:
        alerts.append("matchup_quality_critical")
    if game_context < 50:
        alerts.append("game_context_quality_critical")

    if matchup < 50 or score < 50:
        level = "red"
    elif dflt > 0 or score < 70 or matchup < 70:
        level = "yellow"
    else:
        level = "green"

    quality_tier = tier(score)
    row["quality_tier"] = quality_tier
    row["quality_alert_level"] = level
    row["quality_alerts"] = alerts
    row["default_feature_count"] = dflt
    row["default_feature_indices"] = [i for i in range(N) if defaulted[i]]
    row["required_default_count"] = sum(1 for i in range(N) if defaulted[i] and i not in OPTIONAL)
    row["phase4_feature_count"] = sources.count("phase4")
    row["phase3_feature_count"] = sources.count("phase3")
    row["calculated_feature_count"] = sources.count("calculated")
    row["is_training_ready"] = quality_tier in ("gold", "silver") and matchup >= 70 and pct["player_history"] >= 80
    row["training_quality_feature_count"] = sum(1 for w in weights if w >= TRAINING_THRESHOLD)
    row["is_quality_ready"] = (
        quality_tier in ("gold", "silver", "bronze") and score >= 70 and matchup >= 50 and dflt == 0
    )
    for c in CATEGORY_INDICES:
        row[f"{c}_quality_pct"] = pct[c]
    for c, idx in CATEGORY_INDICES.items():
        row[f"{c}_default_count"] = sum(1 for i in idx if defaulted[i])
    row["has_composite_factors"] = not any(defaulted[i] for i in COMPOSITE)
    row["has_opponent_defense"] = not any(defaulted[i] for i in OPPONENT_DEFENSE)
    row["has_vegas_line"] = not defaulted[28]
    row["critical_features_training_quality"] = all(weights[i] >= TRAINING_THRESHOLD for i in CRITICAL)
    row["critical_feature_count"] = sum(1 for i in CRITICAL if weights[i] >= TRAINING_THRESHOLD)
    row["optional_feature_count"] = sum(1 for i in range(N) if i not in CRITICAL and not defaulted[i])
    row["matchup_quality_tier"] = tier(matchup)
    row["game_context_quality_tier"] = tier(game_context)
    for i in range(N):
        row[f"feature_{i}_quality"] = float(weights[i])
    for i in range(N):
        row[f"feature_{i}_source"] = sources[i]
    row["feature_fallback_reasons_json"] = json.dumps({str(i): FALLBACK_REASONS[i] for i in range(N) if defaulted[i]})
    row["feature_sample_sizes_json"] = "{}"
    row["feature_expected_values_json"] = "{}"
    row["feature_value_ranges_valid_json"] = "{}"
    row["feature_upstream_tables_json"] = UPSTREAM_TABLES_JSON
    row["feature_last_updated_json"] = "{}"
    row["feature_schema_version"] = "v2_37features"
    row["available_feature_names"] = list(FEATURE_NAMES)
    row["breakout_model_compatible"] = ["v2_14features"]
    row["breakout_v3_features_available"] = False
    row["upstream_processors_ran"] = None
    row["missing_processors"] = None
    row["feature_store_age_hours"] = 0.0
    row["upstream_data_freshness_hours"] = None
    row["quality_computed_at"] = computed_at
    row["quality_schema_version"] = "v1_hybrid_20260205"
    source = primary_source(list(tags))
    row["primary_data_source"] = source
    row["matchup_data_status"] = "MATCHUP_UNAVAILABLE" if matchup < 50 else "COMPLETE"
    assert list(row) == QUALITY_COLUMNS
    return {"feature_quality_score": score, "data_source": source, **row}


def feature_sources_json(tags: list[str]) -> str:
    """docs/output.md §4."""
    return json.dumps({str(i): t for i, t in enumerate(tags)})


# =========================================================================================
# Contract v2_54features, profile head-2026-07 (docs/v2_54/quality.md, docs/features.md §3),
# retyped from the spec. score_row_54(tags) -> every column `score()` returns for that
# profile; generic_score_54 = docs/v2_54/quality.md §9; CASES_54 = the patterns A-E of §8 with
# their table rows (EXPECTED_54).
# =========================================================================================

N54 = 60
TAG_TABLE_54 = {**TAG_TABLE, "bettingpros": (100, "bettingpros", False)}
CATEGORY_INDICES_54 = {
    "matchup": [5, 6, 7, 8, 13, 14],
    "player_history": [0, 1, 2, 3, 4, 29, 30, 31, 32, 33, 34, 35, 36, 37, 43, 44, 45, 46, 48, 49, 54, 55, 56, 58],
    "team_context": [22, 23, 24, 57],
    "vegas": [25, 26, 27, 28],
    "game_context": [9, 10, 11, 12, 15, 16, 17, 18, 19, 20, 21, 38, 39, 40, 41, 42, 47, 50, 51, 52, 53, 59],
}
OPTIONAL_54 = [25, 26, 27, *range(37, 60)]
REQUIRED_54 = [i for i in range(N54) if i not in OPTIONAL_54]
FEATURE_NAMES_54 = FEATURE_NAMES + [
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
FALLBACK_REASONS_54 = FALLBACK_REASONS + [
    "star_teammates_out_unavailable",
    "game_total_line_unavailable",
    "days_rest_unavailable",
    "minutes_load_unavailable",
    "spread_unavailable",
    "implied_team_total_unavailable",
    "rolling_stats_unavailable",
    "rolling_stats_unavailable",
    "rolling_stats_unavailable",
    "rolling_stats_unavailable",
    "dead_feature",
    "rolling_stats_unavailable",
    "rolling_stats_unavailable",
    "dead_feature",
    "prop_streaks_unavailable",
    "prop_streaks_unavailable",
    "line_vs_season_unavailable",
    "no_prior_line",
    "insufficient_prop_history",
    "insufficient_prop_history",
    "team_history_unavailable",
    "insufficient_minutes_history",
    "pace_unavailable",
]
# docs/v2_54/quality.md §6, verbatim
UPSTREAM_TABLES_JSON_54 = UPSTREAM_TABLES_JSON[:-1] + (
    ', "37": "upcoming_player_game_context", "38": "upcoming_player_game_context", '
    '"39": "upcoming_player_game_context", "40": "upcoming_player_game_context", '
    '"41": "upcoming_player_game_context", "42": "calculated", "43": "calculated", "44": "calculated", '
    '"45": "calculated", "46": "calculated", "47": "default", "48": "calculated", "49": "calculated", '
    '"50": "default", "51": "upcoming_player_game_context", "52": "upcoming_player_game_context", '
    '"53": "calculated", "54": "calculated", "55": "calculated", "56": "calculated", "57": "calculated", '
    '"58": "calculated", "59": "calculated"}'
)
_PER_FEATURE_AT = QUALITY_COLUMNS.index("feature_0_quality")
QUALITY_COLUMNS_54 = (
    QUALITY_COLUMNS[:_PER_FEATURE_AT]
    + [f"feature_{i}_quality" for i in range(N54)]
    + [f"feature_{i}_source" for i in range(N54)]
    + QUALITY_COLUMNS[_PER_FEATURE_AT + 2 * N :]
)


def classify_54(tag):
    if tag is None:
        return ABSENT_INDEX
    return TAG_TABLE_54.get(tag, UNKNOWN_LABEL)


def score_54(tags_by_index: dict) -> float:
    """docs/v2_54/quality.md §3 over indices 0..59 of a tag map (absent index = default)."""
    counted = [i for i in range(N54) if not (i in OPTIONAL_54 and classify_54(tags_by_index.get(i))[2])]
    raw = sum(classify_54(tags_by_index.get(i))[0] for i in counted) / len(counted)
    r = sum(1 for i in REQUIRED_54 if classify_54(tags_by_index.get(i))[2])
    if r >= 5:
        raw = min(raw, 49.0)
    elif r >= 1:
        raw = min(raw, 69.0)
    return round(raw, 2)


def generic_score_54(tag_map) -> tuple[float, str]:
    """docs/v2_54/quality.md §9: indices 0..min(n, 60)-1 scored; the primary source over the n labels."""
    if not isinstance(tag_map, dict):
        tag_map = dict(enumerate(tag_map))
    n = len(tag_map)
    if n == 0:
        return 0.0, "unknown"
    m = min(n, N54)
    counted = [i for i in range(m) if not (i in OPTIONAL_54 and classify_54(tag_map.get(i))[2])]
    raw = sum(classify_54(tag_map.get(i))[0] for i in counted) / len(counted)
    r = sum(1 for i in REQUIRED_54 if i < m and classify_54(tag_map.get(i))[2])
    if r >= 5:
        raw = min(raw, 49.0)
    elif r >= 1:
        raw = min(raw, 69.0)
    return round(raw, 2), primary_source(list(tag_map.values()))


def score_row_54(tags: list[str] | None, computed_at=None) -> dict:
    if tags is None:  # docs/v2_54/quality.md §7
        row = {c: ([] if c in ARRAY_COLUMNS else None) for c in QUALITY_COLUMNS_54}
        return {"feature_quality_score": 0.0, "data_source": "early_season", **row}
    assert len(tags) == N54, len(tags)
    rules = [classify_54(t) for t in tags]
    weights = [w for w, _, _ in rules]
    sources = [s for _, s, _ in rules]
    defaulted = [d for _, _, d in rules]
    score = score_54(dict(enumerate(tags)))
    dflt = sum(defaulted)
    required = sum(1 for i in REQUIRED_54 if defaulted[i])
    pct = {c: round(sum(float(weights[i]) for i in idx) / len(idx), 1) for c, idx in CATEGORY_INDICES_54.items()}
    matchup, game_context = pct["matchup"], pct["game_context"]

    alerts = []
    if all(defaulted[i] for i in CATEGORY_INDICES_54["matchup"]):
        alerts.append("all_matchup_features_defaulted")
    if any(defaulted[i] for i in COMPOSITE):
        alerts.append("composite_factors_missing")
    if any(defaulted[i] for i in OPPONENT_DEFENSE):
        alerts.append("opponent_defense_missing")
    if dflt / 60 > 0.20:
        alerts.append(f"high_default_rate_{round(dflt / 60 * 100)}pct")
    if matchup < 50:
        alerts.append("matchup_quality_critical")
    if game_context < 50:
        alerts.append("game_context_quality_critical")
    if matchup < 50 or score < 50:
        level = "red"
    elif required > 0 or score < 70 or matchup < 70:
        level = "yellow"
    else:
        level = "green"
    quality_tier = tier(score)
    row = {
        "quality_tier": quality_tier,
        "quality_alert_level": level,
        "quality_alerts": alerts,
        "default_feature_count": dflt,
        "default_feature_indices": [i for i in range(N54) if defaulted[i]],
        "required_default_count": required,
        "phase4_feature_count": sources.count("phase4"),
        "phase3_feature_count": sources.count("phase3"),
        "calculated_feature_count": sources.count("calculated"),
        "is_training_ready": quality_tier in ("gold", "silver") and matchup >= 70 and pct["player_history"] >= 80,
        "training_quality_feature_count": sum(1 for w in weights if w >= TRAINING_THRESHOLD),
        "is_quality_ready": quality_tier in ("gold", "silver", "bronze")
        and score >= 70
        and matchup >= 50
        and required == 0,
    }
    for c in CATEGORY_INDICES_54:
        row[f"{c}_quality_pct"] = pct[c]
    for c, idx in CATEGORY_INDICES_54.items():
        row[f"{c}_default_count"] = sum(1 for i in idx if defaulted[i])
    row["has_composite_factors"] = not any(defaulted[i] for i in COMPOSITE)
    row["has_opponent_defense"] = not any(defaulted[i] for i in OPPONENT_DEFENSE)
    row["has_vegas_line"] = not defaulted[28]
    row["critical_features_training_quality"] = all(weights[i] >= TRAINING_THRESHOLD for i in CRITICAL)
    row["critical_feature_count"] = sum(1 for i in CRITICAL if weights[i] >= TRAINING_THRESHOLD)
    row["optional_feature_count"] = sum(1 for i in range(N54) if i not in CRITICAL and not defaulted[i])
    row["matchup_quality_tier"] = tier(matchup)
    row["game_context_quality_tier"] = tier(game_context)
    for i in range(N54):
        row[f"feature_{i}_quality"] = float(weights[i])
    for i in range(N54):
        row[f"feature_{i}_source"] = sources[i]
    row["feature_fallback_reasons_json"] = json.dumps(
        {str(i): FALLBACK_REASONS_54[i] for i in range(N54) if defaulted[i]}
    )
    row["feature_sample_sizes_json"] = "{}"
    row["feature_expected_values_json"] = "{}"
    row["feature_value_ranges_valid_json"] = "{}"
    row["feature_upstream_tables_json"] = UPSTREAM_TABLES_JSON_54
    row["feature_last_updated_json"] = "{}"
    row["feature_schema_version"] = "v2_60features"
    row["available_feature_names"] = list(FEATURE_NAMES_54)
    row["breakout_model_compatible"] = ["v2_14features"]
    row["breakout_v3_features_available"] = False
    row["upstream_processors_ran"] = None
    row["missing_processors"] = None
    row["feature_store_age_hours"] = 0.0
    row["upstream_data_freshness_hours"] = None
    row["quality_computed_at"] = computed_at
    row["quality_schema_version"] = "v1_hybrid_20260205"
    source = primary_source(list(tags))
    row["primary_data_source"] = source
    row["matchup_data_status"] = "MATCHUP_UNAVAILABLE" if matchup < 50 else "COMPLETE"
    assert list(row) == QUALITY_COLUMNS_54
    return {"feature_quality_score": score, "data_source": source, **row}


# docs/v2_54/quality.md §8: tag patterns A-E.
def case_a_54() -> list[str]:
    tags = A + [None] * 23
    for i in [*range(37, 43), 51, 52]:
        tags[i] = "phase3"
    for i in [*range(43, 50), 53, *range(55, 60)]:
        tags[i] = "calculated"
    tags[50] = tags[54] = "vegas"
    assert None not in tags
    return tags


A54 = case_a_54()
B54 = tags_with(A54, _25_27="missing", _47="missing", _50="missing", _53_56="missing")
C54 = tags_with(B54, _5_8="default")
D54 = tags_with(
    A54,
    _5_8="default",
    _13_14="default",
    _37="default",
    _25_27="missing",
    _38_42="missing",
    _47="missing",
    _50_56="missing",
)
E54 = tags_with(A54, _50="bettingpros")
CASES_54 = {"A": A54, "B": B54, "C": C54, "D": D54, "E": E54}

# The table of docs/v2_54/quality.md §8, column by column.
EXPECTED_54 = {
    "feature_quality_score": {"A": 97.12, "B": 96.61, "C": 69.0, "D": 49.0, "E": 97.12},
    "required_default_count": {"A": 0, "B": 0, "C": 4, "D": 6, "E": 0},
    "quality_tier": {"A": "gold", "B": "gold", "C": "poor", "D": "critical", "E": "gold"},
    "default_feature_count": {"A": 0, "B": 9, "C": 13, "D": 23, "E": 0},
    "default_feature_indices": {
        "A": [],
        "B": [25, 26, 27, 47, 50, 53, 54, 55, 56],
        "C": [5, 6, 7, 8, 25, 26, 27, 47, 50, 53, 54, 55, 56],
        "D": [5, 6, 7, 8, 13, 14, 25, 26, 27, 37, 38, 39, 40, 41, 42, 47, 50, 51, 52, 53, 54, 55, 56],
        "E": [],
    },
    "quality_alert_level": {"A": "green", "B": "green", "C": "yellow", "D": "red", "E": "green"},
    "quality_alerts": {
        "A": [],
        "B": [],
        "C": ["composite_factors_missing", "high_default_rate_22pct"],
        "D": [
            "all_matchup_features_defaulted",
            "composite_factors_missing",
            "opponent_defense_missing",
            "high_default_rate_38pct",
            "matchup_quality_critical",
        ],
        "E": [],
    },
    "phase4_feature_count": {"A": 25, "B": 20, "C": 16, "D": 14, "E": 24},
    "phase3_feature_count": {"A": 11, "B": 11, "C": 11, "D": 3, "E": 11},
    "calculated_feature_count": {"A": 24, "B": 20, "C": 20, "D": 20, "E": 24},
    "matchup_quality_pct": {"A": 100.0, "B": 100.0, "C": 60.0, "D": 40.0, "E": 100.0},
    "player_history_quality_pct": {"A": 98.2, "B": 85.7, "C": 85.7, "D": 83.8, "E": 98.2},
    "team_context_quality_pct": {"A": 100.0, "B": 100.0, "C": 100.0, "D": 100.0, "E": 100.0},
    "vegas_quality_pct": {"A": 100.0, "B": 25.0, "C": 25.0, "D": 25.0, "E": 100.0},
    "game_context_quality_pct": {"A": 94.1, "B": 80.5, "C": 80.5, "D": 52.8, "E": 94.1},
    "matchup_default_count": {"A": 0, "B": 0, "C": 4, "D": 6, "E": 0},
    "player_history_default_count": {"A": 0, "B": 3, "C": 3, "D": 4, "E": 0},
    "team_context_default_count": {"A": 0, "B": 0, "C": 0, "D": 0, "E": 0},
    "vegas_default_count": {"A": 0, "B": 3, "C": 3, "D": 3, "E": 0},
    "game_context_default_count": {"A": 0, "B": 3, "C": 3, "D": 10, "E": 0},
    "is_training_ready": {"A": True, "B": True, "C": False, "D": False, "E": True},
    "training_quality_feature_count": {"A": 60, "B": 51, "C": 47, "D": 37, "E": 60},
    "is_quality_ready": {"A": True, "B": True, "C": False, "D": False, "E": True},
    "optional_feature_count": {"A": 54, "B": 45, "C": 45, "D": 37, "E": 54},
    "critical_feature_count": {"A": 6, "B": 6, "C": 2, "D": 0, "E": 6},
    "matchup_quality_tier": {"A": "gold", "B": "gold", "C": "poor", "D": "critical", "E": "gold"},
    "game_context_quality_tier": {"A": "silver", "B": "bronze", "C": "bronze", "D": "poor", "E": "silver"},
    "matchup_data_status": {
        "A": "COMPLETE",
        "B": "COMPLETE",
        "C": "COMPLETE",
        "D": "MATCHUP_UNAVAILABLE",
        "E": "COMPLETE",
    },
}
