-- v54_l_consensus: extraction L of docs/v2_54/features.md §4 (feature 54) — the latest pre-tip line
-- per (player, date, bookmaker) for every date of [min D - $odds_lookback_days, max D];
-- the lower-middle consensus and the delta are computed in Python.
-- Inputs: spine, v54_odds_picks (the Odds API picks); $odds_lookback_days (14).
-- Output: player_lookup, line_date, bookmaker, points_line; unordered (the readers sort each
--   (player, date)'s lines themselves).
-- Rule: rows with minutes_before_tipoff >= 0 and points_line > 0, every bookmaker (bovada
-- included); latest by snapshot_timestamp DESC, points_line ASC (§0.8; rows tied on both carry the same line).
-- How: the pre-tip picks of v54_odds_picks (its `latest`: the min of a struct ordered as the
-- rule, a stamped row before an unstamped one; the latest stamp as the smallest negated epoch;
-- then the line), of spine players.
WITH spine_players AS (
    SELECT DISTINCT player_lookup FROM spine WHERE NOT is_placeholder
)
SELECT o.player_lookup, o.game_date AS line_date, o.bookmaker, o.latest.line AS points_line
FROM v54_odds_picks o JOIN spine_players s ON s.player_lookup = o.player_lookup
WHERE o.pre_tip
  AND o.game_date BETWEEN (SELECT min(game_date) FROM spine) - CAST($odds_lookback_days AS INTEGER)
                      AND (SELECT max(game_date) FROM spine)
