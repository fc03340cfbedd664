-- v54_l_consensus: extraction L of docs/v2_54/features.md §4 (feature 54) — the latest pre-tip line
-- per (player, date, bookmaker) for every date of [min D - $odds_lookback_days, max D];
-- the lower-middle consensus and the delta are computed in Python.
-- Inputs: spine, odds_api; $odds_lookback_days (14).
-- Output: player_lookup, line_date, bookmaker, points_line.
-- Rule: rows with minutes_before_tipoff >= 0 and points_line > 0, every bookmaker (bovada
-- included); latest by snapshot_timestamp DESC, points_line ASC (§0.8; rows tied on both carry the same line).
-- How: two hash aggregations instead of a sort: the group's latest timestamp (NULLs last:
-- NULL only when every row's is NULL), then the lowest line among the rows stamped with it.
WITH spine_players AS (
    SELECT DISTINCT player_lookup FROM spine WHERE NOT is_placeholder
),
candidates AS (
    SELECT o.player_lookup, o.game_date, o.bookmaker, o.snapshot_timestamp, o.points_line
    FROM odds_api o JOIN spine_players s ON s.player_lookup = o.player_lookup
    WHERE o.minutes_before_tipoff >= 0 AND o.points_line > 0
      AND o.game_date BETWEEN (SELECT min(game_date) FROM spine) - CAST($odds_lookback_days AS INTEGER)
                          AND (SELECT max(game_date) FROM spine)
),
latest AS (
    SELECT player_lookup, game_date, bookmaker, max(snapshot_timestamp) AS snapshot_timestamp
    FROM candidates GROUP BY player_lookup, game_date, bookmaker
)
SELECT c.player_lookup, c.game_date AS line_date, c.bookmaker, min(c.points_line) AS points_line
FROM candidates c
JOIN latest l
  ON l.player_lookup = c.player_lookup AND l.game_date = c.game_date
 AND l.bookmaker IS NOT DISTINCT FROM c.bookmaker AND l.snapshot_timestamp IS NOT DISTINCT FROM c.snapshot_timestamp
GROUP BY c.player_lookup, c.game_date, c.bookmaker
ORDER BY 1, 2, 4
