-- v54_vegas_lines: Q9′ of docs/v2_54/features.md §2.3 — the Vegas line of every (player, D) as
-- round-1 Q9 (q09_vegas_lines.sql), the Odds API candidates restricted to pre-tip rows
-- (minutes_before_tipoff >= 0; NULL is not pre-tip) when $odds_pre_tipoff_only, and the
-- source of the line.
-- Inputs: spine, odds_api, bettingpros; $odds_pre_tipoff_only.
-- Output: player_lookup, game_date, vegas_points_line, vegas_opening_line, vegas_line_move
--   (DOUBLE, only for players with a line), vegas_line_source ('both', 'odds_api',
--   'bettingpros'; players without a line have no row: 'none').
WITH keys AS (
    SELECT DISTINCT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
odds AS (
    SELECT o.player_lookup, o.game_date, o.points_line, o.snapshot_timestamp,
           CASE WHEN o.bookmaker = 'draftkings' THEN 0 ELSE 1 END AS priority
    FROM odds_api o
    WHERE o.points_line > 0 AND o.player_lookup IS NOT NULL
      AND (NOT $odds_pre_tipoff_only OR coalesce(o.minutes_before_tipoff >= 0, FALSE))
      AND o.game_date BETWEEN (SELECT min(game_date) FROM keys) AND (SELECT max(game_date) FROM keys)
),
best_priority AS (
    SELECT player_lookup, game_date, min(priority) AS priority FROM odds GROUP BY player_lookup, game_date
),
top AS (
    SELECT o.* FROM odds o JOIN best_priority b USING (player_lookup, game_date, priority)
),
edges AS (
    SELECT player_lookup, game_date, max(snapshot_timestamp) AS last_ts, min(snapshot_timestamp) AS first_ts
    FROM top GROUP BY player_lookup, game_date
),
odds_line AS (
    SELECT t.player_lookup, t.game_date,
           min(CASE WHEN t.snapshot_timestamp = e.last_ts THEN t.points_line END) AS oa_cur,
           min(CASE WHEN t.snapshot_timestamp = e.first_ts THEN t.points_line END) AS oa_open
    FROM top t JOIN edges e USING (player_lookup, game_date)
    GROUP BY t.player_lookup, t.game_date
),
bp AS (
    SELECT b.player_lookup, b.game_date, b.points_line, b.opening_line, b.created_at
    FROM bettingpros b
    WHERE b.market_type = 'points' AND b.points_line > 0
      AND b.game_date BETWEEN (SELECT min(game_date) FROM keys) AND (SELECT max(game_date) FROM keys)
),
bp_last AS (
    SELECT player_lookup, game_date, max(created_at) AS created_at FROM bp GROUP BY player_lookup, game_date
),
bp_lowest AS (
    SELECT b.player_lookup, b.game_date, b.created_at, min(b.points_line) AS points_line
    FROM bp b JOIN bp_last l USING (player_lookup, game_date, created_at)
    GROUP BY b.player_lookup, b.game_date, b.created_at
),
bp_line AS (
    SELECT b.player_lookup, b.game_date, b.points_line AS bp_cur, min(b.opening_line) AS bp_open
    FROM bp b JOIN bp_lowest l USING (player_lookup, game_date, created_at, points_line)
    GROUP BY b.player_lookup, b.game_date, b.points_line
),
combined AS (
    SELECT k.player_lookup, k.game_date,
           coalesce(o.oa_cur, b.bp_cur) AS cur,
           coalesce(o.oa_open, b.bp_open, o.oa_cur, b.bp_cur) AS open_sql,
           CASE WHEN o.oa_cur IS NOT NULL AND b.bp_cur IS NOT NULL THEN 'both'
                WHEN o.oa_cur IS NOT NULL THEN 'odds_api'
                ELSE 'bettingpros' END AS vegas_line_source
    FROM keys k
    LEFT JOIN odds_line o ON o.player_lookup = k.player_lookup AND o.game_date = k.game_date
    LEFT JOIN bp_line b ON b.player_lookup = k.player_lookup AND b.game_date = k.game_date
    WHERE o.oa_cur IS NOT NULL OR b.bp_cur IS NOT NULL
)
SELECT player_lookup, game_date,
       cur AS vegas_points_line,
       CASE WHEN open_sql <> 0 THEN open_sql ELSE cur END AS vegas_opening_line,
       cur - open_sql AS vegas_line_move,
       vegas_line_source
FROM combined
