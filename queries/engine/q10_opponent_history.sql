-- q10_opponent_history — Q10 of docs/features.md §3: the rows behind the player's games against the
-- spine row's opponent O in [D - opponent_window_years calendar years, D - 1], for every spine
-- row. "D - 1 year" is date-minus-interval (same month and day, Feb 29 -> Feb 28, §0.1).
--
-- Inputs: spine (opponent_team_abbr = O; known = non-empty string, §2.4), pgs;
--         $opponent_window_years.
-- Output, in no particular order: one row per spine row (is_game FALSE) and one per PGS row of
-- a spine player against an opponent some spine row has (is_game TRUE):
--   is_game BOOLEAN,
--   player_code BIGINT      0-based rank of player_lookup among the spine's players,
--   opponent_code BIGINT    0-based rank of opponent_team_abbr among the spine's opponents
--                           (NULL for a spine row without opponent),
--   game_date DATE          spine rows: D; PGS rows: the game's date,
--   player_lookup, window_start DATE (D - opponent_window_years years), opponent_known
--       BOOLEAN: spine rows only,
--   points BIGINT           PGS rows only.
--
-- How: fsengine/engine/history.py orders the games by (player, opponent, date) and counts and
-- sums, by prefix sums and binary search, the games of a spine row's (player, O) dated in
-- [window_start, D - 1] (DNP and duplicates count), and forms AVG = points_sum / points_count
-- and the N2 NaN; games and sums are NULL when O is unknown.
WITH players AS (
    SELECT player_lookup, CAST(row_number() OVER (ORDER BY player_lookup) - 1 AS BIGINT) AS player_code
    FROM (SELECT DISTINCT player_lookup FROM spine)
),
opponents AS (
    SELECT opponent_team_abbr,
           CAST(row_number() OVER (ORDER BY opponent_team_abbr) - 1 AS BIGINT) AS opponent_code
    FROM (SELECT DISTINCT opponent_team_abbr FROM spine WHERE opponent_team_abbr IS NOT NULL)
)
SELECT
    FALSE AS is_game,
    p.player_code,
    o.opponent_code,
    s.game_date,
    s.player_lookup,
    CAST(s.game_date - $opponent_window_years * INTERVAL 1 YEAR AS DATE) AS window_start,
    COALESCE(s.opponent_team_abbr <> '', FALSE) AS opponent_known,
    CAST(NULL AS BIGINT) AS points
FROM spine AS s
JOIN players AS p ON p.player_lookup = s.player_lookup
LEFT JOIN opponents AS o ON o.opponent_team_abbr = s.opponent_team_abbr
UNION ALL
SELECT
    TRUE,
    p.player_code,
    o.opponent_code,
    g.game_date,
    NULL,
    NULL,
    NULL,
    g.points
FROM pgs AS g
JOIN players AS p ON p.player_lookup = g.player_lookup
JOIN opponents AS o ON o.opponent_team_abbr = g.opponent_team_abbr
