-- v54_spine: the head-2026-07 spine (docs/v2_54/features.md §1 S1, S2) — the round-1 spine
-- (spine.sql, already built as table `spine`) filtered.
-- Inputs: spine, pgs, upgc; $spine_history_filter_days (S1: 60; 0 = no filter),
--   $production_spine_filter (S2 on/off), $production_from.
-- Output: the columns of spine, only the rows that pass, sorted by game_date, player_lookup:
--   S1 (both modes, placeholders exempt): the player has >= 1 PGS row (any row, DNP included)
--      with game_date in [D - $spine_history_filter_days, D - 1];
--   S2 (production rows, D >= $production_from): a UPGC row of (player, D) with
--      (COALESCE(avg_minutes_per_game_last_7, 0) >= 15 OR has_prop_line)
--      AND (player_status IS NULL OR player_status NOT IN ('OUT', 'DOUBTFUL')) [quirk: case]
--      AND (is_production_ready OR has_prop_line), NULL failing (three-valued logic).
SELECT s.*
FROM spine s
WHERE (s.is_placeholder OR $spine_history_filter_days = 0 OR EXISTS (
          SELECT 1 FROM pgs p
          WHERE p.player_lookup = s.player_lookup
            AND p.game_date BETWEEN s.game_date - CAST($spine_history_filter_days AS INTEGER) AND s.game_date - 1))
  AND (s.game_date < $production_from OR NOT $production_spine_filter OR EXISTS (
          SELECT 1 FROM upgc u
          WHERE u.player_lookup = s.player_lookup AND u.game_date = s.game_date
            AND coalesce(coalesce(u.avg_minutes_per_game_last_7, 0) >= 15 OR u.has_prop_line = TRUE, FALSE)
            AND coalesce(u.player_status IS NULL OR u.player_status NOT IN ('OUT', 'DOUBTFUL'), FALSE)
            AND coalesce(u.is_production_ready = TRUE OR u.has_prop_line = TRUE, FALSE)))
ORDER BY s.game_date, s.player_lookup
