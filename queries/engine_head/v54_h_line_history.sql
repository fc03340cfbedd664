-- v54_h_line_history: extraction H of docs/v2_54/features.md §4 (features 55, 56) — the PGS rows
-- joined with their graded line, games_ago <= 10, per non-placeholder spine row.
-- Inputs: spine, pgs, prediction_accuracy; $line_history_window_days (60), $last10_size.
-- Output: player_lookup, game_date (D), games_ago (1 = newest), points, line_e9 (the graded
--   line x 10^9, exact).
-- Rule: line(p, d) = MAX(line_value) over all prediction_accuracy rows of (p, d), every
-- system, line_value > 0, recommendation IN ('OVER', 'UNDER') [quirk]; joined rows = p's PGS
-- rows with points NOT NULL and game_date in [D - 60, D - 1] that have a line; numbered
-- newest first by game_date DESC, game_id ASC, then points (the selected columns, §0.8).
-- Join cost: the range join is split on an equality bucket of width window + 1 days: a row
-- dated in [D - window, D - 1] lies in D's bucket or the one before, so each key is joined
-- twice (b, b - 1) against the player's rows of one bucket instead of every season of
-- the player (quadratic in the history length on multi-season worlds); the rows are the same.
WITH keys AS (
    SELECT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
bucketed_keys AS (
    SELECT player_lookup, game_date, (game_date - DATE '1900-01-01') // (CAST($line_history_window_days AS INTEGER) + 1) AS bucket FROM keys
    UNION ALL
    SELECT player_lookup, game_date, (game_date - DATE '1900-01-01') // (CAST($line_history_window_days AS INTEGER) + 1) - 1 FROM keys
),
bucketed_pgs AS (
    SELECT p.*, (p.game_date - DATE '1900-01-01') // (CAST($line_history_window_days AS INTEGER) + 1) AS bucket FROM pgs p
),
graded AS (
    SELECT player_lookup, game_date,
           max(CAST(CAST(line_value AS DECIMAL(38, 9)) * 1000000000 AS BIGINT)) AS line_e9
    FROM prediction_accuracy
    WHERE line_value > 0 AND recommendation IN ('OVER', 'UNDER')
    GROUP BY player_lookup, game_date
),
joined AS (
    SELECT k.player_lookup AS key_player, k.game_date AS key_date, p.points, g.line_e9,
           ROW_NUMBER() OVER (
               PARTITION BY k.player_lookup, k.game_date
               ORDER BY p.game_date DESC, p.game_id ASC NULLS LAST, p.points ASC NULLS LAST
           ) AS games_ago
    FROM bucketed_keys k
    JOIN bucketed_pgs p
      ON p.player_lookup = k.player_lookup AND p.bucket = k.bucket
     AND p.game_date BETWEEN k.game_date - CAST($line_history_window_days AS INTEGER) AND k.game_date - 1
    JOIN graded g ON g.player_lookup = p.player_lookup AND g.game_date = p.game_date
    WHERE p.points IS NOT NULL
)
SELECT key_player AS player_lookup, key_date AS game_date, CAST(games_ago AS BIGINT) AS games_ago,
       points, line_e9
FROM joined WHERE games_ago <= $last10_size
ORDER BY 1, 2, 3
