-- v54_q05_player_context: the round-1 table q05_player_context of the head run (what
-- q08_team_games reads), taken from v54_player_context instead of a second UPGC scan and
-- tie-break; run_head_core renames it to q05_player_context.
-- Inputs: v54_player_context.
-- Output: the columns of q05_player_context.sql, in its order: player_lookup, game_date,
--   row_found, team_abbr, home_game, back_to_back, season_phase, days_rest, opponent_days_rest,
--   player_status.
-- Exact: v54_player_context has one row per spine key, the same keys, UPGC match and
-- tie-break (game_id, team_abbr, opponent_team_abbr, universal_player_id, then every UPGC
-- column, NULLs last) as q05_player_context.sql, so these columns are its rows.
SELECT player_lookup, game_date, row_found, team_abbr, home_game, back_to_back, season_phase,
       days_rest, opponent_days_rest, player_status
FROM v54_player_context
