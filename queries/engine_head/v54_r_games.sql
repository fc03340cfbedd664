-- v54_r_games: extraction R of docs/v2_54/features.md §4 (features 43-46, 48, 49), part 1 — the
-- rows the rolling statistics are computed from, numbered once (v54_r_rolling gives each spine
-- key its range of numbers).
-- Inputs: spine, pgs; $rolling_stats_window_days (60), $start.
-- Output, ordered by game_no: game_no (1, 2, ... consecutive), player_lookup, row_date (the
--   row's game_date), points, usage_e9 (usage_rate x 10^9, NULL kept), team_abbr.
-- Rule: the PGS rows with points NOT NULL and minutes_played > 0 of the players of the
-- non-placeholder spine keys, numbered by player, then game_date ASC, game_id ASC, then the
-- selected columns in docs/sources.md order (§0.8; rows tied on every key carry the same output
-- columns), so each player's rows are consecutive numbers in chronological order.
-- Rows dated before $start - window are in no key's window (every D >= $start, the spine's first
-- date bound) and are not read: the numbers are only used relative to a player's base.
-- The x 10^9 integers: a DECIMAL(38,9) y with |y| < 10^5 has |y x 10^9| < 10^14, so
-- round(double(y) x 10^9) is within 0.02 of it (two roundings of relative 2^-53) and equals it;
-- that float path costs a tenth of the HUGEINT multiply and divide, which the other values keep.
SELECT ROW_NUMBER() OVER (
           ORDER BY p.player_lookup, p.game_date ASC, p.game_id ASC NULLS LAST, p.team_abbr ASC NULLS LAST,
                    p.points ASC NULLS LAST, p.minutes_played ASC NULLS LAST, p.usage_rate ASC NULLS LAST
       ) AS game_no,
       p.player_lookup, p.game_date AS row_date, p.points,
       CASE WHEN CAST(p.usage_rate AS DECIMAL(38, 9)) BETWEEN -99999 AND 99999
            THEN CAST(round(CAST(CAST(p.usage_rate AS DECIMAL(38, 9)) AS DOUBLE) * 1000000000) AS BIGINT)
            ELSE CAST(CAST(p.usage_rate AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) END AS usage_e9, p.team_abbr
FROM pgs p
WHERE p.game_date >= $start - CAST($rolling_stats_window_days AS INTEGER)
  AND p.points IS NOT NULL AND p.minutes_played > 0
  AND p.player_lookup IN (SELECT player_lookup FROM spine WHERE NOT is_placeholder)
ORDER BY game_no
