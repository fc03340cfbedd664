-- explain_shot_zone: the shot-zone row(s) behind one (player, D), as evidence.
-- What: whether the table has any row at analysis_date = D (else the table-level fallback of
--   Q3 fires: the player's latest row in [D - shot_zone_fallback_days, D]), and the player's
--   candidate rows at the chosen date, `chosen` marking the tie-break pick (§0.2).
--   Always at least one row.
-- Inputs: view shot_zone; $player, $game_date, $shot_zone_fallback_days.
-- Output: table_has_rows_at_date, fallback_fired, candidates, chosen, then the columns of docs/sources.md §2.5.
-- Spec: docs/features.md §3 Q3.
WITH day AS (
    SELECT count(*) > 0 AS table_has_rows_at_date FROM shot_zone WHERE analysis_date = $game_date
),
eligible AS (
    SELECT s.*
    FROM shot_zone AS s CROSS JOIN day
    WHERE s.player_lookup = $player
      AND ((day.table_has_rows_at_date AND s.analysis_date = $game_date)
           OR (NOT day.table_has_rows_at_date
               AND s.analysis_date BETWEEN $game_date - $shot_zone_fallback_days AND $game_date))
),
at_chosen_date AS (
    SELECT * FROM eligible WHERE analysis_date = (SELECT max(analysis_date) FROM eligible)
),
ranked AS (
    SELECT
        count(*) OVER () AS candidates,
        row_number() OVER (
            ORDER BY /*tiebreak shot_zone*/
        ) = 1 AS chosen,
        *
    FROM at_chosen_date
)
SELECT day.table_has_rows_at_date, NOT day.table_has_rows_at_date AS fallback_fired, ranked.*
FROM day LEFT JOIN ranked ON TRUE
ORDER BY ranked.chosen DESC NULLS LAST
