-- v54_h_line_history: extraction H of docs/v2_54/features.md §4 (features 55, 56) — the PGS rows
-- joined with their graded line, games_ago <= 10, per non-placeholder spine row.
-- Inputs: spine, pgs, prediction_accuracy; $line_history_window_days (60), $last10_size, $start.
-- Output: player_lookup, game_date (D), games_ago (1 = newest), points, line_e9 (the graded
--   line x 10^9, exact).
-- Rule: line(p, d) = MAX(line_value) over all prediction_accuracy rows of (p, d), every
-- system, line_value > 0, recommendation IN ('OVER', 'UNDER') [quirk]; joined rows = p's PGS
-- rows with points NOT NULL and game_date in [D - 60, D - 1] that have a line; numbered
-- newest first by game_date DESC, game_id ASC, then points (the selected columns, §0.8).
-- How: one window pass numbers the joined rows by player, then that order reversed
-- (game_no; rows tied on every key carry the same output columns), so each player's rows
-- are consecutive numbers after the player's base; an ASOF join on the per-date running
-- number gives last(p, D), the number of p's newest row before D, and games_ago g is the row
-- game_no = last - g + 1 while it is p's (> base) and dated >= D - window. Equi-joins on
-- one integer only: no (key, row-in-window) pairs are built and sorted. The ASOF join matches on
-- the player's base (an integer unique per player), not the name: integers partition and sort
-- faster. Spine keys are unique.
-- Unordered: every reader counts and sums a key's rows by games_ago, in any order.
-- Rows dated before $start - window are in no key's window (every D >= $start, the spine's first
-- date bound) and are not read: the numbers are only used relative to a player's base.
WITH keys AS (
    SELECT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
graded AS (
    SELECT player_lookup, game_date,
           -- scaled after the max (rounding to 9 decimals is monotone): once per (p, d), not per row
           CAST(CAST(max(line_value) AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS line_e9
    FROM prediction_accuracy
    WHERE line_value > 0 AND recommendation IN ('OVER', 'UNDER')
    GROUP BY player_lookup, game_date
),
games AS (
    SELECT p.player_lookup, p.game_date, p.points, g.line_e9,
           ROW_NUMBER() OVER (
               ORDER BY p.player_lookup, p.game_date ASC, p.game_id DESC NULLS FIRST, p.points DESC NULLS FIRST
           ) AS game_no
    FROM pgs p
    JOIN graded g ON g.player_lookup = p.player_lookup AND g.game_date = p.game_date
    WHERE p.points IS NOT NULL AND p.game_date >= $start - CAST($line_history_window_days AS INTEGER)
      AND p.player_lookup IN (SELECT player_lookup FROM keys)
),
player_base AS (
    SELECT player_lookup, min(game_no) - 1 AS game_no FROM games GROUP BY player_lookup
),
no_through_date AS (
    SELECT b.game_no AS base_no, g.game_date, max(g.game_no) AS game_no
    FROM games g JOIN player_base b ON b.player_lookup = g.player_lookup
    GROUP BY b.game_no, g.game_date
),
bounded AS (
    SELECT k.game_date, b.game_no AS base_no, l.game_no AS last_no
    FROM keys k
    JOIN player_base b ON b.player_lookup = k.player_lookup
    ASOF JOIN no_through_date l ON l.base_no = b.game_no AND k.game_date > l.game_date
),
wanted AS (
    SELECT game_date, last_no,
           unnest(range(1, least(CAST($last10_size AS BIGINT), last_no - base_no) + 1)) AS games_ago
    FROM bounded
)
SELECT g.player_lookup, w.game_date, CAST(w.games_ago AS BIGINT) AS games_ago, g.points, g.line_e9
FROM wanted w
JOIN games g ON g.game_no = w.last_no - w.games_ago + 1
WHERE g.game_date >= w.game_date - CAST($line_history_window_days AS INTEGER)
