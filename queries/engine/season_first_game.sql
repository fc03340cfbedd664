-- season_first_game: per season_year, the earliest PGS game_date of the whole snapshot
-- (docs/features.md §2.5: a season without a built-in start starts on its first game in the
-- snapshot). Computed over the unbounded snapshot before a run or chunk restricts the source
-- tables to its own dates, so every chunk sees the same season starts as one whole run.
-- Inputs: pgs (every row of the snapshot). Output: season_year, first_date.
SELECT season_year, min(game_date) AS first_date
FROM pgs
GROUP BY season_year
