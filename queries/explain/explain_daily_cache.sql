-- explain_daily_cache: the daily-cache row(s) behind one (player, D), as evidence.
-- What: whether the table has any row at cache_date = D (else the table-level fallback of Q1
--   fires), and the player's candidate rows at the chosen date: D itself, or under the
--   fallback the greatest cache_date in [D - daily_cache_fallback_days, D]. Duplicates at the
--   chosen date are all listed; `chosen` marks the one the tie-break of §0.2 takes.
--   Always at least one row: with no candidate, the table columns are NULL.
-- Inputs: view daily_cache; $player, $game_date, $daily_cache_fallback_days.
-- Output: table_has_rows_at_date, fallback_fired, candidates, chosen, then the columns of docs/sources.md §2.3.
-- Spec: docs/features.md §3 Q1.
WITH day AS (
    SELECT count(*) > 0 AS table_has_rows_at_date FROM daily_cache WHERE cache_date = $game_date
),
eligible AS (
    SELECT c.*
    FROM daily_cache AS c CROSS JOIN day
    WHERE c.player_lookup = $player
      AND ((day.table_has_rows_at_date AND c.cache_date = $game_date)
           OR (NOT day.table_has_rows_at_date
               AND c.cache_date BETWEEN $game_date - $daily_cache_fallback_days AND $game_date))
),
at_chosen_date AS (
    SELECT * FROM eligible WHERE cache_date = (SELECT max(cache_date) FROM eligible)
),
ranked AS (
    SELECT
        count(*) OVER () AS candidates,
        row_number() OVER (
            ORDER BY /*tiebreak daily_cache*/
        ) = 1 AS chosen,
        *
    FROM at_chosen_date
)
SELECT day.table_has_rows_at_date, NOT day.table_has_rows_at_date AS fallback_fired, ranked.*
FROM day LEFT JOIN ranked ON TRUE
ORDER BY ranked.chosen DESC NULLS LAST
