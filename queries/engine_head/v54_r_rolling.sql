-- v54_r_rolling: extraction R of docs/v2_54/features.md §4 (features 43-46, 48, 49), part 2 —
-- which of the numbered rows of v54_r_games each non-placeholder spine row's statistics use.
-- Inputs: spine, v54_r_games; $rolling_stats_window_days (60).
-- Output, one row per non-placeholder spine key whose player has rows, ordered by player_lookup,
--   game_date (D): player_lookup, game_date, first_no, last_no. The key's rows are the
--   v54_r_games rows game_no first_no + 1 .. last_no (none when last_no = first_no), oldest
--   first (seq = game_no - first_no).
-- Rule: the player's rows with row_date in [D - window, D - 1].
-- How: a player's rows are consecutive numbers in date order, so two ASOF joins on the
-- per-date running number give the number of the last row before D - window (first) and before
-- D (last), or the player's base (the number before the player's first row) where there is none.
-- The joins match on the player's base (an integer unique per player), not the name: ASOF joins
-- partition and sort integers faster than strings.
-- The (key, row) pairs themselves are not built here: the assembly reads the bounds and the rows
-- once each. Spine keys are unique.
WITH player_base AS (
    SELECT player_lookup, min(game_no) - 1 AS game_no FROM v54_r_games GROUP BY player_lookup
),
keys AS (
    SELECT s.player_lookup, s.game_date, b.game_no AS base_no
    FROM spine s JOIN player_base b ON b.player_lookup = s.player_lookup
    WHERE NOT s.is_placeholder
),
no_through_date AS (
    SELECT b.game_no AS base_no, g.row_date, max(g.game_no) AS game_no
    FROM v54_r_games g JOIN player_base b ON b.player_lookup = g.player_lookup
    GROUP BY b.game_no, g.row_date
)
SELECT k.player_lookup, k.game_date,
       coalesce(f.game_no, k.base_no) AS first_no, coalesce(l.game_no, k.base_no) AS last_no
FROM keys k
ASOF LEFT JOIN no_through_date l
    ON l.base_no = k.base_no AND k.game_date > l.row_date
ASOF LEFT JOIN no_through_date f
    ON f.base_no = k.base_no
   AND k.game_date - CAST($rolling_stats_window_days AS INTEGER) > f.row_date
ORDER BY k.player_lookup, k.game_date
