-- explain_player_counts: counts behind historical_completeness and the season averages of one
-- (player, D), as evidence for `fsengine explain`.
-- What: total_games = the player's PGS rows in [D - total_games_window_days, D - 1] (Q6);
--   the season rows of Q7 (season_year = S, game_date in [Oct 1 of S, D - 1]) and how many
--   carry non-NULL points / minutes.
-- Inputs: view pgs; $player, $game_date, $total_games_window_days, $season_year, $season_oct1.
-- Output: one row: total_games, season_rows, season_rows_with_points, season_rows_with_minutes,
--   season_points_sum.
-- Spec: docs/features.md §3 Q6, Q7; §8.
SELECT
    count(*) FILTER (WHERE game_date BETWEEN $game_date - $total_games_window_days AND $game_date - 1) AS total_games,
    count(*) FILTER (WHERE season_year = $season_year AND game_date BETWEEN $season_oct1 AND $game_date - 1) AS season_rows,
    count(points) FILTER (WHERE season_year = $season_year AND game_date BETWEEN $season_oct1 AND $game_date - 1) AS season_rows_with_points,
    count(minutes_played) FILTER (WHERE season_year = $season_year AND game_date BETWEEN $season_oct1 AND $game_date - 1) AS season_rows_with_minutes,
    sum(points) FILTER (WHERE season_year = $season_year AND game_date BETWEEN $season_oct1 AND $game_date - 1) AS season_points_sum
FROM pgs
WHERE player_lookup = $player
