-- q11_minutes_ppm — Q11 of features.md §3: minutes and points-per-minute over the player's PGS
-- rows with game_date in [D - minutes_ppm_window_days, D - 1] and minutes_played > 0, for
-- every spine row.
--
-- Inputs: spine, pgs; $minutes_ppm_window_days; $minutes_type (the recorded BigQuery type of
--         minutes_played: NUMERIC, INT64 or FLOAT64; bound by fsengine/engine/history.py).
-- Output: one row per spine row:
--   player_lookup, game_date,
--   mppm_games BIGINT        qualifying rows (0 = Q11 absent),
--   minutes_sum_scaled HUGEINT  exact sum of minutes_played x 10^9 (NUMERIC, INT64) or x 2^80
--                            (FLOAT64: every float64 value >= 2^-28 is a multiple of 2^-80),
--   minutes_avg_e9 BIGINT    NUMERIC only: AVG(minutes_played), 9 decimals half away from zero,
--                            x 10^9,
--   ppm_count BIGINT         qualifying rows with non-NULL points,
--   ppm_avg_e9 BIGINT        NUMERIC only: AVG of the per-row ratios points / minutes_played,
--                            each ratio and the mean rounded to 9 decimals half away from zero,
--                            x 10^9 (NULL when ppm_count = 0),
--   ratio_sum_x2p80 HUGEINT  non-NUMERIC only: the exact sum of the float64 ratios
--                            points / minutes_played, x 2^80 (NULL when ppm_count = 0).
-- fsengine/engine/history.py forms the float values (non-NUMERIC: exact means rounded once).
--
-- How: the qualifying rows and one probe per spine row form one stream per player, ordered
-- by day; each probe's window frame covers the days [D - minutes_ppm_window_days, D - 1].
-- Exact: every summed value is an integer or a scaled integer.
WITH qualifying AS (
    SELECT
        player_lookup,
        game_date,
        points,
        minutes_played,
        CAST(CAST(minutes_played AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT) AS minutes_e9,
        CASE
            WHEN $minutes_type = 'FLOAT64'
                THEN CAST(CAST(minutes_played AS DOUBLE) * CAST(1208925819614629174706176 AS DOUBLE) AS HUGEINT)
            ELSE CAST(CAST(minutes_played AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT)
        END AS minutes_scaled
    FROM pgs
    WHERE minutes_played > 0
),
events AS (
    SELECT
        1 AS is_game,
        player_lookup,
        game_date,
        minutes_scaled,
        CASE WHEN points IS NULL THEN 0 ELSE 1 END AS has_points,
        CASE
            WHEN points IS NULL THEN CAST(0 AS HUGEINT)
            -- NUMERIC INT64 / NUMERIC: the quotient rounded to 9 decimals half away from zero
            WHEN $minutes_type = 'NUMERIC' AND points >= 0
                THEN (2 * CAST(points AS HUGEINT) * CAST(1000000000000000000 AS HUGEINT) + minutes_e9)
                     // (2 * minutes_e9)
            WHEN $minutes_type = 'NUMERIC'
                THEN -((2 * CAST(-points AS HUGEINT) * CAST(1000000000000000000 AS HUGEINT) + minutes_e9)
                       // (2 * minutes_e9))
            -- FLOAT64 points / minutes_played, held exactly as a multiple of 2^-80
            ELSE CAST(
                (CAST(points AS DOUBLE) / CAST(minutes_played AS DOUBLE))
                * CAST(1208925819614629174706176 AS DOUBLE) AS HUGEINT)
        END AS ratio_scaled
    FROM qualifying
    UNION ALL
    SELECT 0, player_lookup, game_date, CAST(0 AS HUGEINT), 0, CAST(0 AS HUGEINT)
    FROM spine
),
framed AS (
    SELECT
        is_game,
        player_lookup,
        game_date,
        COALESCE(SUM(is_game) OVER last_days, 0) AS mppm_games,
        COALESCE(SUM(minutes_scaled) OVER last_days, 0) AS minutes_sum_scaled,
        COALESCE(SUM(has_points) OVER last_days, 0) AS ppm_count,
        COALESCE(SUM(ratio_scaled) OVER last_days, 0) AS ratio_sum_scaled
    FROM events
    WINDOW last_days AS (
        PARTITION BY player_lookup
        ORDER BY game_date - DATE '1970-01-01' ASC NULLS LAST
        RANGE BETWEEN CAST($minutes_ppm_window_days AS BIGINT) PRECEDING AND 1 PRECEDING
    )
)
SELECT
    player_lookup,
    game_date,
    CAST(mppm_games AS BIGINT) AS mppm_games,
    CAST(minutes_sum_scaled AS HUGEINT) AS minutes_sum_scaled,
    -- minutes are > 0 here, so the sums are positive: half away from zero = half up
    CAST(CASE
        WHEN $minutes_type <> 'NUMERIC' OR mppm_games = 0 THEN NULL
        ELSE (2 * minutes_sum_scaled + mppm_games) // (2 * mppm_games)
    END AS BIGINT) AS minutes_avg_e9,
    CAST(ppm_count AS BIGINT) AS ppm_count,
    CAST(CASE
        WHEN $minutes_type <> 'NUMERIC' OR ppm_count = 0 THEN NULL
        WHEN ratio_sum_scaled >= 0
            THEN (2 * ratio_sum_scaled + ppm_count) // (2 * ppm_count)
        ELSE -((2 * (-ratio_sum_scaled) + ppm_count) // (2 * ppm_count))
    END AS BIGINT) AS ppm_avg_e9,
    CASE
        WHEN $minutes_type = 'NUMERIC' OR ppm_count = 0 THEN NULL
        ELSE CAST(ratio_sum_scaled AS HUGEINT)
    END AS ratio_sum_x2p80
FROM framed
WHERE is_game = 0
