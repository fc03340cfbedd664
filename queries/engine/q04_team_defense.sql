-- q04_team_defense: Q4 of docs/features.md §3 — the opponent's team-defense row of every (player, D).
-- Inputs: spine, team_defense, $team_defense_fallback_days.
-- Output: player_lookup, game_date, table_has_rows, row_found, source_date,
--   opponent_def_rating (= defensive_rating_last_15), opponent_pace (DOUBLE).
--   One row per non-placeholder spine row; unknown opponent (NULL or '') finds nothing.
-- Rule: the row of team_abbr = opponent at D when the table has any row at D; otherwise
-- (table-level fallback) that team's latest row in [D - fallback, D]. Ties: §0.2, docs/sources.md
-- column order, NULLs last. Evaluated once per (opponent, D), then joined to the players.
WITH keys AS (
    SELECT player_lookup, game_date, opponent_team_abbr
    FROM spine
    WHERE NOT is_placeholder
),
table_dates AS (
    SELECT DISTINCT analysis_date FROM team_defense
),
opponents AS (
    SELECT DISTINCT k.opponent_team_abbr, k.game_date, (t.analysis_date IS NOT NULL) AS table_has_rows
    FROM keys k LEFT JOIN table_dates t ON t.analysis_date = k.game_date
    WHERE k.opponent_team_abbr IS NOT NULL AND k.opponent_team_abbr <> ''
),
candidates AS (
    SELECT o.opponent_team_abbr, o.game_date AS for_date, d.*
    FROM opponents o
    JOIN team_defense d ON d.team_abbr = o.opponent_team_abbr AND d.analysis_date = o.game_date
    WHERE o.table_has_rows
    UNION ALL
    SELECT o.opponent_team_abbr, o.game_date AS for_date, d.*
    FROM opponents o
    JOIN team_defense d
      ON d.team_abbr = o.opponent_team_abbr
     AND d.analysis_date BETWEEN o.game_date - $team_defense_fallback_days AND o.game_date
    WHERE NOT o.table_has_rows
),
ranked AS (
    SELECT *,
           ROW_NUMBER() OVER (
               PARTITION BY opponent_team_abbr, for_date
               ORDER BY analysis_date DESC NULLS LAST,
                        /*tiebreak team_defense*/
           ) AS pick
    FROM candidates
)
SELECT k.player_lookup, k.game_date, (t.analysis_date IS NOT NULL) AS table_has_rows,
       (r.analysis_date IS NOT NULL) AS row_found,
       r.analysis_date AS source_date,
       CAST(r.defensive_rating_last_15 AS DOUBLE) AS opponent_def_rating,
       CAST(r.opponent_pace AS DOUBLE) AS opponent_pace
FROM keys k
LEFT JOIN table_dates t ON t.analysis_date = k.game_date
LEFT JOIN ranked r
  ON r.opponent_team_abbr = k.opponent_team_abbr AND r.for_date = k.game_date AND r.pick = 1
