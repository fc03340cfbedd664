-- q05_player_context: Q5 of features.md §3 — the player's UPGC row at D, for every spine row
-- (placeholders included: their days_rest comes from it too).
-- Inputs: spine, upgc.
-- Output: player_lookup, game_date, row_found, team_abbr, home_game, back_to_back, season_phase,
--   days_rest, opponent_days_rest, player_status.
-- Duplicates: the §0.2 tie-break with the keys of §2.2 (game_id, team_abbr, opponent_team_abbr,
-- universal_player_id) then every UPGC column in sources.md order, NULLs last — the same order
-- as the production spine, so production picks the very row the spine chose. No fallback.
WITH keys AS (
    SELECT player_lookup, game_date FROM spine
),
ranked AS (
    SELECT u.*,
           ROW_NUMBER() OVER (
               PARTITION BY u.player_lookup, u.game_date
               ORDER BY u.game_id ASC NULLS LAST, u.team_abbr ASC NULLS LAST,
                        u.opponent_team_abbr ASC NULLS LAST, u.universal_player_id ASC NULLS LAST,
                        u.player_lookup ASC NULLS LAST, u.universal_player_id ASC NULLS LAST,
                        u.game_id ASC NULLS LAST, u.game_date ASC NULLS LAST, u.team_abbr ASC NULLS LAST,
                        u.opponent_team_abbr ASC NULLS LAST, u.home_game ASC NULLS LAST,
                        u.back_to_back ASC NULLS LAST, u.season_phase ASC NULLS LAST,
                        u.days_rest ASC NULLS LAST, u.opponent_days_rest ASC NULLS LAST,
                        u.player_status ASC NULLS LAST
           ) AS pick
    FROM upgc u
    JOIN keys k ON k.player_lookup = u.player_lookup AND k.game_date = u.game_date
)
SELECT k.player_lookup, k.game_date,
       (r.game_date IS NOT NULL) AS row_found,
       r.team_abbr, r.home_game, r.back_to_back, r.season_phase,
       r.days_rest, r.opponent_days_rest, r.player_status
FROM keys k
LEFT JOIN ranked r ON r.player_lookup = k.player_lookup AND r.game_date = k.game_date AND r.pick = 1
