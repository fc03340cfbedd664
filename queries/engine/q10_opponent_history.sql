-- q10_opponent_history — Q10 of docs/features.md §3: the player's games against the spine row's
-- opponent O in [D - opponent_window_years calendar years, D - 1], for every spine row.
-- "D - 1 year" is date-minus-interval (same month and day, Feb 29 -> Feb 28, §0.1).
--
-- Inputs: spine (opponent_team_abbr = O; known = non-empty string, §2.4), pgs;
--         $opponent_window_years.
-- Output: one row per spine row:
--   player_lookup, game_date,
--   opponent_known BOOLEAN,
--   opp_games BIGINT         rows with opponent_team_abbr = O in the window (DNP and
--                            duplicates count; 0 when never faced; NULL when O is unknown),
--   opp_points_count BIGINT  of those, rows with non-NULL points (NULL when O is unknown),
--   opp_points_sum BIGINT    exact sum of their points (NULL when O is unknown).
-- fsengine/engine/history.py forms AVG = points_sum / points_count and the N2 NaN.
--
-- How: the player's rows and one probe per spine row form one stream per (player, opponent),
-- ordered by day; each probe's window frame covers the days [D - 1 year, D - 1] (its length
-- in days, 365 or 366, is computed per probe from the calendar).
WITH events AS (
    SELECT
        1 AS is_game,
        player_lookup,
        opponent_team_abbr,
        game_date,
        0 AS window_days,
        points
    FROM pgs
    UNION ALL
    SELECT
        0,
        player_lookup,
        opponent_team_abbr,
        game_date,
        game_date - CAST(game_date - $opponent_window_years * INTERVAL 1 YEAR AS DATE),
        NULL
    FROM spine
),
framed AS (
    SELECT
        is_game,
        player_lookup,
        opponent_team_abbr,
        game_date,
        COALESCE(SUM(is_game) OVER last_years, 0) AS opp_games,
        COUNT(points) OVER last_years AS opp_points_count,
        COALESCE(SUM(points) OVER last_years, 0) AS opp_points_sum
    FROM events
    WINDOW last_years AS (
        PARTITION BY player_lookup, opponent_team_abbr
        ORDER BY game_date - DATE '1970-01-01' ASC NULLS LAST
        RANGE BETWEEN window_days PRECEDING AND 1 PRECEDING
    )
)
SELECT
    player_lookup,
    game_date,
    opponent_known,
    CASE WHEN opponent_known THEN CAST(opp_games AS BIGINT) END AS opp_games,
    CASE WHEN opponent_known THEN CAST(opp_points_count AS BIGINT) END AS opp_points_count,
    CASE WHEN opponent_known THEN CAST(opp_points_sum AS BIGINT) END AS opp_points_sum
FROM (
    SELECT
        *,
        COALESCE(opponent_team_abbr <> '', FALSE) AS opponent_known
    FROM framed
    WHERE is_game = 0
) AS probes
