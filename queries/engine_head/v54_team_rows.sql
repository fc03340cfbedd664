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
-- D (last), and slot s is the row game_seq = last - s. A NULL team is a team of its own. The
-- joins match on a number per (team, season), not on the name (ASOF joins partition and sort
-- integers faster than strings).
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
team_seasons AS (
    -- a number per (team, season): the ASOF join and the slot lookup match on it
    SELECT team_key, no_team, team_abbr, season_year, season_oct1, row_number() OVER () AS group_no
    FROM (SELECT DISTINCT team_key, no_team, team_abbr, season_year, season_oct1 FROM team_games)
),
numbered_games AS (
    SELECT t.group_no, g.game_date, g.game_seq, g.pace_e9, g.offensive_rating_e9
    FROM team_games g
    JOIN team_seasons t
      ON t.team_key = g.team_key AND t.no_team = g.no_team AND t.season_year = g.season_year
     AND t.season_oct1 = g.season_oct1
),
seq_through_date AS (
    SELECT group_no, game_date, max(game_seq) AS game_seq FROM numbered_games GROUP BY group_no, game_date
),
bounded AS (
    SELECT t.group_no, t.team_abbr, d.game_date, coalesce(l.game_seq, 0) AS last_seq
    FROM team_seasons t
    JOIN dates d ON d.season_year = t.season_year AND d.season_oct1 = t.season_oct1
    ASOF LEFT JOIN seq_through_date l ON l.group_no = t.group_no AND d.game_date > l.game_date
),
wanted AS (
    SELECT *, unnest(range(least(CAST($last10_size AS BIGINT), last_seq))) AS slot FROM bounded
)
SELECT w.team_abbr, w.game_date, CAST(w.slot AS BIGINT) AS slot, g.pace_e9, g.offensive_rating_e9
FROM wanted w
JOIN numbered_games g ON g.group_no = w.group_no AND g.game_seq = w.last_seq - w.slot
