-- q11_minutes_ppm — Q11 of features.md §3: minutes and points-per-minute over the player's PGS
-- rows with game_date in [D - minutes_ppm_window_days, D - 1] and minutes_played > 0, for
-- every spine row.
--
-- Inputs: spine, pgs; $minutes_ppm_window_days.
-- Output: one row per spine row:
--   player_lookup, game_date,
--   mppm_games BIGINT        qualifying rows (0 = Q11 absent),
--   minutes_sum_e9 BIGINT    exact sum of minutes_played x 10^9,
--   minutes_avg_e9 BIGINT    NUMERIC AVG(minutes_played), 9 decimals half away from zero, x 10^9,
--   ppm_count BIGINT         qualifying rows with non-NULL points,
--   ppm_avg_e9 BIGINT        NUMERIC path: AVG of the per-row ratios points / minutes_played,
--                            each ratio and the mean rounded to 9 decimals half away from
--                            zero, x 10^9 (NULL when ppm_count = 0),
--   ppm_sum_x2p80 VARCHAR    non-NUMERIC path: the exact sum of the float64 ratios
--                            points / minutes_played, times 2^80, as a decimal integer string
--                            (every float64 ratio >= 2^-28 is a whole multiple of 2^-80).
-- The _e9 columns are meaningful when minutes_played is NUMERIC, ppm_sum_x2p80 when it is
-- INT64 (or FLOAT64); fsengine/engine/history.py picks the path and forms the float values.
--
-- How: running sums over the player's qualifying rows merged with two probes per spine row
-- (at D and at D - window); the window aggregate is their difference (exact integers).
WITH qualifying AS (
    SELECT
        player_lookup,
        game_date,
        points,
        minutes_played,
        CAST(CAST(minutes_played AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT) AS minutes_e9
    FROM pgs
    WHERE minutes_played > 0
),
events AS (
    SELECT
        player_lookup,
        game_date AS event_date,
        1 AS is_game,
        CAST(NULL AS DATE) AS spine_date,
        0 AS probe,
        minutes_e9,
        CASE WHEN points IS NULL THEN 0 ELSE 1 END AS has_points,
        -- NUMERIC INT64 / NUMERIC: the quotient rounded to 9 decimals half away from zero
        CASE
            WHEN points IS NULL THEN CAST(0 AS HUGEINT)
            WHEN points >= 0
                THEN (2 * CAST(points AS HUGEINT) * CAST(1000000000000000000 AS HUGEINT) + minutes_e9)
                     // (2 * minutes_e9)
            ELSE -((2 * CAST(-points AS HUGEINT) * CAST(1000000000000000000 AS HUGEINT) + minutes_e9)
                   // (2 * minutes_e9))
        END AS ratio_e9,
        -- FLOAT64 points / minutes_played, held exactly as a multiple of 2^-80
        CASE
            WHEN points IS NULL THEN CAST(0 AS HUGEINT)
            ELSE CAST(
                (CAST(points AS DOUBLE) / CAST(minutes_played AS DOUBLE))
                * CAST(1208925819614629174706176 AS DOUBLE) AS HUGEINT)
        END AS ratio_x2p80
    FROM qualifying
    UNION ALL
    SELECT player_lookup, game_date, 0, game_date, 1,
           CAST(0 AS HUGEINT), 0, CAST(0 AS HUGEINT), CAST(0 AS HUGEINT)
    FROM spine
    UNION ALL
    SELECT player_lookup, game_date - CAST($minutes_ppm_window_days AS INTEGER), 0, game_date, 2,
           CAST(0 AS HUGEINT), 0, CAST(0 AS HUGEINT), CAST(0 AS HUGEINT)
    FROM spine
),
running AS (
    SELECT
        player_lookup,
        spine_date,
        probe,
        is_game,
        SUM(is_game) OVER so_far AS games,
        SUM(minutes_e9) OVER so_far AS minutes_sum_e9,
        SUM(has_points) OVER so_far AS ppm_count,
        SUM(ratio_e9) OVER so_far AS ratio_sum_e9,
        SUM(ratio_x2p80) OVER so_far AS ratio_sum_x2p80
    FROM events
    -- probes sort before the games of their own date: every sum is "dated strictly before"
    WINDOW so_far AS (
        PARTITION BY player_lookup
        ORDER BY event_date ASC NULLS LAST, is_game ASC NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
windowed AS (
    SELECT
        player_lookup,
        spine_date AS game_date,
        SUM(CASE WHEN probe = 1 THEN games ELSE -games END) AS mppm_games,
        SUM(CASE WHEN probe = 1 THEN minutes_sum_e9 ELSE -minutes_sum_e9 END) AS minutes_sum_e9,
        SUM(CASE WHEN probe = 1 THEN ppm_count ELSE -ppm_count END) AS ppm_count,
        SUM(CASE WHEN probe = 1 THEN ratio_sum_e9 ELSE -ratio_sum_e9 END) AS ratio_sum_e9,
        SUM(CASE WHEN probe = 1 THEN ratio_sum_x2p80 ELSE -ratio_sum_x2p80 END) AS ratio_sum_x2p80
    FROM running
    WHERE is_game = 0
    GROUP BY player_lookup, spine_date
)
SELECT
    sp.player_lookup,
    sp.game_date,
    CAST(w.mppm_games AS BIGINT) AS mppm_games,
    CAST(w.minutes_sum_e9 AS BIGINT) AS minutes_sum_e9,
    -- minutes are > 0 here, so the sums are positive: half away from zero = half up
    CAST(CASE
        WHEN w.mppm_games = 0 THEN NULL
        ELSE (2 * w.minutes_sum_e9 + w.mppm_games) // (2 * w.mppm_games)
    END AS BIGINT) AS minutes_avg_e9,
    CAST(w.ppm_count AS BIGINT) AS ppm_count,
    CAST(CASE
        WHEN w.ppm_count = 0 THEN NULL
        WHEN w.ratio_sum_e9 >= 0
            THEN (2 * w.ratio_sum_e9 + w.ppm_count) // (2 * w.ppm_count)
        ELSE -((2 * (-w.ratio_sum_e9) + w.ppm_count) // (2 * w.ppm_count))
    END AS BIGINT) AS ppm_avg_e9,
    CASE WHEN w.ppm_count = 0 THEN NULL ELSE CAST(w.ratio_sum_x2p80 AS VARCHAR) END AS ppm_sum_x2p80
FROM spine AS sp
JOIN windowed AS w
    ON w.player_lookup = sp.player_lookup AND w.game_date = sp.game_date
