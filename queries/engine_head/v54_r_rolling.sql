-- v54_r_rolling: extraction R of docs/v2_54/features.md §4 (features 43-46, 48, 49) — the rows the
-- rolling statistics are computed from, per non-placeholder spine row.
-- Inputs: spine, pgs; $rolling_stats_window_days (60), $start.
-- Output: player_lookup, game_date (D), seq (1 = oldest), points, usage_e9 (usage_rate x 10^9,
--   NULL kept), team_abbr, row_date.
-- Rule: the player's PGS rows with game_date in [D - window, D - 1], points NOT NULL,
-- minutes_played > 0, ordered game_date ASC, game_id ASC, then the selected columns in docs/sources.md order (§0.8).
-- How: one window pass numbers the qualifying rows by player, then that order (game_no; rows
-- tied on every key carry the same output columns), so each player's rows are consecutive
-- numbers; two ASOF joins on the per-date running number give, per (p, D), the number of
-- the last row before D - window (first) and before D (last), and the key's rows are
-- game_no first + 1 .. last, seq = game_no - first. Equi-joins on one integer only: no
-- (key, row-in-window) pairs are built by a range join and sorted per key. Spine keys are unique.
-- Rows dated before $start - window are in no key's window (every D >= $start, the spine's first
-- date bound) and are not read: the numbers are only used relative to a player's base.
WITH keys AS (
    SELECT player_lookup, game_date, ROW_NUMBER() OVER (ORDER BY player_lookup, game_date) AS key_order
    FROM spine WHERE NOT is_placeholder
),
games AS (
    SELECT p.player_lookup, p.game_date, p.points,
           CAST(CAST(p.usage_rate AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS usage_e9, p.team_abbr,
           ROW_NUMBER() OVER (
               ORDER BY p.player_lookup, p.game_date ASC, p.game_id ASC NULLS LAST, p.team_abbr ASC NULLS LAST,
                        p.points ASC NULLS LAST, p.minutes_played ASC NULLS LAST, p.usage_rate ASC NULLS LAST
           ) AS game_no
    FROM pgs p
    WHERE p.game_date >= $start - CAST($rolling_stats_window_days AS INTEGER)
      AND p.points IS NOT NULL AND p.minutes_played > 0
      AND p.player_lookup IN (SELECT player_lookup FROM keys)
),
player_base AS (
    SELECT player_lookup, min(game_no) - 1 AS game_no FROM games GROUP BY player_lookup
),
no_through_date AS (
    SELECT player_lookup, game_date, max(game_no) AS game_no FROM games GROUP BY player_lookup, game_date
),
bounded AS (
    SELECT k.key_order, k.player_lookup, k.game_date,
           coalesce(f.game_no, b.game_no) AS first_no, coalesce(l.game_no, b.game_no) AS last_no
    FROM keys k
    JOIN player_base b ON b.player_lookup = k.player_lookup
    ASOF LEFT JOIN no_through_date l
        ON l.player_lookup = k.player_lookup AND k.game_date > l.game_date
    ASOF LEFT JOIN no_through_date f
        ON f.player_lookup = k.player_lookup
       AND k.game_date - CAST($rolling_stats_window_days AS INTEGER) > f.game_date
),
wanted AS (
    SELECT key_order, game_date, first_no, unnest(range(first_no + 1, last_no + 1)) AS game_no
    FROM bounded WHERE last_no > first_no
)
SELECT g.player_lookup, w.game_date, CAST(w.game_no - w.first_no AS BIGINT) AS seq,
       g.points, g.usage_e9, g.team_abbr, g.game_date AS row_date
FROM wanted w
JOIN games g ON g.game_no = w.game_no
-- one integer sort key (key_order, seq), cheaper to sort than the pair
ORDER BY w.key_order * 4294967296 + (w.game_no - w.first_no)
