-- v54_vegas_lines: Q9′ of docs/v2_54/features.md §2.3 — the Vegas line of every (player, D) as
-- round-1 Q9 (q09_vegas_lines.sql), the Odds API candidates restricted to pre-tip rows
-- (minutes_before_tipoff >= 0; NULL is not pre-tip) when $odds_pre_tipoff_only, and the
-- source of the line.
-- Inputs: spine, v54_odds_picks (the Odds API picks per bookmaker), bettingpros; $odds_pre_tipoff_only.
-- Output: player_lookup, game_date, vegas_points_line, vegas_opening_line, vegas_line_move
--   (DOUBLE, only for players with a line), vegas_line_source ('both', 'odds_api',
--   'bettingpros'; players without a line have no row: 'none').
-- How: one hash aggregation per source. Odds API (from the per-bookmaker picks of v54_odds_picks,
-- whose min over bookmakers is the min over their rows): the DraftKings rows when the (player, D)
-- has any, else the others; the current line = the lowest line of the latest stamp, the
-- opening line = the lowest of the earliest (rows without a stamp never carry the line: when
-- the chosen rows have no stamp, there is no line).
-- BettingPros: the lowest line of the latest created_at, and the lowest opening line of the
-- rows with both. Each is the min of a struct ordered (stamp, line[, opening line]): the
-- latest stamp as the smallest negated epoch, a NULL opening line after every value.
WITH keys AS (
    SELECT DISTINCT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
odds AS (
    SELECT o.player_lookup, o.game_date, o.latest, o.earliest, coalesce(o.bookmaker = 'draftkings', FALSE) AS draftkings
    FROM v54_odds_picks o
    WHERE (NOT $odds_pre_tipoff_only OR o.pre_tip)
      AND o.game_date BETWEEN (SELECT min(game_date) FROM keys) AND (SELECT max(game_date) FROM keys)
),
odds_line AS (
    -- the first row by (draftkings first, stamped first, stamp, line): the line of the chosen
    -- group's latest (earliest) stamp, NULL when that group has no stamped row
    SELECT player_lookup, game_date,
           CASE WHEN cur.unstamped THEN NULL ELSE cur.line END AS oa_cur,
           CASE WHEN open.unstamped THEN NULL ELSE open.line END AS oa_open
    FROM (
        SELECT player_lookup, game_date,
               min({'other': NOT draftkings, 'unstamped': latest.unstamped, 'stamp': latest.stamp,
                    'line': latest.line}) AS cur,
               min({'other': NOT draftkings, 'unstamped': earliest.unstamped, 'stamp': earliest.stamp,
                    'line': earliest.line}) AS open
        FROM odds GROUP BY player_lookup, game_date
    )
),
bp_line AS (
    SELECT player_lookup, game_date, latest.line AS bp_cur, latest.opening AS bp_open
    FROM (
        SELECT b.player_lookup, b.game_date,
               min({'stamp': -epoch_us(b.created_at), 'line': b.points_line, 'no_opening': b.opening_line IS NULL,
                    'opening': b.opening_line}) FILTER (WHERE b.created_at IS NOT NULL) AS latest
        FROM bettingpros b
        WHERE b.market_type = 'points' AND b.points_line > 0
          AND b.game_date BETWEEN (SELECT min(game_date) FROM keys) AND (SELECT max(game_date) FROM keys)
        GROUP BY b.player_lookup, b.game_date
    )
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
