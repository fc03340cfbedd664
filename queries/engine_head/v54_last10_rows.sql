-- v54_last10_rows: Q6′ of docs/v2_54/features.md §2.3 — the last-10 list of every non-placeholder
-- spine row, one output row per list element, with the columns the cache-miss fallback
-- (§2.4) and recent_trend (§2.7 feature 11) read.
-- Inputs: spine, pgs; $last10_window_days, $last10_size, $start.
-- Output: player_lookup, game_date (D), slot (0 = newest), list_date, points, minutes_e9
--   (minutes_played x 10^9, exact for NUMERIC/INT64; NULL when NULL), minutes_float (DOUBLE),
--   is_dnp, fg_attempts, paint_attempts, mid_range_attempts, three_pt_attempts, team_abbr.
-- Rule: PGS rows of the player with game_date in [D - window, D - 1], ordered game_date DESC,
-- game_id ASC, then the selected columns in docs/sources.md order ascending NULLs last (§0.8); the first $last10_size.
-- How: one window pass numbers the PGS rows by player, then the list order reversed (game_no;
-- rows tied on every key carry the same output columns), so each player's rows are
-- consecutive numbers after the player's base; an ASOF join on the per-date running number
-- gives last(p, D), the number of p's newest row before D, and slot s of (p, D) is the row
-- game_no = last - s while it is p's (> base) and dated >= D - window. Equi-joins on one
-- integer only: no (key, row-in-window) pairs are built and sorted. Spine keys are unique.
-- Unordered: the reader lays each key's rows out by slot (head_columns.Layout), so the rows
-- (millions) are not sorted here.
-- Rows dated before $start - window are in no key's window (every D >= $start, the spine's first
-- date bound) and are not read: the numbers are only used relative to a player's base.
WITH keys AS (
    SELECT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
games AS (
    SELECT p.player_lookup, p.game_date, p.points,
           CAST(CAST(p.minutes_played AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS minutes_e9,
           CAST(p.minutes_played AS DOUBLE) AS minutes_float,
           p.is_dnp, p.fg_attempts, p.paint_attempts, p.mid_range_attempts, p.three_pt_attempts, p.team_abbr,
           ROW_NUMBER() OVER (
               ORDER BY p.player_lookup, p.game_date ASC, p.game_id DESC NULLS FIRST, p.team_abbr DESC NULLS FIRST,
                        p.points DESC NULLS FIRST, p.minutes_played DESC NULLS FIRST, p.is_dnp DESC NULLS FIRST,
                        p.fg_attempts DESC NULLS FIRST, p.paint_attempts DESC NULLS FIRST,
                        p.mid_range_attempts DESC NULLS FIRST, p.three_pt_attempts DESC NULLS FIRST
           ) AS game_no
    FROM pgs p
    WHERE p.game_date >= $start - CAST($last10_window_days AS INTEGER)
      AND p.player_lookup IN (SELECT player_lookup FROM keys)
),
player_base AS (
    SELECT player_lookup, min(game_no) - 1 AS game_no FROM games GROUP BY player_lookup
),
no_through_date AS (
    SELECT player_lookup, game_date, max(game_no) AS game_no FROM games GROUP BY player_lookup, game_date
),
bounded AS (
    SELECT k.player_lookup, k.game_date, b.game_no AS base_no, l.game_no AS last_no
    FROM keys k
    JOIN player_base b ON b.player_lookup = k.player_lookup
    ASOF JOIN no_through_date l ON l.player_lookup = k.player_lookup AND k.game_date > l.game_date
),
wanted AS (
    SELECT game_date, last_no,
           unnest(range(least(CAST($last10_size AS BIGINT), last_no - base_no))) AS slot
    FROM bounded
)
SELECT g.player_lookup, w.game_date, CAST(w.slot AS BIGINT) AS slot, g.game_date AS list_date, g.points,
       g.minutes_e9, g.minutes_float, g.is_dnp, g.fg_attempts, g.paint_attempts, g.mid_range_attempts,
       g.three_pt_attempts, g.team_abbr
FROM wanted w
JOIN games g ON g.game_no = w.last_no - w.slot
WHERE g.game_date >= w.game_date - CAST($last10_window_days AS INTEGER)
