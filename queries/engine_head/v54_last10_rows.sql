-- v54_last10_rows: Q6′ of docs/v2_54/features.md §2.3 — the last-10 list of every non-placeholder
-- spine row, one output row per list element, with the columns the cache-miss fallback
-- (§2.4) and recent_trend (§2.7 feature 11) read.
-- Inputs: spine, pgs; $last10_window_days, $last10_size.
-- Output: player_lookup, game_date (D), slot (0 = newest), list_date, points, minutes_e9
--   (minutes_played x 10^9, exact for NUMERIC/INT64; NULL when NULL), minutes_float (DOUBLE),
--   is_dnp, fg_attempts, paint_attempts, mid_range_attempts, three_pt_attempts, team_abbr.
-- Rule: PGS rows of the player with game_date in [D - window, D - 1], ordered game_date DESC,
-- game_id ASC, then the selected columns in docs/sources.md order ascending NULLs last (§0.8); the first $last10_size.
-- Join cost: the range join is split on an equality bucket of width window + 1 days: a row
-- dated in [D - window, D - 1] lies in D's bucket or the one before, so each key is joined
-- twice (b, b - 1) against the player's rows of one bucket instead of every season of
-- the player (quadratic in the history length on multi-season worlds); the rows are the same.
WITH keys AS (
    SELECT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
bucketed_keys AS (
    SELECT player_lookup, game_date, (game_date - DATE '1900-01-01') // (CAST($last10_window_days AS INTEGER) + 1) AS bucket FROM keys
    UNION ALL
    SELECT player_lookup, game_date, (game_date - DATE '1900-01-01') // (CAST($last10_window_days AS INTEGER) + 1) - 1 FROM keys
),
bucketed_pgs AS (
    SELECT p.*, (p.game_date - DATE '1900-01-01') // (CAST($last10_window_days AS INTEGER) + 1) AS bucket FROM pgs p
),
ranked AS (
    SELECT k.player_lookup AS key_player, k.game_date AS key_date, p.*,
           ROW_NUMBER() OVER (
               PARTITION BY k.player_lookup, k.game_date
               ORDER BY p.game_date DESC, p.game_id ASC NULLS LAST, p.team_abbr ASC NULLS LAST,
                        p.points ASC NULLS LAST, p.minutes_played ASC NULLS LAST, p.is_dnp ASC NULLS LAST,
                        p.fg_attempts ASC NULLS LAST, p.paint_attempts ASC NULLS LAST,
                        p.mid_range_attempts ASC NULLS LAST, p.three_pt_attempts ASC NULLS LAST
           ) - 1 AS slot
    FROM bucketed_keys k
    JOIN bucketed_pgs p
      ON p.player_lookup = k.player_lookup AND p.bucket = k.bucket
     AND p.game_date BETWEEN k.game_date - CAST($last10_window_days AS INTEGER) AND k.game_date - 1
)
SELECT key_player AS player_lookup, key_date AS game_date, CAST(slot AS BIGINT) AS slot,
       game_date AS list_date, points,
       CAST(CAST(minutes_played AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS minutes_e9,
       CAST(minutes_played AS DOUBLE) AS minutes_float,
       is_dnp, fg_attempts, paint_attempts, mid_range_attempts, three_pt_attempts, team_abbr
FROM ranked
WHERE slot < $last10_size
ORDER BY player_lookup, game_date, slot
