-- v54_team_rows: Q8′ of docs/v2_54/features.md §2.3, for the cache-miss fallback's team pace and
-- offensive rating (§2.4): for every team and every date D of the spine, the team's last
-- $last10_size team_offense rows of season S(D) with game_date in [Oct 1 of S, D - 1].
-- Inputs: spine, team_offense; $last10_size.
-- Output: team_abbr, game_date (D), slot (0 = newest), pace_e9, offensive_rating_e9
--   (NUMERIC x 10^9 as BIGINT, NULL kept in its slot).
-- Order: game_date ASC, game_id ASC, then the selected columns (§0.8); "the last 10" = the 10 newest,
-- so slots number that order reversed.
-- How (no (date, team row) pairs): one window pass numbers each team's rows of each season
-- (from its Oct 1) in that order (game_seq 1 = oldest; rows tied on every key carry the same
-- output columns); an ASOF join on the per-date running count gives the team's rows before
-- D (last), and slot s is the row game_seq = last - s. A NULL team is a team of its own.
WITH dates AS (
    SELECT DISTINCT game_date, season_year, season_oct1 FROM spine WHERE NOT is_placeholder
),
seasons AS (
    SELECT DISTINCT season_year, season_oct1 FROM dates
),
team_games AS (
    SELECT coalesce(o.team_abbr, '') AS team_key, o.team_abbr IS NULL AS no_team, o.team_abbr,
           s.season_year, s.season_oct1, o.game_date,
           CAST(CAST(o.pace AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS pace_e9,
           CAST(CAST(o.offensive_rating AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS offensive_rating_e9,
           ROW_NUMBER() OVER (
               PARTITION BY o.team_abbr, s.season_year, s.season_oct1
               ORDER BY o.game_date ASC, o.game_id ASC NULLS LAST, o.win_flag ASC NULLS LAST,
                        o.pace ASC NULLS LAST, o.offensive_rating ASC NULLS LAST
           ) AS game_seq
    FROM team_offense o
    JOIN seasons s ON o.season_year = s.season_year AND o.game_date >= s.season_oct1
),
seq_through_date AS (
    SELECT team_key, no_team, season_year, season_oct1, game_date, max(game_seq) AS game_seq
    FROM team_games GROUP BY team_key, no_team, season_year, season_oct1, game_date
),
team_dates AS (
    SELECT t.team_key, t.no_team, t.team_abbr, t.season_year, t.season_oct1, d.game_date
    FROM (SELECT DISTINCT team_key, no_team, team_abbr, season_year, season_oct1 FROM team_games) t
    JOIN dates d ON d.season_year = t.season_year AND d.season_oct1 = t.season_oct1
),
bounded AS (
    SELECT t.team_key, t.no_team, t.team_abbr, t.season_year, t.season_oct1, t.game_date,
           coalesce(l.game_seq, 0) AS last_seq
    FROM team_dates t
    ASOF LEFT JOIN seq_through_date l
        ON l.team_key = t.team_key AND l.no_team = t.no_team AND l.season_year = t.season_year
       AND l.season_oct1 = t.season_oct1 AND t.game_date > l.game_date
),
wanted AS (
    SELECT *, unnest(range(least(CAST($last10_size AS BIGINT), last_seq))) AS slot FROM bounded
)
SELECT w.team_abbr, w.game_date, CAST(w.slot AS BIGINT) AS slot, g.pace_e9, g.offensive_rating_e9
FROM wanted w
JOIN team_games g
  ON g.team_key = w.team_key AND g.no_team = w.no_team AND g.season_year = w.season_year
 AND g.season_oct1 = w.season_oct1 AND g.game_seq = w.last_seq - w.slot
