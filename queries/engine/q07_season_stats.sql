-- q07_season_stats — Q7 of docs/features.md §3: the player's season aggregates for every spine row,
-- over the PGS rows with season_year = S and game_date in [Oct 1 of S, D - 1].
--
-- Inputs: spine (season_year = S), pgs; $minutes_type (the recorded BigQuery type of
--         minutes_played: NUMERIC, INT64 or FLOAT64; bound by fsengine/engine/history.py).
-- Output: one row per spine row (minutes_seq NULL):
--   player_lookup, game_date, season_year,
--   season_games BIGINT      rows in the window (DNP and duplicates count; 0 = Q7 absent),
--   points_count BIGINT      rows with non-NULL points,
--   points_sum BIGINT        exact sum of the non-NULL points,
--   minutes_count BIGINT     rows with non-NULL minutes_played,
--   minutes_sum_scaled HUGEINT  NUMERIC, INT64: exact sum of minutes_played x 10^9 (NULL for
--                            FLOAT64, whose average is a float64 running sum, below),
--   minutes_avg_e9 BIGINT    NUMERIC only: AVG(minutes_played) rounded to 9 decimals half away
--                            from zero, x 10^9 (NULL when minutes_count = 0 or not NUMERIC);
-- plus, on the FLOAT64 path only, one row per PGS row with non-NULL minutes (minutes_seq NOT
-- NULL): player_lookup, season_year, game_date (the game's), minutes_seq BIGINT = its 1-based
-- place among those rows of (player, season_year) in (game_date, game_id, then every PGS
-- column of docs/sources.md §2.1 ascending NULLs last: §0.2), minutes_float DOUBLE = minutes_played.
-- A spine row's window holds exactly the first minutes_count of them (they all precede D).
-- fsengine/engine/history.py sums them in that order (docs/features.md §0.3: AVG over FLOAT64 =
-- float64 running sum in (game_date, game_id) order, then one division) — not here, because
-- DuckDB's SUM over DOUBLE (also as a window) does not add in row order.
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
        minutes_played,
        CASE
            WHEN $minutes_type = 'FLOAT64' THEN NULL
            ELSE CAST(CAST(minutes_played AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT)
        END AS minutes_scaled
    FROM pgs
    -- a row dated before Oct 1 of its own season_year is in no window of that season
    WHERE game_date >= make_date(season_year, 10, 1)
    UNION ALL
    SELECT 0, player_lookup, season_year, game_date, NULL, NULL, NULL
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
        season_year,
        COUNT(minutes_played) OVER season_so_far AS minutes_count,
        SUM(minutes_scaled) OVER season_so_far AS minutes_sum_scaled
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
    season_year,
    CAST(season_games AS BIGINT) AS season_games,
    CAST(points_count AS BIGINT) AS points_count,
    CAST(points_sum AS BIGINT) AS points_sum,
    CAST(minutes_count AS BIGINT) AS minutes_count,
    CAST(CASE WHEN $minutes_type = 'FLOAT64' THEN NULL ELSE COALESCE(minutes_sum_scaled, 0) END AS HUGEINT)
        AS minutes_sum_scaled,
    -- BigQuery NUMERIC division: 9 decimals, half away from zero, on exact integers
    CAST(CASE
        WHEN $minutes_type <> 'NUMERIC' OR minutes_count = 0 THEN NULL
        WHEN minutes_sum_scaled >= 0
            THEN (2 * minutes_sum_scaled + minutes_count) // (2 * minutes_count)
        ELSE -((2 * (-minutes_sum_scaled) + minutes_count) // (2 * minutes_count))
    END AS BIGINT) AS minutes_avg_e9,
    CAST(NULL AS BIGINT) AS minutes_seq,
    CAST(NULL AS DOUBLE) AS minutes_float
FROM framed
WHERE is_game = 0
UNION ALL
SELECT
    player_lookup,
    game_date,
    season_year,
    NULL, NULL, NULL, NULL, NULL, NULL,
    CAST(ROW_NUMBER() OVER (
        PARTITION BY player_lookup, season_year
        ORDER BY game_date ASC NULLS LAST,
                 game_id ASC NULLS LAST,
                 universal_player_id ASC NULLS LAST,
                 team_abbr ASC NULLS LAST,
                 opponent_team_abbr ASC NULLS LAST,
                 points ASC NULLS LAST,
                 minutes_played ASC NULLS LAST,
                 ft_makes ASC NULLS LAST,
                 is_dnp ASC NULLS LAST
    ) AS BIGINT),
    CAST(minutes_played AS DOUBLE)
FROM pgs
-- the same rows as the games of the stream above, with non-NULL minutes
WHERE $minutes_type = 'FLOAT64'
  AND game_date >= make_date(season_year, 10, 1)
  AND minutes_played IS NOT NULL
