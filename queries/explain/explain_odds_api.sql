-- explain_odds_api: the Odds API rows of one (player, D) and which snapshots Q9 picks.
-- What: every row with player_lookup = $player and game_date = D; `candidate` = points_line
--   not NULL and > 0; priority 0 for draftkings, 1 otherwise; among candidates,
--   `chosen_current` = first by (priority, snapshot_timestamp DESC, points_line ASC) and
--   `chosen_opening` = first by (priority, snapshot_timestamp ASC, points_line ASC), the
--   remaining columns breaking further ties (§0.2).
-- Inputs: view odds_api; $player, $game_date.
-- Output: candidate, priority, chosen_current, chosen_opening, then the columns of docs/sources.md §2.8.
-- Spec: docs/features.md §3 Q9.
WITH rows_of_player AS (
    SELECT
        *,
        COALESCE(points_line > 0, FALSE) AS candidate,
        CASE WHEN bookmaker = 'draftkings' THEN 0 ELSE 1 END AS priority
    FROM odds_api
    WHERE player_lookup = $player AND game_date = $game_date
)
SELECT
    candidate,
    priority,
    candidate AND row_number() OVER (
        PARTITION BY candidate
        ORDER BY priority ASC NULLS LAST, snapshot_timestamp DESC NULLS LAST, points_line ASC NULLS LAST, bookmaker ASC NULLS LAST,
                 minutes_before_tipoff ASC NULLS LAST
    ) = 1 AS chosen_current,
    candidate AND row_number() OVER (
        PARTITION BY candidate
        ORDER BY priority ASC NULLS LAST, snapshot_timestamp ASC NULLS LAST, points_line ASC NULLS LAST, bookmaker ASC NULLS LAST,
                 minutes_before_tipoff ASC NULLS LAST
    ) = 1 AS chosen_opening,
    player_lookup, game_date, bookmaker, points_line, snapshot_timestamp, minutes_before_tipoff
FROM rows_of_player
ORDER BY snapshot_timestamp DESC, priority, bookmaker, points_line
