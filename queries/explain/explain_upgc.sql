-- explain_upgc: the player's UPGC (upcoming game context) rows at D, as evidence.
-- What: every UPGC row of (player, D); `chosen` marks the row Q5 uses: the tie-break of §0.2
--   with keys game_id, team_abbr, opponent_team_abbr, universal_player_id, then every column.
-- Inputs: view upgc; $player, $game_date.
-- Output: chosen, then the columns of docs/sources.md §2.2. No row: the player had no context row.
-- Spec: docs/features.md §3 Q5, §2.4.
SELECT
    row_number() OVER (
        ORDER BY game_id ASC NULLS LAST, team_abbr ASC NULLS LAST, opponent_team_abbr ASC NULLS LAST,
                 universal_player_id ASC NULLS LAST,
                 /*tiebreak upgc*/
    ) = 1 AS chosen,
    player_lookup, universal_player_id, game_id, game_date, team_abbr, opponent_team_abbr,
    home_game, back_to_back, season_phase, days_rest, opponent_days_rest, player_status
FROM upgc
WHERE player_lookup = $player AND game_date = $game_date
ORDER BY chosen DESC
