-- explain_opponent_games: the player's games against the opponent behind features 29-30.
-- What: PGS rows with player_lookup = $player, opponent_team_abbr = $opponent and game_date in
--   [D - opponent_window_years years, D - 1] (DNP and duplicate rows included), newest first.
--   An unknown opponent is passed as '' and matches nothing.
-- Inputs: view pgs; $player, $opponent, $game_date, $opponent_window_years.
-- Output: the PGS columns of docs/sources.md §2.1.
-- Spec: docs/features.md §3 Q10.
SELECT player_lookup, universal_player_id, game_id, game_date, team_abbr, opponent_team_abbr,
       season_year, points, minutes_played, ft_makes, is_dnp
FROM pgs
WHERE player_lookup = $player
  AND opponent_team_abbr = $opponent
  AND game_date BETWEEN CAST($game_date - $opponent_window_years * INTERVAL 1 YEAR AS DATE) AND $game_date - 1
ORDER BY game_date DESC, game_id
