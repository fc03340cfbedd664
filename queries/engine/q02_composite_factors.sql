-- q02_composite_factors: Q2 of docs/features.md §3 — the composite-factors row of every (player, D).
-- Inputs: spine, composite, $composite_fallback_days.
-- Output: player_lookup, game_date, composite_fallback (date-level: the table has no row at D),
--   row_found, source_date, fatigue_score, shot_zone_mismatch_score, pace_score,
--   usage_spike_score (DOUBLE). One row per non-placeholder spine row.
-- Rule: the player's row at D when the table has any row at D; otherwise (table-level fallback)
-- the player's latest row in [D - fallback, D], taking fatigue and usage from it while
-- shot_zone_mismatch_score and pace_score become 0.0 (present) [quirk]. Ties: §0.2 over every
-- column in docs/sources.md order, NULLs last.
WITH keys AS (
    SELECT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
table_dates AS (
    SELECT DISTINCT game_date FROM composite
),
keyed AS (
    SELECT k.player_lookup, k.game_date, (t.game_date IS NOT NULL) AS table_has_rows
    FROM keys k LEFT JOIN table_dates t ON t.game_date = k.game_date
),
candidates AS (
    SELECT k.game_date AS for_date, c.*
    FROM keyed k
    JOIN composite c ON c.player_lookup = k.player_lookup AND c.game_date = k.game_date
    WHERE k.table_has_rows
    UNION ALL
    SELECT k.game_date AS for_date, c.*
    FROM keyed k
    JOIN composite c
      ON c.player_lookup = k.player_lookup
     AND c.game_date BETWEEN k.game_date - $composite_fallback_days AND k.game_date
    WHERE NOT k.table_has_rows
),
-- Only (player, D) with several candidates need the tie-break sort; the rest pass through.
contested AS (
    SELECT player_lookup, for_date FROM candidates GROUP BY player_lookup, for_date HAVING
           count(*) > 1
),
chosen AS (
    SELECT c.for_date, c.player_lookup, c.game_date, c.fatigue_score,
           c.shot_zone_mismatch_score, c.pace_score, c.usage_spike_score
    FROM candidates c
    WHERE NOT EXISTS (
        SELECT 1 FROM contested m
        WHERE m.player_lookup = c.player_lookup AND m.for_date = c.for_date)
    UNION ALL
    SELECT for_date, player_lookup, game_date, fatigue_score, shot_zone_mismatch_score,
           pace_score, usage_spike_score
    FROM (
        SELECT c.*,
               ROW_NUMBER() OVER (
                   PARTITION BY c.player_lookup, c.for_date
                   ORDER BY c.game_date DESC NULLS LAST,
                        /*tiebreak composite AS c*/
               ) AS pick
        FROM candidates c
        JOIN contested m ON m.player_lookup = c.player_lookup AND m.for_date = c.for_date
    ) ranked
    WHERE pick = 1
)
SELECT k.player_lookup, k.game_date,
       (NOT k.table_has_rows) AS composite_fallback,
       (r.game_date IS NOT NULL) AS row_found,
       r.game_date AS source_date,
       CAST(r.fatigue_score AS DOUBLE) AS fatigue_score,
       CASE WHEN r.game_date IS NULL THEN NULL
            WHEN k.table_has_rows THEN CAST(r.shot_zone_mismatch_score AS DOUBLE)
            ELSE 0.0 END AS shot_zone_mismatch_score,
       CASE WHEN r.game_date IS NULL THEN NULL
            WHEN k.table_has_rows THEN CAST(r.pace_score AS DOUBLE)
            ELSE 0.0 END AS pace_score,
       CAST(r.usage_spike_score AS DOUBLE) AS usage_spike_score
FROM keyed k
LEFT JOIN chosen r ON r.player_lookup = k.player_lookup AND r.for_date = k.game_date
