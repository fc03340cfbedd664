-- v54_m_book_lines: extraction M of docs/v2_54/features.md §4 (feature 50) — the latest line per
-- (player, D, bookmaker) of both sources; the standard deviations and the date-level
-- BettingPros switch are computed in Python (exact sample std, §0.5).
-- Inputs: spine, v54_odds_picks (the Odds API picks), bettingpros.
-- Output: source ('odds_api' | 'bettingpros'), player_lookup, game_date, bookmaker, points_line.
-- Odds API: game_date = D, points_line > 0, bookmaker != 'bovada' (case-sensitive),
--   minutes_before_tipoff >= 0; latest by snapshot_timestamp DESC, points_line ASC (§0.8; rows
--   tied on both carry the same line). Every player of the date (the switch needs the whole date), not only spine.
-- BettingPros: game_date = D, market_type = 'points', points_line > 0, lower(bookmaker) not in
--   the DFS list (a NULL bookmaker fails); latest by created_at DESC, points_line ASC (§0.8).
-- How: one hash aggregation per source instead of a sort: the min of a struct ordered as the
-- rule (a stamped row before an unstamped one, NULLs last; the latest stamp as the smallest
-- negated epoch; then the line); for the Odds API, the pre-tip `latest` picks of v54_odds_picks.
WITH dates AS (
    SELECT DISTINCT game_date FROM spine WHERE NOT is_placeholder
),
odds AS (
    SELECT o.player_lookup, o.game_date, o.bookmaker, o.latest AS pick
    FROM v54_odds_picks o JOIN dates d ON d.game_date = o.game_date
    WHERE o.pre_tip AND o.bookmaker != 'bovada'
),
bp AS (
    SELECT b.player_lookup, b.game_date, b.bookmaker,
           min({'unstamped': b.created_at IS NULL, 'stamp': coalesce(-epoch_us(b.created_at), 0),
                'line': b.points_line}) AS pick
    FROM bettingpros b JOIN dates d ON d.game_date = b.game_date
    WHERE b.market_type = 'points' AND b.points_line > 0
      AND lower(b.bookmaker) NOT IN ('prizepicks', 'propswap', 'fliff', 'underdog', 'sleeper')
    GROUP BY b.player_lookup, b.game_date, b.bookmaker
)
SELECT 'odds_api' AS source, player_lookup, game_date, bookmaker, pick.line AS points_line FROM odds
UNION ALL
SELECT 'bettingpros', player_lookup, game_date, bookmaker, pick.line FROM bp
ORDER BY 1, 2, 3, 4
