-- explain_bettingpros: the BettingPros rows of one (player, D) and which one Q9 picks.
-- What: every row with player_lookup = $player and game_date = D; `candidate` = market_type
--   'points' and points_line not NULL and > 0 (any bookmaker, side, active or not);
--   `chosen` = first candidate by (created_at DESC, points_line ASC, opening_line ASC NULLS LAST).
-- Inputs: view bettingpros; $player, $game_date.
-- Output: candidate, chosen, then the columns of docs/sources.md §2.9.
-- Spec: docs/features.md §3 Q9.
WITH rows_of_player AS (
    SELECT *, COALESCE(market_type = 'points' AND points_line > 0, FALSE) AS candidate
    FROM bettingpros
    WHERE player_lookup = $player AND game_date = $game_date
)
SELECT
    candidate,
    candidate AND row_number() OVER (
        PARTITION BY candidate
        ORDER BY created_at DESC NULLS LAST, points_line ASC NULLS LAST, opening_line ASC NULLS LAST, market_type ASC NULLS LAST
    ) = 1 AS chosen,
    player_lookup, game_date, market_type, points_line, opening_line, created_at
FROM rows_of_player
ORDER BY created_at DESC, points_line
