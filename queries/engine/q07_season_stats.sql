-- q07_season_stats — Q7 of features.md §3: the player's season aggregates for every spine row,
-- over the PGS rows with season_year = S and game_date in [Oct 1 of S, D - 1].
--
-- Inputs: spine (season_year = S), pgs; $minutes_type (the recorded BigQuery type of
--         minutes_played: NUMERIC, INT64 or FLOAT64; bound by fsengine/engine/history.py).
-- Output: one row per spine row:
--   player_lookup, game_date,
--   season_games BIGINT      rows in the window (DNP and duplicates count; 0 = Q7 absent),
--   points_count BIGINT      rows with non-NULL points,
--   points_sum BIGINT        exact sum of the non-NULL points,
--   minutes_count BIGINT     rows with non-NULL minutes_played,
--   minutes_sum_scaled HUGEINT  exact sum of minutes_played x 10^9 (NUMERIC, INT64) or
--                            x 2^80 (FLOAT64: every float64 minutes value >= 2^-28 is a whole
--                            multiple of 2^-80),
--   minutes_avg_e9 BIGINT    NUMERIC only: AVG(minutes_played) rounded to 9 decimals half away
--                            from zero, x 10^9 (NULL when minutes_count = 0 or not NUMERIC).
-- The float results (points average, N1/N3 NaN, the non-NUMERIC minutes average = the exact
-- mean rounded once) are formed from these exact integers by fsengine/engine/history.py.
--
-- How: the player's PGS rows dated on or after Oct 1 of their season_year and one probe per
-- spine row form one stream per (player, season_year), ordered by date with probes before
-- the games of their own date; the running sums at a probe cover exactly [Oct 1 of S, D - 1]
-- of season_year S. Exact: every summed value is an integer or a scaled integer.
WITH events AS (
    SELECT
        1 AS is_game,
        player_lookup,
        season_year,
        game_date,
        points,
        CASE
            WHEN $minutes_type = 'FLOAT64'
                THEN CAST(CAST(minutes_played AS DOUBLE) * CAST(1208925819614629174706176 AS DOUBLE) AS HUGEINT)
            ELSE CAST(CAST(minutes_played AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT)
        END AS minutes_scaled
    FROM pgs
    -- a row dated before Oct 1 of its own season_year is in no window of that season
    WHERE game_date >= make_date(season_year, 10, 1)
    UNION ALL
    SELECT 0, player_lookup, season_year, game_date, NULL, NULL
    FROM spine
),
framed AS (
    SELECT
        is_game,
        player_lookup,
        game_date,
        COALESCE(SUM(is_game) OVER season_so_far, 0) AS season_games,
        COUNT(points) OVER season_so_far AS points_count,
        COALESCE(SUM(points) OVER season_so_far, 0) AS points_sum,
        COUNT(minutes_scaled) OVER season_so_far AS minutes_count,
        COALESCE(SUM(minutes_scaled) OVER season_so_far, 0) AS minutes_sum_scaled
    FROM events
    WINDOW season_so_far AS (
        PARTITION BY player_lookup, season_year
        -- probes sort before the games of their own date: the running sums are "before D"
        ORDER BY game_date ASC NULLS LAST, is_game ASC NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
)
SELECT
    player_lookup,
    game_date,
    CAST(season_games AS BIGINT) AS season_games,
    CAST(points_count AS BIGINT) AS points_count,
    CAST(points_sum AS BIGINT) AS points_sum,
    CAST(minutes_count AS BIGINT) AS minutes_count,
    CAST(minutes_sum_scaled AS HUGEINT) AS minutes_sum_scaled,
    -- BigQuery NUMERIC division: 9 decimals, half away from zero, on exact integers
    CAST(CASE
        WHEN $minutes_type <> 'NUMERIC' OR minutes_count = 0 THEN NULL
        WHEN minutes_sum_scaled >= 0
            THEN (2 * minutes_sum_scaled + minutes_count) // (2 * minutes_count)
        ELSE -((2 * (-minutes_sum_scaled) + minutes_count) // (2 * minutes_count))
    END AS BIGINT) AS minutes_avg_e9
FROM framed
WHERE is_game = 0
