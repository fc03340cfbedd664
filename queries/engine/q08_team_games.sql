-- q08_team_games: Q8 of docs/features.md §3 — the UPGC team's games of season S before D.
-- Inputs: spine, q05_player_context (the UPGC team of each row), team_offense.
-- Output: player_lookup, game_date, team_games (n, duplicates included), team_wins
--   (rows with win_flag TRUE). Only rows whose UPGC row has a non-empty team_abbr.
-- Rule: team_offense rows with team_abbr = T, season_year = S, game_date in [Oct 1 of S, D - 1];
-- evaluated once per (team, D), then joined to the players.
WITH keys AS (
    SELECT s.player_lookup, s.game_date, s.season_year, s.season_oct1, c.team_abbr
    FROM spine s
    JOIN q05_player_context c ON c.player_lookup = s.player_lookup AND c.game_date = s.game_date
    WHERE NOT s.is_placeholder AND c.team_abbr IS NOT NULL AND c.team_abbr <> ''
),
team_dates AS (
    SELECT DISTINCT team_abbr, game_date, season_year, season_oct1 FROM keys
),
counted AS (
    SELECT d.team_abbr, d.game_date,
           count(o.team_abbr) AS team_games,
           count(CASE WHEN o.win_flag THEN 1 END) AS team_wins
    FROM team_dates d
    LEFT JOIN team_offense o
      ON o.team_abbr = d.team_abbr
     AND o.season_year = d.season_year
     AND o.game_date >= d.season_oct1
     AND o.game_date < d.game_date
    GROUP BY d.team_abbr, d.game_date
)
SELECT k.player_lookup, k.game_date, c.team_games, c.team_wins
FROM keys k
JOIN counted c ON c.team_abbr = k.team_abbr AND c.game_date = k.game_date
