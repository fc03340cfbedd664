-- q01_daily_cache: Q1 of docs/features.md §3 — the daily-cache row of every (player, D) of the spine.
-- Inputs: spine, daily_cache, $daily_cache_fallback_days.
-- Output: player_lookup, game_date, table_has_rows (the table has any row at D), row_found,
--   source_date, then as DOUBLE (P4 float(dec) / float(int)): points_avg_last_5,
--   points_avg_last_10, points_avg_season, points_std_last_10, games_in_last_7_days,
--   paint_rate_last_10, three_pt_rate_last_10, team_pace_last_10, team_off_rating_last_10,
--   minutes_avg_last_10. One row per non-placeholder spine row.
-- Rule: the player's row at D when the table has any row at D; otherwise (table-level,
-- all-or-nothing fallback) the player's latest row in [D - fallback, D]. Duplicates at the chosen
-- date: §0.2 tie-break over every column in docs/sources.md order, NULLs last.
WITH keys AS (
    SELECT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
table_dates AS (
    SELECT DISTINCT cache_date FROM daily_cache
),
keyed AS (
    SELECT k.player_lookup, k.game_date, (t.cache_date IS NOT NULL) AS table_has_rows
    FROM keys k LEFT JOIN table_dates t ON t.cache_date = k.game_date
),
candidates AS (
    SELECT k.game_date AS for_date, c.*
    FROM keyed k
    JOIN daily_cache c ON c.player_lookup = k.player_lookup AND c.cache_date = k.game_date
    WHERE k.table_has_rows
    UNION ALL
    SELECT k.game_date AS for_date, c.*
    FROM keyed k
    JOIN daily_cache c
      ON c.player_lookup = k.player_lookup
     AND c.cache_date BETWEEN k.game_date - $daily_cache_fallback_days AND k.game_date
    WHERE NOT k.table_has_rows
),
-- Only (player, D) with several candidates need the tie-break sort; the rest pass through.
contested AS (
    SELECT player_lookup, for_date FROM candidates GROUP BY player_lookup, for_date HAVING
           count(*) > 1
),
chosen AS (
    SELECT c.for_date, c.player_lookup, c.cache_date, c.points_avg_last_5, c.points_avg_last_10,
           c.points_avg_season, c.points_std_last_10, c.games_in_last_7_days,
           c.paint_rate_last_10, c.three_pt_rate_last_10, c.team_pace_last_10,
           c.team_off_rating_last_10, c.minutes_avg_last_10
    FROM candidates c
    WHERE NOT EXISTS (
        SELECT 1 FROM contested m
        WHERE m.player_lookup = c.player_lookup AND m.for_date = c.for_date)
    UNION ALL
    SELECT for_date, player_lookup, cache_date, points_avg_last_5, points_avg_last_10,
           points_avg_season, points_std_last_10, games_in_last_7_days, paint_rate_last_10,
           three_pt_rate_last_10, team_pace_last_10, team_off_rating_last_10,
           minutes_avg_last_10
    FROM (
        SELECT c.*,
               ROW_NUMBER() OVER (
                   PARTITION BY c.player_lookup, c.for_date
                   ORDER BY c.cache_date DESC NULLS LAST,
                        /*tiebreak daily_cache AS c*/
               ) AS pick
        FROM candidates c
        JOIN contested m ON m.player_lookup = c.player_lookup AND m.for_date = c.for_date
    ) ranked
    WHERE pick = 1
)
SELECT k.player_lookup, k.game_date, k.table_has_rows,
       (r.cache_date IS NOT NULL) AS row_found,
       r.cache_date AS source_date,
       CAST(r.points_avg_last_5 AS DOUBLE) AS points_avg_last_5,
       CAST(r.points_avg_last_10 AS DOUBLE) AS points_avg_last_10,
       CAST(r.points_avg_season AS DOUBLE) AS points_avg_season,
       CAST(r.points_std_last_10 AS DOUBLE) AS points_std_last_10,
       CAST(r.games_in_last_7_days AS DOUBLE) AS games_in_last_7_days,
       CAST(r.paint_rate_last_10 AS DOUBLE) AS paint_rate_last_10,
       CAST(r.three_pt_rate_last_10 AS DOUBLE) AS three_pt_rate_last_10,
       CAST(r.team_pace_last_10 AS DOUBLE) AS team_pace_last_10,
       CAST(r.team_off_rating_last_10 AS DOUBLE) AS team_off_rating_last_10,
       CAST(r.minutes_avg_last_10 AS DOUBLE) AS minutes_avg_last_10
FROM keyed k
LEFT JOIN chosen r ON r.player_lookup = k.player_lookup AND r.for_date = k.game_date
