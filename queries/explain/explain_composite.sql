-- explain_composite: the composite-factor row(s) behind one (player, D), as evidence.
-- What: whether the table has any row at game_date = D (else the table-level fallback of Q2
--   fires: fatigue and usage from the latest row in [D - composite_fallback_days, D],
--   shot_zone_mismatch and pace forced to 0.0), and the player's candidate rows at the chosen
--   date, `chosen` marking the tie-break pick (§0.2). Always at least one row.
-- Inputs: view composite; $player, $game_date, $composite_fallback_days.
-- Output: table_has_rows_at_date, fallback_fired, candidates, chosen, then the columns of docs/sources.md §2.4.
-- Spec: docs/features.md §3 Q2.
WITH day AS (
    SELECT count(*) > 0 AS table_has_rows_at_date FROM composite WHERE game_date = $game_date
),
eligible AS (
    SELECT c.*
    FROM composite AS c CROSS JOIN day
    WHERE c.player_lookup = $player
      AND ((day.table_has_rows_at_date AND c.game_date = $game_date)
           OR (NOT day.table_has_rows_at_date
               AND c.game_date BETWEEN $game_date - $composite_fallback_days AND $game_date))
),
at_chosen_date AS (
    SELECT * FROM eligible WHERE game_date = (SELECT max(game_date) FROM eligible)
),
ranked AS (
    SELECT
        count(*) OVER () AS candidates,
        row_number() OVER (
            ORDER BY /*tiebreak composite*/
        ) = 1 AS chosen,
        *
    FROM at_chosen_date
)
SELECT day.table_has_rows_at_date, NOT day.table_has_rows_at_date AS fallback_fired, ranked.*
FROM day LEFT JOIN ranked ON TRUE
ORDER BY ranked.chosen DESC NULLS LAST
