-- spine: the (player_lookup, game_date) rows a run produces (docs/features.md §2.1-§2.5).
-- Inputs: pgs (backfill dates), upgc (production dates), season_start_builtin (profile),
--   season_first_game (first PGS date per season over the whole snapshot),
--   $start, $end, $production_from (first date built from the production spine: as_of in
--   modes auto/backfill, start when production is forced), $early_season_days,
--   $fallback_season_start_month, $fallback_season_start_day.
-- Output: player_lookup, game_date, universal_player_id, game_id, opponent_team_abbr, is_home,
--   season_year, season_oct1, season_start, is_placeholder.
-- Backfill (§2.2): every PGS row of D, duplicates collapsed per (player, D) by the §0.2
-- tie-break (keys game_id, team_abbr, opponent_team_abbr, universal_player_id, then every PGS
-- column in docs/sources.md order); is_home from the third '_' token of game_id. Production (§2.3):
-- the UPGC rows of D, collapsed the same way; is_home = home_game.
-- Early season (§2.5): 0 <= D - start(S) < $early_season_days; backfill skips the date,
-- production emits placeholder rows. start(S) = the profile's built-in date, else the earliest
-- PGS game_date with season_year = S in the snapshot, else the fallback month/day of S.
WITH pgs_run AS (
    SELECT * FROM pgs WHERE game_date BETWEEN $start AND $end AND game_date < $production_from
),
-- Only (player, D) with several rows need the tie-break sort; the rest pass straight through.
pgs_duplicated AS (
    SELECT player_lookup, game_date FROM pgs_run GROUP BY player_lookup, game_date HAVING count(*) > 1
),
pgs_chosen AS (
    SELECT p.player_lookup, p.game_date, p.universal_player_id, p.game_id, p.team_abbr, p.opponent_team_abbr
    FROM pgs_run p
    WHERE NOT EXISTS (
        SELECT 1 FROM pgs_duplicated d WHERE d.player_lookup = p.player_lookup AND d.game_date = p.game_date)
    UNION ALL
    SELECT player_lookup, game_date, universal_player_id, game_id, team_abbr, opponent_team_abbr
    FROM (
        SELECT p.*,
               ROW_NUMBER() OVER (
                   PARTITION BY p.player_lookup, p.game_date
                   ORDER BY p.game_id ASC NULLS LAST, p.team_abbr ASC NULLS LAST,
                            p.opponent_team_abbr ASC NULLS LAST, p.universal_player_id ASC NULLS LAST,
                            /*tiebreak pgs AS p*/
               ) AS pick
        FROM pgs_run p
        JOIN pgs_duplicated d ON d.player_lookup = p.player_lookup AND d.game_date = p.game_date
    ) ranked
    WHERE pick = 1
),
backfill AS (
    SELECT player_lookup, game_date, universal_player_id, game_id, opponent_team_abbr,
           coalesce(len(string_split(game_id, '_')) >= 3
                    AND string_split(game_id, '_')[3] = team_abbr, false) AS is_home,
           FALSE AS from_production
    FROM pgs_chosen
),
upgc_run AS (
    SELECT * FROM upgc WHERE game_date BETWEEN $start AND $end AND game_date >= $production_from
),
upgc_duplicated AS (
    SELECT player_lookup, game_date FROM upgc_run GROUP BY player_lookup, game_date HAVING count(*) > 1
),
production AS (
    SELECT u.player_lookup, u.game_date, u.universal_player_id, u.game_id, u.opponent_team_abbr,
           u.home_game AS is_home, TRUE AS from_production
    FROM upgc_run u
    WHERE NOT EXISTS (
        SELECT 1 FROM upgc_duplicated d WHERE d.player_lookup = u.player_lookup AND d.game_date = u.game_date)
    UNION ALL
    SELECT player_lookup, game_date, universal_player_id, game_id, opponent_team_abbr,
           home_game AS is_home, TRUE AS from_production
    FROM (
        SELECT u.*,
               ROW_NUMBER() OVER (
                   PARTITION BY u.player_lookup, u.game_date
                   ORDER BY u.game_id ASC NULLS LAST, u.team_abbr ASC NULLS LAST,
                            u.opponent_team_abbr ASC NULLS LAST, u.universal_player_id ASC NULLS LAST,
                            /*tiebreak upgc AS u*/
               ) AS pick
        FROM upgc_run u
        JOIN upgc_duplicated d ON d.player_lookup = u.player_lookup AND d.game_date = u.game_date
    ) ranked
    WHERE pick = 1
),
candidates AS (
    SELECT c.*,
           CAST(CASE WHEN month(game_date) >= 10 THEN year(game_date) ELSE year(game_date) - 1 END AS BIGINT)
               AS season_year
    FROM (SELECT * FROM backfill UNION ALL SELECT * FROM production) c
),
seasons AS (
    SELECT DISTINCT season_year FROM candidates
),
first_pgs_date AS (
    SELECT season_year, first_date FROM season_first_game
    WHERE season_year IN (SELECT season_year FROM seasons)
),
season_start AS (
    SELECT s.season_year,
           coalesce(b.start_date, f.first_date,
                    make_date(s.season_year, $fallback_season_start_month, $fallback_season_start_day))
               AS start_date
    FROM seasons s
    LEFT JOIN season_start_builtin b ON b.season_year = s.season_year
    LEFT JOIN first_pgs_date f ON f.season_year = s.season_year
),
flagged AS (
    SELECT c.*, ss.start_date AS season_start,
           (c.game_date >= ss.start_date AND c.game_date < ss.start_date + $early_season_days) AS early_season
    FROM candidates c
    JOIN season_start ss ON ss.season_year = c.season_year
)
SELECT player_lookup, game_date, universal_player_id, game_id, opponent_team_abbr, is_home,
       season_year, make_date(season_year, 10, 1) AS season_oct1, season_start,
       (from_production AND early_season) AS is_placeholder
FROM flagged
WHERE from_production OR NOT early_season
