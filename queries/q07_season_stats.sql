-- q07_season_stats — Q7 of features.md §3: the player's season aggregates for every spine row,
-- over the PGS rows with season_year = S and game_date in [Oct 1 of S, D - 1].
--
-- Inputs: spine (season_year = S, season_oct1 = Oct 1 of S), pgs.
-- Output: one row per spine row:
--   player_lookup, game_date,
--   season_games BIGINT      rows in the window (DNP and duplicates count; 0 = Q7 absent),
--   points_count BIGINT      rows with non-NULL points,
--   points_sum BIGINT        exact sum of the non-NULL points,
--   minutes_count BIGINT     rows with non-NULL minutes_played,
--   minutes_sum_e9 BIGINT    exact sum of minutes_played x 10^9,
--   minutes_avg_e9 BIGINT    NUMERIC AVG: minutes_sum_e9 / minutes_count rounded to 9 decimals
--                            half away from zero, still x 10^9 (NULL when minutes_count = 0);
--                            meaningful only when minutes_played is NUMERIC (§0.3).
-- The float results (points average, N1/N3 NaN, the non-NUMERIC minutes average) are formed
-- from these exact integers by fsengine/engine/history.py.
--
-- How: running sums over the player's season rows merged with two probes per spine row (at D
-- and at Oct 1 of S); a window aggregate is the difference of the two running sums. Exact,
-- since every summed value is an integer (points) or a scaled integer (minutes).
WITH events AS (
    SELECT
        player_lookup,
        season_year,
        game_date AS event_date,
        1 AS is_game,
        CAST(NULL AS DATE) AS spine_date,
        0 AS probe,
        CASE WHEN points IS NULL THEN 0 ELSE 1 END AS has_points,
        COALESCE(points, 0) AS points,
        CASE WHEN minutes_played IS NULL THEN 0 ELSE 1 END AS has_minutes,
        COALESCE(CAST(CAST(minutes_played AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT), 0) AS minutes_e9
    FROM pgs
    UNION ALL
    SELECT player_lookup, season_year, game_date, 0, game_date, 1, 0, 0, 0, CAST(0 AS HUGEINT)
    FROM spine
    UNION ALL
    SELECT player_lookup, season_year, season_oct1, 0, game_date, 2, 0, 0, 0, CAST(0 AS HUGEINT)
    FROM spine
),
running AS (
    SELECT
        player_lookup,
        spine_date,
        probe,
        is_game,
        SUM(is_game) OVER season_so_far AS games,
        SUM(has_points) OVER season_so_far AS points_count,
        SUM(points) OVER season_so_far AS points_sum,
        SUM(has_minutes) OVER season_so_far AS minutes_count,
        SUM(minutes_e9) OVER season_so_far AS minutes_sum_e9
    FROM events
    -- probes sort before the games of their own date: every sum is "dated strictly before"
    WINDOW season_so_far AS (
        PARTITION BY player_lookup, season_year
        ORDER BY event_date ASC NULLS LAST, is_game ASC NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
windowed AS (
    SELECT
        player_lookup,
        spine_date AS game_date,
        SUM(CASE WHEN probe = 1 THEN games ELSE -games END) AS season_games,
        SUM(CASE WHEN probe = 1 THEN points_count ELSE -points_count END) AS points_count,
        SUM(CASE WHEN probe = 1 THEN points_sum ELSE -points_sum END) AS points_sum,
        SUM(CASE WHEN probe = 1 THEN minutes_count ELSE -minutes_count END) AS minutes_count,
        SUM(CASE WHEN probe = 1 THEN minutes_sum_e9 ELSE -minutes_sum_e9 END) AS minutes_sum_e9
    FROM running
    WHERE is_game = 0
    GROUP BY player_lookup, spine_date
)
SELECT
    sp.player_lookup,
    sp.game_date,
    CAST(w.season_games AS BIGINT) AS season_games,
    CAST(w.points_count AS BIGINT) AS points_count,
    CAST(w.points_sum AS BIGINT) AS points_sum,
    CAST(w.minutes_count AS BIGINT) AS minutes_count,
    CAST(w.minutes_sum_e9 AS BIGINT) AS minutes_sum_e9,
    -- BigQuery NUMERIC division: 9 decimals, half away from zero, on exact integers
    CAST(CASE
        WHEN w.minutes_count = 0 THEN NULL
        WHEN w.minutes_sum_e9 >= 0
            THEN (2 * w.minutes_sum_e9 + w.minutes_count) // (2 * w.minutes_count)
        ELSE -((2 * (-w.minutes_sum_e9) + w.minutes_count) // (2 * w.minutes_count))
    END AS BIGINT) AS minutes_avg_e9
FROM spine AS sp
JOIN windowed AS w
    ON w.player_lookup = sp.player_lookup AND w.game_date = sp.game_date
