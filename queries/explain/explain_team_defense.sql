-- explain_team_defense: the opponent's team-defense row(s) behind one (player, D), as evidence.
-- What: whether the table has any row at analysis_date = D (else the table-level fallback of
--   Q4 fires: the opponent's latest row in [D - team_defense_fallback_days, D]), and the
--   candidate rows of team_abbr = $opponent at the chosen date, `chosen` marking the
--   tie-break pick (§0.2). An unknown opponent is passed as '' and matches nothing.
--   Always at least one row.
-- Inputs: view team_defense; $opponent, $game_date, $team_defense_fallback_days.
-- Output: table_has_rows_at_date, fallback_fired, candidates, chosen, then the columns of docs/sources.md §2.6.
-- Spec: docs/features.md §3 Q4.
WITH day AS (
    SELECT count(*) > 0 AS table_has_rows_at_date FROM team_defense WHERE analysis_date = $game_date
),
eligible AS (
    SELECT t.*
    FROM team_defense AS t CROSS JOIN day
    WHERE t.team_abbr = $opponent
      AND ((day.table_has_rows_at_date AND t.analysis_date = $game_date)
           OR (NOT day.table_has_rows_at_date
               AND t.analysis_date BETWEEN $game_date - $team_defense_fallback_days AND $game_date))
),
at_chosen_date AS (
    SELECT * FROM eligible WHERE analysis_date = (SELECT max(analysis_date) FROM eligible)
),
ranked AS (
    SELECT
        count(*) OVER () AS candidates,
        row_number() OVER (
            ORDER BY /*tiebreak team_defense*/
        ) = 1 AS chosen,
        *
    FROM at_chosen_date
)
SELECT day.table_has_rows_at_date, NOT day.table_has_rows_at_date AS fallback_fired, ranked.*
FROM day LEFT JOIN ranked ON TRUE
ORDER BY ranked.chosen DESC NULLS LAST
