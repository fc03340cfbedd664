-- explain_team_games: the team's season games behind feature 24 (team_win_pct), as evidence.
-- What: team_offense rows of team_abbr = $team (the UPGC row's team), season_year = S and
--   game_date in [Oct 1 of S, D - 1]: row count (duplicates included) and wins.
-- Inputs: view team_offense; $team, $game_date, $season_year, $season_oct1.
-- Output: one row: games, wins, first_game, last_game.
-- Spec: docs/features.md §3 Q8, §6 feature 24.
SELECT
    count(*) AS games,
    count(*) FILTER (WHERE win_flag) AS wins,
    min(game_date) AS first_game,
    max(game_date) AS last_game
FROM team_offense
WHERE team_abbr = $team
  AND season_year = $season_year
  AND game_date BETWEEN $season_oct1 AND $game_date - 1
