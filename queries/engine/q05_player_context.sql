-- q05_player_context: Q5 of docs/features.md §3 — the player's UPGC row at D, for every spine row
-- (placeholders included: their days_rest comes from it too).
-- Inputs: spine, upgc.
-- Output: player_lookup, game_date, row_found, team_abbr, home_game, back_to_back, season_phase,
--   days_rest, opponent_days_rest, player_status.
-- Duplicates: the §0.2 tie-break with the keys of §2.2 (game_id, team_abbr, opponent_team_abbr,
-- universal_player_id) then every UPGC column in docs/sources.md order, NULLs last — the same order
-- as the production spine, so production picks the very row the spine chose. No fallback.
WITH keys AS (
    SELECT player_lookup, game_date FROM spine
),
context AS (
    SELECT u.*
    FROM upgc u
    JOIN keys k ON k.player_lookup = u.player_lookup AND k.game_date = u.game_date
),
-- Only (player, D) with several rows need the tie-break sort; the rest pass straight through.
duplicated AS (
    SELECT player_lookup, game_date FROM context GROUP BY player_lookup, game_date HAVING count(*) > 1
),
chosen AS (
    SELECT c.player_lookup, c.game_date, c.team_abbr, c.home_game, c.back_to_back, c.season_phase,
           c.days_rest, c.opponent_days_rest, c.player_status
    FROM context c
    WHERE NOT EXISTS (
        SELECT 1 FROM duplicated d WHERE d.player_lookup = c.player_lookup AND d.game_date = c.game_date)
    UNION ALL
    SELECT player_lookup, game_date, team_abbr, home_game, back_to_back, season_phase,
           days_rest, opponent_days_rest, player_status
    FROM (
        SELECT c.*,
               ROW_NUMBER() OVER (
                   PARTITION BY c.player_lookup, c.game_date
                   ORDER BY c.game_id ASC NULLS LAST, c.team_abbr ASC NULLS LAST,
                            c.opponent_team_abbr ASC NULLS LAST, c.universal_player_id ASC NULLS LAST,
                            /*tiebreak upgc AS c*/
               ) AS pick
        FROM context c
        JOIN duplicated d ON d.player_lookup = c.player_lookup AND d.game_date = c.game_date
    ) ranked
    WHERE pick = 1
)
SELECT k.player_lookup, k.game_date,
       (r.game_date IS NOT NULL) AS row_found,
       r.team_abbr, r.home_game, r.back_to_back, r.season_phase,
       r.days_rest, r.opponent_days_rest, r.player_status
FROM keys k
LEFT JOIN chosen r ON r.player_lookup = k.player_lookup AND r.game_date = k.game_date
