-- run_dates: the game dates a run over [$start, $end] can produce rows for, used to split the
-- run into chunks of consecutive game dates: PGS dates before $production_from (the backfill
-- spine) and UPGC dates from it on (the production spine), as docs/features.md §2.1 builds them.
-- Inputs: pgs, upgc, $start, $end, $production_from. Output: game_date, rows (spine candidates).
SELECT game_date, count(DISTINCT player_lookup) AS rows
FROM (
    SELECT game_date, player_lookup FROM pgs
    WHERE game_date BETWEEN $start AND $end AND game_date < $production_from
    UNION ALL
    SELECT game_date, player_lookup FROM upgc
    WHERE game_date BETWEEN $start AND $end AND game_date >= $production_from
)
GROUP BY game_date
ORDER BY game_date
