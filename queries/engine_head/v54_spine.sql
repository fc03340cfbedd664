-- v54_spine: the head-2026-07 spine (docs/v2_54/features.md §1 S1, S2) — the round-1 spine
-- (spine.sql, already built as table `spine`) filtered.
-- Inputs: spine, pgs, upgc; $spine_history_filter_days (S1: 60; 0 = no filter),
--   $production_spine_filter (S2 on/off), $production_from, $start.
-- Output: the columns of spine, only the rows that pass, sorted by game_date, player_lookup:
--   S1 (both modes, placeholders exempt): the player has >= 1 PGS row (any row, DNP included)
--      with game_date in [D - $spine_history_filter_days, D - 1];
--   S2 (production rows, D >= $production_from): a UPGC row of (player, D) with
--      (COALESCE(avg_minutes_per_game_last_7, 0) >= 15 OR has_prop_line)
--      AND (player_status IS NULL OR player_status NOT IN ('OUT', 'DOUBTFUL')) [quirk: case]
--      AND (is_production_ready OR has_prop_line), NULL failing (three-valued logic).
-- S1 is an ASOF join: the player's newest PGS date before D, which must be >= D - days; dates
-- before $start - days (every D >= $start) can pass for no row and are not read. The join runs
-- on the distinct (player, D) keys only and the rows are kept by a semi join on the keys that
-- pass (an ASOF join carrying every spine column costs more).
WITH pgs_dates AS (
    SELECT DISTINCT player_lookup, game_date FROM pgs
    WHERE game_date >= $start - CAST($spine_history_filter_days AS INTEGER)
),
recent_keys AS (
    SELECT k.player_lookup, k.game_date
    FROM (SELECT DISTINCT player_lookup, game_date FROM spine WHERE NOT is_placeholder) k
    ASOF JOIN pgs_dates p ON p.player_lookup = k.player_lookup AND k.game_date > p.game_date
    WHERE p.game_date >= k.game_date - CAST($spine_history_filter_days AS INTEGER)
)
SELECT s.*
FROM spine s
WHERE (s.is_placeholder OR $spine_history_filter_days = 0 OR EXISTS (
          SELECT 1 FROM recent_keys r WHERE r.player_lookup = s.player_lookup AND r.game_date = s.game_date))
  AND (s.game_date < $production_from OR NOT $production_spine_filter OR EXISTS (
          SELECT 1 FROM upgc u
          WHERE u.player_lookup = s.player_lookup AND u.game_date = s.game_date
            AND coalesce(coalesce(u.avg_minutes_per_game_last_7, 0) >= 15 OR u.has_prop_line = TRUE, FALSE)
            AND coalesce(u.player_status IS NULL OR u.player_status NOT IN ('OUT', 'DOUBTFUL'), FALSE)
            AND coalesce(u.is_production_ready = TRUE OR u.has_prop_line = TRUE, FALSE)))
ORDER BY s.game_date, s.player_lookup
