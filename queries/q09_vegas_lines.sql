-- q09_vegas_lines: Q9 of features.md §3 — the Vegas line of every (player, D), both modes.
-- Inputs: spine, odds_api, bettingpros.
-- Output: player_lookup, game_date, vegas_points_line, vegas_opening_line, vegas_line_move
--   (DOUBLE), only for players with a line (oa_cur or bp_cur exists).
-- Odds API: rows of D with points_line > 0 and player_lookup not NULL; priority draftkings
-- first; oa_cur = first by (priority, snapshot_timestamp DESC, points_line ASC), oa_open = first
-- by (priority, snapshot_timestamp ASC, points_line ASC). BettingPros: rows of D with
-- market_type 'points', points_line > 0; first by (created_at DESC, points_line ASC,
-- opening_line ASC NULLS LAST) gives bp_cur and bp_open. cur = oa_cur if present else bp_cur;
-- open_sql = first non-NULL of (oa_open, bp_open, oa_cur, bp_cur); move = cur - open_sql;
-- opening = open_sql unless it is 0, then cur (move keeps cur - 0) [quirk].
WITH keys AS (
    SELECT DISTINCT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
odds AS (
    SELECT o.player_lookup, o.game_date, o.points_line, o.snapshot_timestamp,
           CASE WHEN o.bookmaker = 'draftkings' THEN 0 ELSE 1 END AS priority
    FROM odds_api o
    JOIN keys k ON k.player_lookup = o.player_lookup AND k.game_date = o.game_date
    WHERE o.points_line IS NOT NULL AND o.points_line > 0 AND o.player_lookup IS NOT NULL
),
odds_ranked AS (
    SELECT player_lookup, game_date, points_line,
           ROW_NUMBER() OVER (
               PARTITION BY player_lookup, game_date
               ORDER BY priority ASC NULLS LAST, snapshot_timestamp DESC NULLS LAST,
                        points_line ASC NULLS LAST
           ) AS cur_pick,
           ROW_NUMBER() OVER (
               PARTITION BY player_lookup, game_date
               ORDER BY priority ASC NULLS LAST, snapshot_timestamp ASC NULLS LAST,
                        points_line ASC NULLS LAST
           ) AS open_pick
    FROM odds
),
odds_line AS (
    SELECT player_lookup, game_date,
           max(CASE WHEN cur_pick = 1 THEN points_line END) AS oa_cur,
           max(CASE WHEN open_pick = 1 THEN points_line END) AS oa_open
    FROM odds_ranked
    WHERE cur_pick = 1 OR open_pick = 1
    GROUP BY player_lookup, game_date
),
bp_ranked AS (
    SELECT b.player_lookup, b.game_date, b.points_line, b.opening_line,
           ROW_NUMBER() OVER (
               PARTITION BY b.player_lookup, b.game_date
               ORDER BY b.created_at DESC NULLS LAST, b.points_line ASC NULLS LAST,
                        b.opening_line ASC NULLS LAST
           ) AS pick
    FROM bettingpros b
    JOIN keys k ON k.player_lookup = b.player_lookup AND k.game_date = b.game_date
    WHERE b.market_type = 'points' AND b.points_line IS NOT NULL AND b.points_line > 0
),
bp_line AS (
    SELECT player_lookup, game_date, points_line AS bp_cur, opening_line AS bp_open
    FROM bp_ranked
    WHERE pick = 1
),
combined AS (
    SELECT k.player_lookup, k.game_date,
           coalesce(o.oa_cur, b.bp_cur) AS cur,
           coalesce(o.oa_open, b.bp_open, o.oa_cur, b.bp_cur) AS open_sql
    FROM keys k
    LEFT JOIN odds_line o ON o.player_lookup = k.player_lookup AND o.game_date = k.game_date
    LEFT JOIN bp_line b ON b.player_lookup = k.player_lookup AND b.game_date = k.game_date
    WHERE o.oa_cur IS NOT NULL OR b.bp_cur IS NOT NULL
)
SELECT player_lookup, game_date,
       cur AS vegas_points_line,
       CASE WHEN open_sql <> 0 THEN open_sql ELSE cur END AS vegas_opening_line,
       cur - open_sql AS vegas_line_move
FROM combined
