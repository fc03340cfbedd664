-- q06_last10 — Q6 of docs/features.md §3: the rows behind the last-10 list (§5) and total_games
-- (§8) of every spine row, all dates in one statement.
--
-- Inputs: spine, pgs; $minutes_type (the recorded BigQuery type of minutes_played, bound by
--         fsengine/engine/history.py).
-- Output, in no particular order: one row per spine row (is_game FALSE) and one per PGS row of
-- a spine player (is_game TRUE):
--   is_game BOOLEAN,
--   player_code BIGINT      0-based rank of player_lookup among the spine's players (ordering
--                           by it orders by player_lookup),
--   game_date DATE          spine rows: D; PGS rows: the game's date,
--   player_lookup           spine rows only,
--   same_day_place BIGINT   PGS rows only: 0 when it is the player's only row of its date, else
--                           its 1-based place among them in the list order's tie-break reversed
--                           (§5: game_date DESC, then §0.2 with key game_id and every PGS column
--                           of docs/sources.md §2.1 ascending NULLs last),
--   points BIGINT, minutes_e9 BIGINT, minutes_float DOUBLE, ft_makes BIGINT, is_dnp BOOLEAN:
--       PGS rows only; minutes_e9 = minutes_played x 10^9 as an integer (exact for NUMERIC
--       and INT64), minutes_float = minutes_played as float64 when it is FLOAT64 (else NULL).
--
-- How: ordered by (player_code, game_date, same_day_place), a player's PGS rows are the stream
-- whose run just before D, read backwards, is the spine row's list. fsengine/engine/history.py
-- sorts them, finds that place by binary search, keeps at most last10_size rows dated
-- >= D - last10_window_days, and counts total_games (the rows in
-- [D - total_games_window_days, D - 1], DNP and duplicate rows included) the same way. Only
-- the few rows sharing a (player, date) need the tie-break sort.
WITH players AS (
    SELECT player_lookup, CAST(row_number() OVER (ORDER BY player_lookup) - 1 AS BIGINT) AS player_code
    FROM (SELECT DISTINCT player_lookup FROM spine)
),
games AS (
    SELECT g.*, p.player_code FROM pgs AS g JOIN players AS p ON p.player_lookup = g.player_lookup
),
duplicated AS (
    SELECT player_code, game_date FROM games GROUP BY player_code, game_date HAVING count(*) > 1
),
placed AS (
    SELECT g.player_code, g.game_date, g.points, g.minutes_played, g.ft_makes, g.is_dnp,
           CAST(0 AS BIGINT) AS same_day_place
    FROM games AS g
    WHERE NOT EXISTS (
        SELECT 1 FROM duplicated AS d WHERE d.player_code = g.player_code AND d.game_date = g.game_date)
    UNION ALL
    SELECT g.player_code, g.game_date, g.points, g.minutes_played, g.ft_makes, g.is_dnp,
           row_number() OVER (
               PARTITION BY g.player_code, g.game_date
               -- the key game_id, then every PGS column (game_id repeated: changes nothing)
               ORDER BY g.game_id DESC NULLS FIRST,
                        /*tiebreak pgs AS g reversed*/
           )
    FROM games AS g
    JOIN duplicated AS d ON d.player_code = g.player_code AND d.game_date = g.game_date
)
SELECT
    FALSE AS is_game,
    p.player_code,
    s.game_date,
    s.player_lookup,
    CAST(NULL AS BIGINT) AS same_day_place,
    CAST(NULL AS BIGINT) AS points,
    CAST(NULL AS BIGINT) AS minutes_e9,
    CAST(NULL AS DOUBLE) AS minutes_float,
    CAST(NULL AS BIGINT) AS ft_makes,
    CAST(NULL AS BOOLEAN) AS is_dnp
FROM spine AS s
JOIN players AS p ON p.player_lookup = s.player_lookup
UNION ALL
SELECT
    TRUE,
    player_code,
    game_date,
    NULL,
    CAST(same_day_place AS BIGINT),
    points,
    CAST(CAST(minutes_played AS DECIMAL(38, 9)) * 1000000000 AS BIGINT),
    -- only the FLOAT64 path reads it (exact there; NUMERIC needs minutes_e9)
    CASE WHEN $minutes_type = 'FLOAT64' THEN CAST(minutes_played AS DOUBLE) END,
    ft_makes,
    is_dnp
FROM placed
