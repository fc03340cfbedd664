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
SELECT ROW_NUMBER() OVER (
           ORDER BY p.player_lookup, p.game_date ASC, p.game_id DESC NULLS FIRST, p.team_abbr DESC NULLS FIRST,
                    p.minutes_played DESC NULLS FIRST
       ) AS game_no,
       p.player_lookup, p.game_date AS row_date, p.team_abbr,
       CAST(CAST(p.minutes_played AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS minutes_e9,
       CAST(p.minutes_played AS DOUBLE) AS minutes_float
FROM pgs p
WHERE p.game_date >= $start - CAST($opportunity_window_days AS INTEGER) AND p.minutes_played > 0
  AND p.player_lookup IN (SELECT player_lookup FROM spine WHERE NOT is_placeholder)
ORDER BY game_no
