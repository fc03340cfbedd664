-- v54_player_context: Q5′ of docs/v2_54/features.md §2.2 — the player's UPGC row at D with the
-- columns of Q5 plus the seven columns features 4 (P3) and 37-42, 51, 52 read.
-- Inputs: spine, upgc.
-- Output: player_lookup, game_date, row_found, team_abbr, home_game, back_to_back,
--   season_phase, days_rest, opponent_days_rest, player_status, games_in_last_7_days,
--   star_teammates_out, minutes_in_last_7_days, prop_over_streak, prop_under_streak (BIGINT),
--   game_total_e9, game_spread_e9 (NUMERIC x 10^9 as BIGINT: exact; float(dec) in Python).
-- Duplicates: the round-1 Q5 tie-break (game_id, team_abbr, opponent_team_abbr,
-- universal_player_id, then every UPGC column, NULLs last): the row the spine chose (§0.8).
-- The x 10^9 integers: a DECIMAL(38,9) y with |y| < 10^5 has |y x 10^9| < 10^14, so
-- round(double(y) x 10^9) is within 0.02 of it (two roundings of relative 2^-53) and equals it;
-- that float path costs a tenth of the HUGEINT multiply and divide, which the other values keep.
WITH keys AS (
    SELECT player_lookup, game_date FROM spine
),
matched AS (
    SELECT u.*
    FROM upgc u
    JOIN keys k ON k.player_lookup = u.player_lookup AND k.game_date = u.game_date
),
-- Only (player, D) with several rows need the tie-break sort; the rest pass straight through.
duplicated AS (
    SELECT player_lookup, game_date FROM matched GROUP BY player_lookup, game_date HAVING count(*) > 1
),
chosen AS (
    SELECT m.* FROM matched m
    WHERE NOT EXISTS (
        SELECT 1 FROM duplicated d WHERE d.player_lookup = m.player_lookup AND d.game_date = m.game_date)
    UNION ALL
    SELECT * EXCLUDE (pick)
    FROM (
        SELECT u.*,
               ROW_NUMBER() OVER (
                   PARTITION BY u.player_lookup, u.game_date
                   ORDER BY u.game_id ASC NULLS LAST, u.team_abbr ASC NULLS LAST,
                            u.opponent_team_abbr ASC NULLS LAST, u.universal_player_id ASC NULLS LAST,
                            /*tiebreak upgc AS u*/
               ) AS pick
        FROM matched u
        JOIN duplicated d ON d.player_lookup = u.player_lookup AND d.game_date = u.game_date
    ) ranked
    WHERE pick = 1
)
SELECT k.player_lookup, k.game_date,
       (r.game_date IS NOT NULL) AS row_found,
       r.team_abbr, r.home_game, r.back_to_back, r.season_phase,
       r.days_rest, r.opponent_days_rest, r.player_status,
       r.games_in_last_7_days, r.star_teammates_out, r.minutes_in_last_7_days,
       r.prop_over_streak, r.prop_under_streak,
       CASE WHEN CAST(r.game_total AS DECIMAL(38, 9)) BETWEEN -99999 AND 99999
            THEN CAST(round(CAST(CAST(r.game_total AS DECIMAL(38, 9)) AS DOUBLE) * 1000000000) AS BIGINT)
            ELSE CAST(CAST(r.game_total AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) END AS game_total_e9,
       CASE WHEN CAST(r.game_spread AS DECIMAL(38, 9)) BETWEEN -99999 AND 99999
            THEN CAST(round(CAST(CAST(r.game_spread AS DECIMAL(38, 9)) AS DOUBLE) * 1000000000) AS BIGINT)
            ELSE CAST(CAST(r.game_spread AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) END AS game_spread_e9
FROM keys k
LEFT JOIN chosen r ON r.player_lookup = k.player_lookup AND r.game_date = k.game_date
