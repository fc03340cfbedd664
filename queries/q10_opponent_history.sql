-- q10_opponent_history — Q10 of features.md §3: the player's games against the spine row's
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
-- How: running counts over the player's rows against each opponent, merged with two probes
-- per known-opponent spine row (at D and at D - 1 year); the window is their difference.
WITH known AS (
    SELECT player_lookup, game_date, opponent_team_abbr
    FROM spine
    WHERE opponent_team_abbr IS NOT NULL AND opponent_team_abbr <> ''
),
events AS (
    SELECT
        player_lookup,
        opponent_team_abbr,
        game_date AS event_date,
        1 AS is_game,
        CAST(NULL AS DATE) AS spine_date,
        0 AS probe,
        CASE WHEN points IS NULL THEN 0 ELSE 1 END AS has_points,
        COALESCE(points, 0) AS points
    FROM pgs
    UNION ALL
    SELECT player_lookup, opponent_team_abbr, game_date, 0, game_date, 1, 0, 0
    FROM known
    UNION ALL
    SELECT player_lookup, opponent_team_abbr,
           CAST(game_date - $opponent_window_years * INTERVAL 1 YEAR AS DATE),
           0, game_date, 2, 0, 0
    FROM known
),
running AS (
    SELECT
        player_lookup,
        spine_date,
        probe,
        is_game,
        SUM(is_game) OVER versus_so_far AS games,
        SUM(has_points) OVER versus_so_far AS points_count,
        SUM(points) OVER versus_so_far AS points_sum
    FROM events
    -- probes sort before the games of their own date: every sum is "dated strictly before"
    WINDOW versus_so_far AS (
        PARTITION BY player_lookup, opponent_team_abbr
        ORDER BY event_date ASC NULLS LAST, is_game ASC NULLS LAST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
windowed AS (
    SELECT
        player_lookup,
        spine_date AS game_date,
        SUM(CASE WHEN probe = 1 THEN games ELSE -games END) AS opp_games,
        SUM(CASE WHEN probe = 1 THEN points_count ELSE -points_count END) AS opp_points_count,
        SUM(CASE WHEN probe = 1 THEN points_sum ELSE -points_sum END) AS opp_points_sum
    FROM running
    WHERE is_game = 0
    GROUP BY player_lookup, spine_date
)
SELECT
    sp.player_lookup,
    sp.game_date,
    w.player_lookup IS NOT NULL AS opponent_known,
    CAST(w.opp_games AS BIGINT) AS opp_games,
    CAST(w.opp_points_count AS BIGINT) AS opp_points_count,
    CAST(w.opp_points_sum AS BIGINT) AS opp_points_sum
FROM spine AS sp
LEFT JOIN windowed AS w
    ON w.player_lookup = sp.player_lookup AND w.game_date = sp.game_date
