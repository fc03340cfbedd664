-- v54_team_rows: Q8′ of docs/v2_54/features.md §2.3, for the cache-miss fallback's team pace and
-- offensive rating (§2.4): for every team and every date D of the spine, the team's last
-- $last10_size team_offense rows of season S(D) with game_date in [Oct 1 of S, D - 1].
-- Inputs: spine, team_offense; $last10_size.
-- Output: team_abbr, game_date (D), slot (0 = newest), pace_e9, offensive_rating_e9
--   (NUMERIC x 10^9 as BIGINT, NULL kept in its slot).
-- Order: game_date ASC, game_id ASC, then the selected columns (§0.8); "the last 10" = the 10 newest,
-- so slots number that order reversed.
WITH dates AS (
    SELECT DISTINCT game_date, season_year, season_oct1 FROM spine WHERE NOT is_placeholder
),
ranked AS (
    SELECT d.game_date AS key_date, o.*,
           ROW_NUMBER() OVER (
               PARTITION BY o.team_abbr, d.game_date
               ORDER BY o.game_date DESC, o.game_id DESC NULLS FIRST, o.win_flag DESC NULLS FIRST,
                        o.pace DESC NULLS FIRST, o.offensive_rating DESC NULLS FIRST
           ) - 1 AS slot
    FROM dates d
    JOIN team_offense o
      ON o.season_year = d.season_year AND o.game_date >= d.season_oct1 AND o.game_date < d.game_date
)
SELECT team_abbr, key_date AS game_date, CAST(slot AS BIGINT) AS slot,
       CAST(CAST(pace AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS pace_e9,
       CAST(CAST(offensive_rating AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS offensive_rating_e9
FROM ranked
WHERE slot < $last10_size
