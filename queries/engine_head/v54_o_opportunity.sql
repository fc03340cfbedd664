-- v54_o_opportunity: extraction O of docs/v2_54/features.md §4 (features 57, 58) — the player's 10
-- newest played rows and, per (team, D), the blowout share of the team's 10 newest games.
-- Inputs: spine, pgs, team_offense; $opportunity_window_days (60), $last10_size.
-- Output: kind 'player' rows: player_lookup, game_date (D), slot (0 = newest), team_abbr,
--   minutes_e9 (minutes x 10^9), minutes_float; kind 'team' rows: team_abbr, game_date (D),
--   team_rows, blowouts (|margin_of_victory| >= 15; a NULL margin counts in team_rows only).
-- Order (§0.8): game_date DESC, game_id ASC, then the selected columns (docs/sources.md order); window [D - 60, D - 1], no
-- season filter.
-- Join cost: the range join is split on an equality bucket of width window + 1 days: a row
-- dated in [D - window, D - 1] lies in D's bucket or the one before, so each key is joined
-- twice (b, b - 1) against the player's rows of one bucket instead of every season of
-- the player (quadratic in the history length on multi-season worlds); the rows are the same.
WITH keys AS (
    SELECT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
bucketed_keys AS (
    SELECT player_lookup, game_date, (game_date - DATE '1900-01-01') // (CAST($opportunity_window_days AS INTEGER) + 1) AS bucket FROM keys
    UNION ALL
    SELECT player_lookup, game_date, (game_date - DATE '1900-01-01') // (CAST($opportunity_window_days AS INTEGER) + 1) - 1 FROM keys
),
bucketed_pgs AS (
    SELECT p.*, (p.game_date - DATE '1900-01-01') // (CAST($opportunity_window_days AS INTEGER) + 1) AS bucket FROM pgs p
),
played AS (
    SELECT k.player_lookup AS key_player, k.game_date AS key_date, p.team_abbr,
           CAST(CAST(p.minutes_played AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS minutes_e9,
           CAST(p.minutes_played AS DOUBLE) AS minutes_float,
           ROW_NUMBER() OVER (
               PARTITION BY k.player_lookup, k.game_date
               ORDER BY p.game_date DESC, p.game_id ASC NULLS LAST, p.team_abbr ASC NULLS LAST,
                        p.minutes_played ASC NULLS LAST
           ) - 1 AS slot
    FROM bucketed_keys k
    JOIN bucketed_pgs p
      ON p.player_lookup = k.player_lookup AND p.bucket = k.bucket
     AND p.game_date BETWEEN k.game_date - CAST($opportunity_window_days AS INTEGER) AND k.game_date - 1
    WHERE p.minutes_played > 0
),
dates AS (
    SELECT DISTINCT game_date FROM keys
),
team_ranked AS (
    SELECT d.game_date AS key_date, o.team_abbr, o.margin_of_victory,
           ROW_NUMBER() OVER (
               PARTITION BY o.team_abbr, d.game_date
               ORDER BY o.game_date DESC, o.game_id ASC NULLS LAST, o.margin_of_victory ASC NULLS LAST
           ) AS rn
    FROM dates d
    JOIN team_offense o
      ON o.game_date BETWEEN d.game_date - CAST($opportunity_window_days AS INTEGER) AND d.game_date - 1
)
SELECT 'player' AS kind, key_player AS player_lookup, key_date AS game_date, CAST(slot AS BIGINT) AS slot,
       team_abbr, minutes_e9, minutes_float, CAST(NULL AS BIGINT) AS team_rows, CAST(NULL AS BIGINT) AS blowouts
FROM played WHERE slot < $last10_size
UNION ALL
SELECT 'team', NULL, key_date, NULL, team_abbr, NULL, NULL,
       count(*), count(CASE WHEN abs(margin_of_victory) >= 15 THEN 1 END)
FROM team_ranked WHERE rn <= $last10_size
GROUP BY key_date, team_abbr
