-- v54_r_rolling: extraction R of docs/v2_54/features.md §4 (features 43-46, 48, 49) — the rows the
-- rolling statistics are computed from, per non-placeholder spine row.
-- Inputs: spine, pgs; $rolling_stats_window_days (60).
-- Output: player_lookup, game_date (D), seq (1 = oldest), points, usage_e9 (usage_rate x 10^9,
--   NULL kept), team_abbr, row_date.
-- Rule: the player's PGS rows with game_date in [D - window, D - 1], points NOT NULL,
-- minutes_played > 0, ordered game_date ASC, game_id ASC, then the selected columns in docs/sources.md order (§0.8).
-- Join cost: the range join is split on an equality bucket of width window + 1 days: a row
-- dated in [D - window, D - 1] lies in D's bucket or the one before, so each key is joined
-- twice (b, b - 1) against the player's rows of one bucket instead of every season of
-- the player (quadratic in the history length on multi-season worlds); the rows are the same.
WITH keys AS (
    SELECT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
bucketed_keys AS (
    SELECT player_lookup, game_date, (game_date - DATE '1900-01-01') // (CAST($rolling_stats_window_days AS INTEGER) + 1) AS bucket FROM keys
    UNION ALL
    SELECT player_lookup, game_date, (game_date - DATE '1900-01-01') // (CAST($rolling_stats_window_days AS INTEGER) + 1) - 1 FROM keys
),
bucketed_pgs AS (
    SELECT p.*, (p.game_date - DATE '1900-01-01') // (CAST($rolling_stats_window_days AS INTEGER) + 1) AS bucket FROM pgs p
)
SELECT k.player_lookup, k.game_date,
       CAST(ROW_NUMBER() OVER (
           PARTITION BY k.player_lookup, k.game_date
           ORDER BY p.game_date ASC, p.game_id ASC NULLS LAST, p.team_abbr ASC NULLS LAST,
                    p.points ASC NULLS LAST, p.minutes_played ASC NULLS LAST, p.usage_rate ASC NULLS LAST
       ) AS BIGINT) AS seq,
       p.points,
       CAST(CAST(p.usage_rate AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS usage_e9,
       p.team_abbr, p.game_date AS row_date
FROM bucketed_keys k
JOIN bucketed_pgs p
  ON p.player_lookup = k.player_lookup AND p.bucket = k.bucket
 AND p.game_date BETWEEN k.game_date - CAST($rolling_stats_window_days AS INTEGER) AND k.game_date - 1
WHERE p.points IS NOT NULL AND p.minutes_played > 0
ORDER BY 1, 2, 3
