-- v54_last10_games: Q6′ of docs/v2_54/features.md §2.3, part 1 — the rows the last-10 lists of
-- the non-placeholder spine rows are made of, numbered once (v54_last10_rows gives each spine
-- key its range of numbers), with the columns the cache-miss fallback (§2.4) and recent_trend
-- (§2.7 feature 11) read.
-- Inputs: spine, pgs; $last10_window_days, $start.
-- Output, ordered by game_no: game_no (1, 2, ... consecutive), player_lookup, list_date (the
--   row's game_date), points, minutes_e9 (minutes_played x 10^9, exact for NUMERIC/INT64; NULL
--   when NULL), minutes_float (DOUBLE), is_dnp, fg_attempts, paint_attempts, mid_range_attempts,
--   three_pt_attempts, team_abbr.
-- Rule: the PGS rows of the players of the non-placeholder spine keys, numbered by player, then
-- the list order reversed (game_date ASC, game_id DESC, then the selected columns in
-- docs/sources.md order descending NULLs first; §0.8: rows tied on every key carry the same
-- output columns), so each player's rows are consecutive numbers, newest last.
-- Rows dated before $start - window are in no key's window (every D >= $start, the spine's first
-- date bound) and are not read: the numbers are only used relative to a player's base.
-- The x 10^9 integers: a DECIMAL(38,9) y with |y| < 10^5 has |y x 10^9| < 10^14, so
-- round(double(y) x 10^9) is within 0.02 of it (two roundings of relative 2^-53) and equals it;
-- that float path costs a tenth of the HUGEINT multiply and divide, which the other values keep.
SELECT ROW_NUMBER() OVER (
           ORDER BY p.player_lookup, p.game_date ASC, p.game_id DESC NULLS FIRST, p.team_abbr DESC NULLS FIRST,
                    p.points DESC NULLS FIRST, p.minutes_played DESC NULLS FIRST, p.is_dnp DESC NULLS FIRST,
                    p.fg_attempts DESC NULLS FIRST, p.paint_attempts DESC NULLS FIRST,
                    p.mid_range_attempts DESC NULLS FIRST, p.three_pt_attempts DESC NULLS FIRST
       ) AS game_no,
       p.player_lookup, p.game_date AS list_date, p.points,
       CASE WHEN CAST(p.minutes_played AS DECIMAL(38, 9)) BETWEEN -99999 AND 99999
            THEN CAST(round(CAST(CAST(p.minutes_played AS DECIMAL(38, 9)) AS DOUBLE) * 1000000000) AS BIGINT)
            ELSE CAST(CAST(p.minutes_played AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) END AS minutes_e9,
       CAST(p.minutes_played AS DOUBLE) AS minutes_float,
       p.is_dnp, p.fg_attempts, p.paint_attempts, p.mid_range_attempts, p.three_pt_attempts, p.team_abbr
FROM pgs p
WHERE p.game_date >= $start - CAST($last10_window_days AS INTEGER)
  AND p.player_lookup IN (SELECT player_lookup FROM spine WHERE NOT is_placeholder)
ORDER BY game_no
