-- v54_h_line_history: extraction H of docs/v2_54/features.md §4 (features 55, 56) — the PGS rows
-- joined with their graded line, games_ago <= 10, per non-placeholder spine row.
-- Inputs: spine, pgs, prediction_accuracy; $line_history_window_days (60), $last10_size.
-- Output: player_lookup, game_date (D), games_ago (1 = newest), points, line_e9 (the graded
--   line x 10^9, exact).
-- Rule: line(p, d) = MAX(line_value) over all prediction_accuracy rows of (p, d), every
-- system, line_value > 0, recommendation IN ('OVER', 'UNDER') [quirk]; joined rows = p's PGS
-- rows with points NOT NULL and game_date in [D - 60, D - 1] that have a line; numbered
-- newest first by game_date DESC, game_id ASC, then points (the selected columns, §0.8).
-- How (no (key, row-in-window) pairs): one window pass numbers each player's joined rows in
-- that order reversed (game_seq 1 = oldest; rows tied on every key carry the same output
-- columns); ASOF joins on the per-date running count give the rows before D (last) and
-- before D - window (first), and games_ago g is the row game_seq = last - g + 1 for
-- g <= min($last10_size, last - first). Spine keys are unique.
WITH keys AS (
    SELECT player_lookup, game_date, ROW_NUMBER() OVER (ORDER BY player_lookup, game_date) AS key_order
    FROM spine WHERE NOT is_placeholder
),
graded AS (
    SELECT player_lookup, game_date,
           max(CAST(CAST(line_value AS DECIMAL(38, 9)) * 1000000000 AS BIGINT)) AS line_e9
    FROM prediction_accuracy
    WHERE line_value > 0 AND recommendation IN ('OVER', 'UNDER')
    GROUP BY player_lookup, game_date
),
games AS (
    SELECT p.player_lookup, p.game_date, p.points, g.line_e9,
           ROW_NUMBER() OVER (
               PARTITION BY p.player_lookup
               ORDER BY p.game_date ASC, p.game_id DESC NULLS FIRST, p.points DESC NULLS FIRST
           ) AS game_seq
    FROM pgs p
    JOIN graded g ON g.player_lookup = p.player_lookup AND g.game_date = p.game_date
    WHERE p.points IS NOT NULL AND p.player_lookup IN (SELECT player_lookup FROM keys)
),
seq_through_date AS (
    SELECT player_lookup, game_date, max(game_seq) AS game_seq FROM games GROUP BY player_lookup, game_date
),
bounded AS (
    SELECT k.player_lookup, k.game_date, k.key_order, coalesce(l.game_seq, 0) AS last_seq,
           least(CAST($last10_size AS BIGINT), coalesce(l.game_seq, 0) - coalesce(f.game_seq, 0)) AS listed
    FROM keys k
    ASOF LEFT JOIN seq_through_date l
        ON l.player_lookup = k.player_lookup AND k.game_date > l.game_date
    ASOF LEFT JOIN seq_through_date f
        ON f.player_lookup = k.player_lookup
       AND k.game_date - CAST($line_history_window_days AS INTEGER) > f.game_date
),
wanted AS (
    SELECT b.player_lookup, b.game_date, b.key_order, s.games_ago, b.last_seq - s.games_ago + 1 AS game_seq
    FROM bounded b
    JOIN range(1, CAST($last10_size AS BIGINT) + 1) s(games_ago) ON s.games_ago <= b.listed
)
SELECT w.player_lookup, w.game_date, CAST(w.games_ago AS BIGINT) AS games_ago, g.points, g.line_e9
FROM wanted w
JOIN games g ON g.player_lookup = w.player_lookup AND g.game_seq = w.game_seq
ORDER BY w.key_order, w.games_ago
