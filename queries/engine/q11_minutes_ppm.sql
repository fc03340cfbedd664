-- q11_minutes_ppm — Q11 of docs/features.md §3: the rows behind the minutes and points-per-minute
-- averages over the player's PGS rows with game_date in [D - minutes_ppm_window_days, D - 1]
-- and minutes_played > 0 (the qualifying rows), for every spine row.
--
-- Inputs: spine, pgs; $minutes_type (the recorded BigQuery type of minutes_played: NUMERIC,
--         INT64 or FLOAT64; bound by fsengine/engine/history.py).
-- Output, in no particular order: one row per spine row (is_game FALSE) and one per qualifying
-- row of a spine player (is_game TRUE):
--   is_game BOOLEAN,
--   player_code BIGINT      0-based rank of player_lookup among the spine's players,
--   game_date DATE          spine rows: D; PGS rows: the game's date,
--   player_lookup           spine rows only,
--   has_points BOOLEAN      PGS rows only: points IS NOT NULL,
--   minutes_e9 BIGINT       NUMERIC, INT64: minutes_played x 10^9, exact (NULL for FLOAT64),
--   ratio_e9 BIGINT         NUMERIC only: points / minutes_played rounded to 9 decimals half
--                           away from zero, x 10^9 (NULL when points is NULL),
--   ratio_float DOUBLE      INT64, FLOAT64: upstream's per-row float64 quotient
--                           points / minutes_played (NULL when points is NULL),
--   minutes_float DOUBLE    INT64, FLOAT64: minutes_played as float64,
--   same_day_place BIGINT   PGS rows only: 0 when it is the player's only qualifying row of its
--                           date, else its 1-based place among them in (game_id, then every PGS
--                           column of docs/sources.md §2.1) ascending NULLs last (§0.2).
--
-- How: fsengine/engine/history.py orders each player's qualifying rows by (game_date,
-- same_day_place), finds a spine row's window by binary search, sums the exact integers by
-- prefix sums (NUMERIC: AVG = the sum rounded half away from zero), and adds the float64
-- values of the INT64/FLOAT64 path as running sums in that order (docs/features.md §0.3) —
-- not here, because DuckDB's SUM over DOUBLE (also as a window) does not add in row order.
WITH players AS (
    SELECT player_lookup, CAST(row_number() OVER (ORDER BY player_lookup) - 1 AS BIGINT) AS player_code
    FROM (SELECT DISTINCT player_lookup FROM spine)
),
games AS (
    SELECT g.*, p.player_code,
           CAST(CAST(g.minutes_played AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT) AS minutes_scaled
    FROM pgs AS g
    JOIN players AS p ON p.player_lookup = g.player_lookup
    WHERE g.minutes_played > 0
),
duplicated AS (
    SELECT player_code, game_date FROM games GROUP BY player_code, game_date HAVING count(*) > 1
),
placed AS (
    SELECT g.player_code, g.game_date, g.points, g.minutes_played, g.minutes_scaled,
           CAST(0 AS BIGINT) AS same_day_place
    FROM games AS g
    WHERE NOT EXISTS (
        SELECT 1 FROM duplicated AS d WHERE d.player_code = g.player_code AND d.game_date = g.game_date)
    UNION ALL
    SELECT g.player_code, g.game_date, g.points, g.minutes_played, g.minutes_scaled,
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
    s.game_date,
    s.player_lookup,
    CAST(NULL AS BOOLEAN) AS has_points,
    CAST(NULL AS BIGINT) AS minutes_e9,
    CAST(NULL AS BIGINT) AS ratio_e9,
    CAST(NULL AS DOUBLE) AS ratio_float,
    CAST(NULL AS DOUBLE) AS minutes_float,
    CAST(NULL AS BIGINT) AS same_day_place
FROM spine AS s
JOIN players AS p ON p.player_lookup = s.player_lookup
UNION ALL
SELECT
    TRUE,
    player_code,
    game_date,
    NULL,
    points IS NOT NULL,
    CASE WHEN $minutes_type <> 'FLOAT64' THEN CAST(minutes_scaled AS BIGINT) END,
    CASE
        WHEN $minutes_type <> 'NUMERIC' OR points IS NULL THEN NULL
        -- NUMERIC INT64 / NUMERIC: the quotient rounded to 9 decimals half away from zero
        WHEN points >= 0
            THEN CAST((2 * CAST(points AS HUGEINT) * CAST(1000000000000000000 AS HUGEINT) + minutes_scaled)
                      // (2 * minutes_scaled) AS BIGINT)
        ELSE CAST(-((2 * CAST(-points AS HUGEINT) * CAST(1000000000000000000 AS HUGEINT) + minutes_scaled)
                    // (2 * minutes_scaled)) AS BIGINT)
    END,
    -- upstream's per-row FLOAT64 quotient (INT64 points / INT64 or FLOAT64 minutes)
    CASE WHEN $minutes_type <> 'NUMERIC' THEN CAST(points AS DOUBLE) / CAST(minutes_played AS DOUBLE) END,
    CASE WHEN $minutes_type <> 'NUMERIC' THEN CAST(minutes_played AS DOUBLE) END,
    CAST(same_day_place AS BIGINT)
FROM placed
