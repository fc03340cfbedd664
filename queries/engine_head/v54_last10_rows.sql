-- v54_last10_rows: Q6′ of docs/v2_54/features.md §2.3, part 2 — which of the numbered rows of
-- v54_last10_games make the last-10 list of each non-placeholder spine row.
-- Inputs: spine, v54_last10_games; $last10_window_days, $last10_size.
-- Output, one row per non-placeholder spine key whose list is not empty, ordered by
--   player_lookup, game_date (D): player_lookup, game_date, last_no, slots. The key's list is
--   slot s = 0 .. slots - 1 (0 = newest) = the v54_last10_games row game_no = last_no - s.
-- Rule: PGS rows of the player with game_date in [D - window, D - 1], ordered game_date DESC,
-- game_id ASC, then the selected columns in docs/sources.md order ascending NULLs last (§0.8); the first $last10_size.
-- How: a player's rows are consecutive numbers, newest last, so two ASOF joins on the per-date
-- running number give the number of the player's newest row before D (last) and before
-- D - window (first, or the player's base, the number before the player's first row, where
-- there is none); the list is last, last - 1, ... down to first + 1, at most $last10_size of them.
-- The joins match on the player's base (an integer unique per player), not the name: ASOF joins
-- partition and sort integers faster than strings.
-- The (key, slot) rows themselves are not built here: the assembly reads the bounds and the
-- rows once each. Spine keys are unique.
WITH player_base AS (
    SELECT player_lookup, min(game_no) - 1 AS game_no FROM v54_last10_games GROUP BY player_lookup
),
keys AS (
    SELECT s.player_lookup, s.game_date, b.game_no AS base_no
    FROM spine s JOIN player_base b ON b.player_lookup = s.player_lookup
    WHERE NOT s.is_placeholder
),
no_through_date AS (
    SELECT b.game_no AS base_no, g.list_date, max(g.game_no) AS game_no
    FROM v54_last10_games g JOIN player_base b ON b.player_lookup = g.player_lookup
    GROUP BY b.game_no, g.list_date
),
bounded AS (
    SELECT k.player_lookup, k.game_date, l.game_no AS last_no, coalesce(f.game_no, k.base_no) AS first_no
    FROM keys k
    ASOF JOIN no_through_date l ON l.base_no = k.base_no AND k.game_date > l.list_date
    ASOF LEFT JOIN no_through_date f
        ON f.base_no = k.base_no
       AND k.game_date - CAST($last10_window_days AS INTEGER) > f.list_date
)
SELECT player_lookup, game_date, last_no,
       CAST(least(CAST($last10_size AS BIGINT), last_no - first_no) AS BIGINT) AS slots
FROM bounded
WHERE last_no > first_no
ORDER BY player_lookup, game_date
