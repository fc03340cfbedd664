-- v54_m_book_lines: extraction M of docs/v2_54/features.md §4 (feature 50) — the latest line per
-- (player, D, bookmaker) of both sources; the standard deviations and the date-level
-- BettingPros switch are computed in Python (exact sample std, §0.5).
-- Inputs: spine, odds_api, bettingpros.
-- Output: source ('odds_api' | 'bettingpros'), player_lookup, game_date, bookmaker, points_line.
-- Odds API: game_date = D, points_line > 0, bookmaker != 'bovada' (case-sensitive),
--   minutes_before_tipoff >= 0; latest by snapshot_timestamp DESC, points_line ASC (§0.8; rows
--   tied on both carry the same line). Every player of the date (the switch needs the whole date), not only spine.
-- BettingPros: game_date = D, market_type = 'points', points_line > 0, lower(bookmaker) not in
--   the DFS list (a NULL bookmaker fails); latest by created_at DESC, points_line ASC (§0.8).
-- How: hash aggregations instead of a sort: each group's latest timestamp (NULLs last: NULL
-- only when every row's is NULL), then the lowest line among the rows stamped with it.
WITH dates AS (
    SELECT DISTINCT game_date FROM spine WHERE NOT is_placeholder
),
odds AS (
    SELECT o.player_lookup, o.game_date, o.bookmaker, o.snapshot_timestamp AS stamp, o.points_line
    FROM odds_api o JOIN dates d ON d.game_date = o.game_date
    WHERE o.points_line > 0 AND o.bookmaker != 'bovada' AND o.minutes_before_tipoff >= 0
      AND o.player_lookup IS NOT NULL
),
odds_latest AS (
    SELECT player_lookup, game_date, bookmaker, max(stamp) AS stamp FROM odds GROUP BY player_lookup, game_date, bookmaker
),
odds_line AS (
    SELECT o.player_lookup, o.game_date, o.bookmaker, min(o.points_line) AS points_line
    FROM odds o
    JOIN odds_latest l
      ON l.player_lookup = o.player_lookup AND l.game_date = o.game_date AND l.bookmaker = o.bookmaker
     AND l.stamp IS NOT DISTINCT FROM o.stamp
    GROUP BY o.player_lookup, o.game_date, o.bookmaker
),
bp AS (
    SELECT b.player_lookup, b.game_date, b.bookmaker, b.created_at AS stamp, b.points_line
    FROM bettingpros b JOIN dates d ON d.game_date = b.game_date
    WHERE b.market_type = 'points' AND b.points_line > 0
      AND lower(b.bookmaker) NOT IN ('prizepicks', 'propswap', 'fliff', 'underdog', 'sleeper')
),
bp_latest AS (
    SELECT player_lookup, game_date, bookmaker, max(stamp) AS stamp FROM bp GROUP BY player_lookup, game_date, bookmaker
),
bp_line AS (
    SELECT b.player_lookup, b.game_date, b.bookmaker, min(b.points_line) AS points_line
    FROM bp b
    JOIN bp_latest l
      ON l.player_lookup IS NOT DISTINCT FROM b.player_lookup AND l.game_date = b.game_date
     AND l.bookmaker = b.bookmaker AND l.stamp IS NOT DISTINCT FROM b.stamp
    GROUP BY b.player_lookup, b.game_date, b.bookmaker
)
SELECT 'odds_api' AS source, player_lookup, game_date, bookmaker, points_line FROM odds_line
UNION ALL
SELECT 'bettingpros', player_lookup, game_date, bookmaker, points_line FROM bp_line
ORDER BY 1, 2, 3, 4
