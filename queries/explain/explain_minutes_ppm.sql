-- explain_minutes_ppm: the player's games in the minutes / points-per-minute window (Q11).
-- What: PGS rows with game_date in [D - minutes_ppm_window_days, D - 1], newest first;
--   `counted` = minutes_played > 0 (only those enter features 31-32; DNPs drop out).
-- Inputs: view pgs; $player, $game_date, $minutes_ppm_window_days.
-- Output: counted, then the PGS columns of docs/sources.md §2.1.
-- Spec: docs/features.md §3 Q11.
SELECT COALESCE(minutes_played > 0, FALSE) AS counted,
       player_lookup, universal_player_id, game_id, game_date, team_abbr, opponent_team_abbr,
       season_year, points, minutes_played, ft_makes, is_dnp
FROM pgs
WHERE player_lookup = $player
  AND game_date BETWEEN $game_date - $minutes_ppm_window_days AND $game_date - 1
ORDER BY game_date DESC, game_id
