-- explain_last10: the last-10 list of one (player, D), as evidence for `fsengine explain`.
-- What: the player's PGS rows with game_date in [D - last10_window_days, D - 1], newest first,
--   ties by game_id then every column ascending NULLs last (docs/features.md §5, §0.2), first
--   last10_size rows. DNP and duplicated rows are kept, as the engine keeps them.
-- Inputs: view pgs; $player, $game_date, $last10_window_days, $last10_size.
-- Output: position (0 = newest), played (points not NULL and (minutes not NULL or points > 0)),
--   then the PGS columns of docs/sources.md §2.1.
-- Spec: docs/features.md §5, §3 Q6.
SELECT
    row_number() OVER (
        ORDER BY game_date DESC NULLS LAST, game_id ASC NULLS LAST,
                 /*tiebreak pgs*/
    ) - 1 AS position,
    points IS NOT NULL AND (minutes_played IS NOT NULL OR points > 0) AS played,
    player_lookup, universal_player_id, game_id, game_date, team_abbr, opponent_team_abbr,
    season_year, points, minutes_played, ft_makes, is_dnp
FROM pgs
WHERE player_lookup = $player
  AND game_date BETWEEN $game_date - $last10_window_days AND $game_date - 1
ORDER BY position
LIMIT $last10_size
