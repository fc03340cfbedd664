-- assembly_inputs: every spine row with the extraction results the assembly reads
-- (docs/features.md §4), one row per (player_lookup, game_date), sorted by those keys.
-- Inputs: spine, q01_daily_cache, q02_composite_factors, q03_shot_zone, q04_team_defense,
--   q05_player_context, q08_team_games, q09_vegas_lines.
-- Output: the spine columns, then per extraction its columns prefixed dc_ (Q1), cf_ (Q2),
--   sz_ (Q3), td_ (Q4), ctx_ (Q5), tg_ (Q8), vg_ (Q9). A NULL *_row_found means the
--   extraction has no row for the spine row (placeholders, players without a line, ...).
SELECT s.player_lookup, s.game_date, s.universal_player_id, s.game_id, s.opponent_team_abbr, s.is_home,
       s.season_year, s.is_placeholder,
       dc.row_found AS dc_row_found,
       dc.points_avg_last_5 AS dc_points_avg_last_5,
       dc.points_avg_last_10 AS dc_points_avg_last_10,
       dc.points_avg_season AS dc_points_avg_season,
       dc.points_std_last_10 AS dc_points_std_last_10,
       dc.games_in_last_7_days AS dc_games_in_last_7_days,
       dc.paint_rate_last_10 AS dc_paint_rate_last_10,
       dc.three_pt_rate_last_10 AS dc_three_pt_rate_last_10,
       dc.team_pace_last_10 AS dc_team_pace_last_10,
       dc.team_off_rating_last_10 AS dc_team_off_rating_last_10,
       dc.minutes_avg_last_10 AS dc_minutes_avg_last_10,
       cf.composite_fallback AS cf_composite_fallback,
       cf.row_found AS cf_row_found,
       cf.fatigue_score AS cf_fatigue_score,
       cf.shot_zone_mismatch_score AS cf_shot_zone_mismatch_score,
       cf.pace_score AS cf_pace_score,
       cf.usage_spike_score AS cf_usage_spike_score,
       sz.row_found AS sz_row_found,
       sz.paint_rate_last_10 AS sz_paint_rate_last_10,
       sz.mid_range_rate_last_10 AS sz_mid_range_rate_last_10,
       sz.three_pt_rate_last_10 AS sz_three_pt_rate_last_10,
       td.row_found AS td_row_found,
       td.opponent_def_rating AS td_opponent_def_rating,
       td.opponent_pace AS td_opponent_pace,
       ctx.row_found AS ctx_row_found,
       ctx.team_abbr AS ctx_team_abbr,
       ctx.home_game AS ctx_home_game,
       ctx.back_to_back AS ctx_back_to_back,
       ctx.season_phase AS ctx_season_phase,
       ctx.days_rest AS ctx_days_rest,
       ctx.opponent_days_rest AS ctx_opponent_days_rest,
       ctx.player_status AS ctx_player_status,
       tg.team_games AS tg_team_games,
       tg.team_wins AS tg_team_wins,
       vg.vegas_points_line AS vg_vegas_points_line,
       vg.vegas_opening_line AS vg_vegas_opening_line,
       vg.vegas_line_move AS vg_vegas_line_move
FROM spine s
LEFT JOIN q01_daily_cache dc ON dc.player_lookup = s.player_lookup AND dc.game_date = s.game_date
LEFT JOIN q02_composite_factors cf ON cf.player_lookup = s.player_lookup AND cf.game_date = s.game_date
LEFT JOIN q03_shot_zone sz ON sz.player_lookup = s.player_lookup AND sz.game_date = s.game_date
LEFT JOIN q04_team_defense td ON td.player_lookup = s.player_lookup AND td.game_date = s.game_date
LEFT JOIN q05_player_context ctx ON ctx.player_lookup = s.player_lookup AND ctx.game_date = s.game_date
LEFT JOIN q08_team_games tg ON tg.player_lookup = s.player_lookup AND tg.game_date = s.game_date
LEFT JOIN q09_vegas_lines vg ON vg.player_lookup = s.player_lookup AND vg.game_date = s.game_date
ORDER BY s.game_date, s.player_lookup
