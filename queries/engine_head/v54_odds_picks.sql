-- v54_odds_picks: the Odds API rows of the three line extractions (v54_vegas_lines,
-- v54_m_book_lines, v54_l_consensus) reduced once to their picks per (player, date, bookmaker,
-- pre-tip), so that the 1M+ odds rows are scanned and grouped once instead of three times.
-- Inputs: spine, odds_api; $odds_lookback_days (14), $odds_pre_tipoff_only.
-- Output: player_lookup, game_date, bookmaker (NULL a group of its own), pre_tip
--   (minutes_before_tipoff >= 0; NULL is not pre-tip), latest, earliest: structs
--   {unstamped, stamp, line} of the group's row first by (a stamped row before an unstamped one;
--   the latest stamp (as the smallest negated epoch, 0 when unstamped) / the earliest stamp;
--   then the lowest line).
-- Rows: points_line > 0, player_lookup NOT NULL, game_date in [min spine date - lookback, max
-- spine date] (the widest range a reader needs: L's lookback from the first spine date, NOT
-- only non-placeholder rows); with $odds_pre_tipoff_only only pre-tip rows (no reader needs
-- the others then). Each reader applies its own date, player and bookmaker filters.
-- Exact: a reader's min over several groups of a struct led by a per-group constant (e.g.
-- draftkings or not) is the min over the groups' rows.
SELECT o.player_lookup, o.game_date, o.bookmaker, coalesce(o.minutes_before_tipoff >= 0, FALSE) AS pre_tip,
       min({'unstamped': o.snapshot_timestamp IS NULL, 'stamp': coalesce(-epoch_us(o.snapshot_timestamp), 0),
            'line': o.points_line}) AS latest,
       min({'unstamped': o.snapshot_timestamp IS NULL, 'stamp': o.snapshot_timestamp, 'line': o.points_line}) AS earliest
FROM odds_api o
WHERE o.points_line > 0 AND o.player_lookup IS NOT NULL
  AND (NOT $odds_pre_tipoff_only OR coalesce(o.minutes_before_tipoff >= 0, FALSE))
  AND o.game_date BETWEEN (SELECT min(game_date) FROM spine) - CAST($odds_lookback_days AS INTEGER)
                      AND (SELECT max(game_date) FROM spine)
GROUP BY o.player_lookup, o.game_date, o.bookmaker, coalesce(o.minutes_before_tipoff >= 0, FALSE)
