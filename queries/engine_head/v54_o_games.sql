-- v54_o_games: extraction O of docs/v2_54/features.md §4 (features 57, 58), part 1 — the played
-- rows the minutes volatility is computed from, numbered once (v54_o_opportunity gives each
-- spine key its range of numbers).
-- Inputs: spine, pgs; $opportunity_window_days (60), $start.
-- Output, ordered by game_no: game_no (1, 2, ... consecutive), player_lookup, row_date (the
--   row's game_date), team_abbr, minutes_e9 (minutes x 10^9), minutes_float.
-- Rule: the PGS rows with minutes_played > 0 of the players of the non-placeholder spine keys,
-- numbered by player, then game_date ASC and the reverse of the slot order of §0.8 (game_id DESC,
-- then the selected columns in docs/sources.md order, descending), so each player's rows are
-- consecutive numbers, oldest first, and a key's newest row has the highest number; rows tied
-- on every key carry the same output columns.
-- Rows dated before $start - window are in no key's window (every D >= $start, the spine's first
-- date bound) and are not read: the numbers are only used relative to a player's base.
-- The x 10^9 integers: a DECIMAL(38,9) y with |y| < 10^5 has |y x 10^9| < 10^14, so
-- round(double(y) x 10^9) is within 0.02 of it (two roundings of relative 2^-53) and equals it;
-- that float path costs a tenth of the HUGEINT multiply and divide, which the other values keep.
SELECT ROW_NUMBER() OVER (
           ORDER BY p.player_lookup, p.game_date ASC, p.game_id DESC NULLS FIRST, p.team_abbr DESC NULLS FIRST,
                    p.minutes_played DESC NULLS FIRST
       ) AS game_no,
       p.player_lookup, p.game_date AS row_date, p.team_abbr,
       CASE WHEN CAST(p.minutes_played AS DECIMAL(38, 9)) BETWEEN -99999 AND 99999
            THEN CAST(round(CAST(CAST(p.minutes_played AS DECIMAL(38, 9)) AS DOUBLE) * 1000000000) AS BIGINT)
            ELSE CAST(CAST(p.minutes_played AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) END AS minutes_e9,
       CAST(p.minutes_played AS DOUBLE) AS minutes_float
FROM pgs p
WHERE p.game_date >= $start - CAST($opportunity_window_days AS INTEGER) AND p.minutes_played > 0
  AND p.player_lookup IN (SELECT player_lookup FROM spine WHERE NOT is_placeholder)
ORDER BY game_no
