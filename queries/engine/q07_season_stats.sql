-- q07_season_stats — Q7 of docs/features.md §3: the rows behind the player's season aggregates of
-- every spine row (the PGS rows with season_year = S and game_date in [Oct 1 of S, D - 1]).
--
-- Inputs: spine (season_year = S), pgs; $minutes_type (the recorded BigQuery type of
--         minutes_played: NUMERIC, INT64 or FLOAT64; bound by fsengine/engine/history.py).
-- Output, in no particular order: one row per spine row (is_game FALSE) and one per PGS row of
-- a spine player dated on or after Oct 1 of its own season_year (is_game TRUE; a row dated
-- before is in no window of its season):
--   is_game BOOLEAN,
--   player_code BIGINT      0-based rank of player_lookup among the spine's players,
--   season_year BIGINT, game_date DATE (spine rows: S and D; PGS rows: the game's),
--   player_lookup           spine rows only,
--   points BIGINT, minutes_e9 BIGINT (minutes_played x 10^9, exact; NULL for FLOAT64),
--   minutes_float DOUBLE (FLOAT64 only: minutes_played), has_minutes BOOLEAN
--       (minutes_played IS NOT NULL): PGS rows only,
--   same_day_place BIGINT   PGS rows only: 0 when it is the player's only row of its date, else
--                           its 1-based place among them in (game_id, then every PGS column of
--                           docs/sources.md §2.1) ascending NULLs last (§0.2).
--
-- How: fsengine/engine/history.py orders each (player, season_year) stream by (game_date,
-- same_day_place), sums the exact integers of the rows before D by prefix sums and binary
-- search, and adds FLOAT64 minutes as float64 running sums in that order (docs/features.md
-- §0.3: AVG over FLOAT64 = running sum in (game_date, game_id) order, then one division) —
-- not here, because DuckDB's SUM over DOUBLE (also as a window) does not add in row order.
WITH players AS (
    SELECT player_lookup, CAST(row_number() OVER (ORDER BY player_lookup) - 1 AS BIGINT) AS player_code
    FROM (SELECT DISTINCT player_lookup FROM spine)
),
games AS (
    SELECT g.*, p.player_code
    FROM pgs AS g
    JOIN players AS p ON p.player_lookup = g.player_lookup
    WHERE g.game_date >= make_date(g.season_year, 10, 1)
),
duplicated AS (
    SELECT player_code, game_date FROM games GROUP BY player_code, game_date HAVING count(*) > 1
),
placed AS (
    SELECT g.player_code, g.season_year, g.game_date, g.points, g.minutes_played, CAST(0 AS BIGINT) AS same_day_place
    FROM games AS g
    WHERE NOT EXISTS (
        SELECT 1 FROM duplicated AS d WHERE d.player_code = g.player_code AND d.game_date = g.game_date)
    UNION ALL
    SELECT g.player_code, g.season_year, g.game_date, g.points, g.minutes_played,
           row_number() OVER (
               PARTITION BY g.player_code, g.game_date
               -- the key game_id, then every PGS column (game_id repeated: changes nothing)
               ORDER BY g.game_id ASC NULLS LAST,
                        /*tiebreak pgs AS g*/
           )
    FROM games AS g
    JOIN duplicated AS d ON d.player_code = g.player_code AND d.game_date = g.game_date
)
SELECT
    FALSE AS is_game,
    p.player_code,
    s.season_year,
    s.game_date,
    s.player_lookup,
    CAST(NULL AS BIGINT) AS points,
    CAST(NULL AS BIGINT) AS minutes_e9,
    CAST(NULL AS DOUBLE) AS minutes_float,
    CAST(NULL AS BOOLEAN) AS has_minutes,
    CAST(NULL AS BIGINT) AS same_day_place
FROM spine AS s
JOIN players AS p ON p.player_lookup = s.player_lookup
UNION ALL
SELECT
    TRUE,
    player_code,
    season_year,
    game_date,
    NULL,
    points,
    CASE
        WHEN $minutes_type <> 'FLOAT64' THEN CAST(CAST(minutes_played AS DECIMAL(38, 9)) * 1000000000 AS BIGINT)
    END,
    CASE WHEN $minutes_type = 'FLOAT64' THEN CAST(minutes_played AS DOUBLE) END,
    minutes_played IS NOT NULL,
    CAST(same_day_place AS BIGINT)
FROM placed
