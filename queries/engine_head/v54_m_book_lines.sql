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
WITH dates AS (
    SELECT DISTINCT game_date FROM spine WHERE NOT is_placeholder
),
odds AS (
    SELECT o.*, ROW_NUMBER() OVER (
               PARTITION BY o.player_lookup, o.game_date, o.bookmaker
               ORDER BY o.snapshot_timestamp DESC, o.points_line ASC
           ) AS pick
    FROM odds_api o JOIN dates d ON d.game_date = o.game_date
    WHERE o.points_line > 0 AND o.bookmaker != 'bovada' AND o.minutes_before_tipoff >= 0
      AND o.player_lookup IS NOT NULL
),
bp AS (
    SELECT b.*, ROW_NUMBER() OVER (
               PARTITION BY b.player_lookup, b.game_date, b.bookmaker
               ORDER BY b.created_at DESC, b.points_line ASC
           ) AS pick
    FROM bettingpros b JOIN dates d ON d.game_date = b.game_date
    WHERE b.market_type = 'points' AND b.points_line > 0
      AND lower(b.bookmaker) NOT IN ('prizepicks', 'propswap', 'fliff', 'underdog', 'sleeper')
)
SELECT 'odds_api' AS source, player_lookup, game_date, bookmaker, points_line FROM odds WHERE pick = 1
UNION ALL
SELECT 'bettingpros', player_lookup, game_date, bookmaker, points_line FROM bp WHERE pick = 1
ORDER BY 1, 2, 3, 4
