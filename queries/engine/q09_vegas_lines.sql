-- q09_vegas_lines: Q9 of docs/features.md §3 — the Vegas line of every (player, D), both modes.
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
-- How: each "first row by (a, b DESC, c)" is one grouped min over a struct of the sort keys
-- (structs compare field by field, a NULL field after every value: opening_line NULLS LAST);
-- a DESC timestamp enters as its negated epoch microseconds (TIMESTAMP holds microseconds, so
-- the order is exact). One hash aggregate per source, no sort.
WITH keys AS (
    SELECT DISTINCT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
odds_line AS (
    SELECT o.player_lookup, o.game_date,
           -- priority: draftkings first
           min({'priority': CASE WHEN o.bookmaker = 'draftkings' THEN 0 ELSE 1 END,
                'newest': -epoch_us(o.snapshot_timestamp), 'line': o.points_line}).line AS oa_cur,
           min({'priority': CASE WHEN o.bookmaker = 'draftkings' THEN 0 ELSE 1 END,
                'oldest': epoch_us(o.snapshot_timestamp), 'line': o.points_line}).line AS oa_open
    FROM odds_api o
    WHERE o.points_line > 0 AND o.player_lookup IS NOT NULL
      AND o.game_date BETWEEN (SELECT min(game_date) FROM keys) AND (SELECT max(game_date) FROM keys)
    GROUP BY o.player_lookup, o.game_date
),
bp_line AS (
    SELECT b.player_lookup, b.game_date,
           -- bp_cur = first_row.line, bp_open = first_row.opening
           min({'newest': -epoch_us(b.created_at), 'line': b.points_line, 'opening': b.opening_line}) AS first_row
    FROM bettingpros b
    WHERE b.market_type = 'points' AND b.points_line > 0
      AND b.game_date BETWEEN (SELECT min(game_date) FROM keys) AND (SELECT max(game_date) FROM keys)
    GROUP BY b.player_lookup, b.game_date
),
combined AS (
    SELECT k.player_lookup, k.game_date,
           coalesce(o.oa_cur, b.first_row.line) AS cur,
           coalesce(o.oa_open, b.first_row.opening, o.oa_cur, b.first_row.line) AS open_sql
    FROM keys k
    LEFT JOIN odds_line o ON o.player_lookup = k.player_lookup AND o.game_date = k.game_date
    LEFT JOIN bp_line b ON b.player_lookup = k.player_lookup AND b.game_date = k.game_date
    WHERE o.oa_cur IS NOT NULL OR b.first_row.line IS NOT NULL
)
SELECT player_lookup, game_date,
       cur AS vegas_points_line,
       CASE WHEN open_sql <> 0 THEN open_sql ELSE cur END AS vegas_opening_line,
       cur - open_sql AS vegas_line_move
FROM combined
