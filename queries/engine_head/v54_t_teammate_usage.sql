-- v54_t_teammate_usage: extraction T of docs/v2_54/features.md §4 (feature 47) — the usage freed by
-- injured teammates, per non-placeholder spine row that has a result.
-- Inputs: spine, v54_player_context (Q5′: the player's UPGC team), injury_report, pgs;
--   $teammate_usage_window_days (30), the minutes bound 10.
-- Output: player_lookup, game_date, freed_e9 (HUGEINT: the exact NUMERIC sum x 10^9).
-- Rule: injured(D) = distinct (player_lookup, team) of report_date = D rows with
-- lower(injury_status) in ('out', 'doubtful') and player_lookup NOT NULL (any report hour)
-- [quirk]; a(p) = NUMERIC AVG of usage_rate over p's PGS rows (any team) in [D - 30, D - 1]
-- with usage_rate NOT NULL and minutes_played > 10, rounded to 9 decimals half away from zero
-- (§0.4: integer arithmetic on usage x 10^9); freed(team) = exact sum of a(p) over the team's
-- pairs with such rows; every player whose Q5′ team_abbr equals that team and who is not
-- injured at D under any team gets freed(team).
-- The x 10^9 integers: a DECIMAL(38,9) y with |y| < 10^5 has |y x 10^9| < 10^14, so
-- round(double(y) x 10^9) is within 0.02 of it (two roundings of relative 2^-53) and equals it;
-- that float path costs a tenth of the HUGEINT multiply and cast, which the other values keep.
WITH dates AS (
    SELECT DISTINCT game_date FROM spine WHERE NOT is_placeholder
),
injured AS (
    SELECT DISTINCT i.report_date AS game_date, i.player_lookup, i.team
    FROM injury_report i JOIN dates d ON d.game_date = i.report_date
    WHERE lower(i.injury_status) IN ('out', 'doubtful') AND i.player_lookup IS NOT NULL
),
usage AS (
    SELECT j.game_date, j.player_lookup, j.team,
           sum(CASE WHEN CAST(p.usage_rate AS DECIMAL(38, 9)) BETWEEN -99999 AND 99999
                    THEN CAST(round(CAST(CAST(p.usage_rate AS DECIMAL(38, 9)) AS DOUBLE) * 1000000000) AS HUGEINT)
                    ELSE CAST(CAST(p.usage_rate AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT) END) AS usage_sum_e9,
           count(*) AS n
    FROM injured j
    JOIN pgs p
      ON p.player_lookup = j.player_lookup
     AND p.game_date BETWEEN j.game_date - CAST($teammate_usage_window_days AS INTEGER) AND j.game_date - 1
    WHERE p.usage_rate IS NOT NULL AND p.minutes_played > 10
    GROUP BY j.game_date, j.player_lookup, j.team
),
averaged AS (
    -- exact mean rounded to 9 decimals half away from zero: sign * floor((2|s| + n) / 2n)
    SELECT game_date, team,
           sign(usage_sum_e9) * ((2 * abs(usage_sum_e9) + n) // (2 * n)) AS avg_e9
    FROM usage
),
freed AS (
    SELECT game_date, team, sum(avg_e9) AS freed_e9 FROM averaged GROUP BY game_date, team
)
SELECT c.player_lookup, c.game_date, CAST(f.freed_e9 AS HUGEINT) AS freed_e9
FROM v54_player_context c
JOIN freed f ON f.game_date = c.game_date AND f.team = c.team_abbr
WHERE c.row_found
  AND NOT EXISTS (SELECT 1 FROM injured j WHERE j.game_date = c.game_date AND j.player_lookup = c.player_lookup)
