-- q03_shot_zone: Q3 of docs/features.md §3 — the shot-zone row of every (player, D).
-- Inputs: spine, shot_zone, $shot_zone_fallback_days.
-- Output: player_lookup, game_date, table_has_rows, row_found, source_date,
--   paint_rate_last_10, mid_range_rate_last_10, three_pt_rate_last_10 (DOUBLE, percent 0-100;
--   NULL rates of a found row stay NULL: they overwrite the daily-cache copies, §4.1).
-- Rule: the player's row at D when the table has any row at D; otherwise (table-level fallback)
-- the player's latest row in [D - fallback, D]. Ties: §0.2, docs/sources.md column order, NULLs last.
WITH keys AS (
    SELECT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
table_dates AS (
    SELECT DISTINCT analysis_date FROM shot_zone
),
keyed AS (
    SELECT k.player_lookup, k.game_date, (t.analysis_date IS NOT NULL) AS table_has_rows
    FROM keys k LEFT JOIN table_dates t ON t.analysis_date = k.game_date
),
candidates AS (
    SELECT k.game_date AS for_date, z.*
    FROM keyed k
    JOIN shot_zone z ON z.player_lookup = k.player_lookup AND z.analysis_date = k.game_date
    WHERE k.table_has_rows
    UNION ALL
    SELECT k.game_date AS for_date, z.*
    FROM keyed k
    JOIN shot_zone z
      ON z.player_lookup = k.player_lookup
     AND z.analysis_date BETWEEN k.game_date - $shot_zone_fallback_days AND k.game_date
    WHERE NOT k.table_has_rows
),
-- Only (player, D) with several candidates need the tie-break sort; the rest pass through.
contested AS (
    SELECT player_lookup, for_date FROM candidates GROUP BY player_lookup, for_date HAVING
           count(*) > 1
),
chosen AS (
    SELECT c.for_date, c.player_lookup, c.analysis_date, c.paint_rate_last_10,
           c.mid_range_rate_last_10, c.three_pt_rate_last_10
    FROM candidates c
    WHERE NOT EXISTS (
        SELECT 1 FROM contested m
        WHERE m.player_lookup = c.player_lookup AND m.for_date = c.for_date)
    UNION ALL
    SELECT for_date, player_lookup, analysis_date, paint_rate_last_10, mid_range_rate_last_10,
           three_pt_rate_last_10
    FROM (
        SELECT c.*,
               ROW_NUMBER() OVER (
                   PARTITION BY c.player_lookup, c.for_date
                   ORDER BY c.analysis_date DESC NULLS LAST,
                        /*tiebreak shot_zone AS c*/
               ) AS pick
        FROM candidates c
        JOIN contested m ON m.player_lookup = c.player_lookup AND m.for_date = c.for_date
    ) ranked
    WHERE pick = 1
)
SELECT k.player_lookup, k.game_date, k.table_has_rows,
       (r.analysis_date IS NOT NULL) AS row_found,
       r.analysis_date AS source_date,
       CAST(r.paint_rate_last_10 AS DOUBLE) AS paint_rate_last_10,
       CAST(r.mid_range_rate_last_10 AS DOUBLE) AS mid_range_rate_last_10,
       CAST(r.three_pt_rate_last_10 AS DOUBLE) AS three_pt_rate_last_10
FROM keyed k
LEFT JOIN chosen r ON r.player_lookup = k.player_lookup AND r.for_date = k.game_date
