-- q11_minutes_ppm — Q11 of docs/features.md §3: minutes and points-per-minute over the player's PGS
-- rows with game_date in [D - minutes_ppm_window_days, D - 1] and minutes_played > 0, for
-- every spine row.
--
-- Inputs: spine, pgs; $minutes_ppm_window_days; $minutes_type (the recorded BigQuery type of
--         minutes_played: NUMERIC, INT64 or FLOAT64; bound by fsengine/engine/history.py).
-- Output: one row per spine row (seq NULL):
--   player_lookup, game_date,
--   mppm_games BIGINT        qualifying rows (0 = Q11 absent),
--   minutes_sum_scaled HUGEINT  NUMERIC, INT64: exact sum of minutes_played x 10^9 (NULL for
--                            FLOAT64, whose average is a float64 running sum, below),
--   minutes_avg_e9 BIGINT    NUMERIC only: AVG(minutes_played), 9 decimals half away from zero,
--                            x 10^9,
--   ppm_count BIGINT         qualifying rows with non-NULL points,
--   ppm_avg_e9 BIGINT        NUMERIC only: AVG of the per-row ratios points / minutes_played,
--                            each ratio and the mean rounded to 9 decimals half away from zero,
--                            x 10^9 (NULL when ppm_count = 0);
-- plus, on the INT64 and FLOAT64 paths only, one row per (spine row, qualifying row of its
-- window) (seq NOT NULL): player_lookup, game_date (the spine row's D), seq BIGINT = 1-based
-- place of the row in the window in (game_date, game_id, then every PGS column of docs/sources.md
-- §2.1 ascending NULLs last: §0.2) order, ratio_float DOUBLE = the float64 quotient
-- points / minutes_played (NULL when points is NULL), minutes_float DOUBLE = minutes_played.
-- fsengine/engine/history.py adds these up in seq order (docs/features.md §0.3: AVG over FLOAT64 =
-- float64 running sum in (game_date, game_id) order, then one division) — not here, because
-- DuckDB's SUM over DOUBLE (also as a window) does not add in row order.
--
-- How: the qualifying rows and one probe per spine row form one stream per player, ordered
-- by day; each probe's window frame covers the days [D - minutes_ppm_window_days, D - 1].
-- The qualifying rows are numbered per player in the order above (q_seq); a probe preceded
-- by games_before of them, mppm_games of which are in its window, reads the q_seq range
-- (games_before - mppm_games, games_before] by equality, so no range join is needed.
-- Exact: every summed value is an integer or a scaled integer.
WITH qualifying AS (
    SELECT
        player_lookup,
        game_date,
        points,
        minutes_played,
        CAST(CAST(minutes_played AS DECIMAL(38, 9)) * 1000000000 AS HUGEINT) AS minutes_e9,
        CAST(ROW_NUMBER() OVER (
            PARTITION BY player_lookup
            ORDER BY game_date ASC NULLS LAST,
                     game_id ASC NULLS LAST,
                     universal_player_id ASC NULLS LAST,
                     team_abbr ASC NULLS LAST,
                     opponent_team_abbr ASC NULLS LAST,
                     season_year ASC NULLS LAST,
                     points ASC NULLS LAST,
                     minutes_played ASC NULLS LAST,
                     ft_makes ASC NULLS LAST,
                     is_dnp ASC NULLS LAST
        ) AS BIGINT) AS q_seq
    FROM pgs
    WHERE minutes_played > 0
),
events AS (
    SELECT
        1 AS is_game,
        player_lookup,
        game_date,
        CASE WHEN $minutes_type = 'FLOAT64' THEN NULL ELSE minutes_e9 END AS minutes_scaled,
        CASE WHEN points IS NULL THEN 0 ELSE 1 END AS has_points,
        CASE
            WHEN $minutes_type <> 'NUMERIC' OR points IS NULL THEN CAST(0 AS HUGEINT)
            -- NUMERIC INT64 / NUMERIC: the quotient rounded to 9 decimals half away from zero
            WHEN points >= 0
                THEN (2 * CAST(points AS HUGEINT) * CAST(1000000000000000000 AS HUGEINT) + minutes_e9)
                     // (2 * minutes_e9)
            ELSE -((2 * CAST(-points AS HUGEINT) * CAST(1000000000000000000 AS HUGEINT) + minutes_e9)
                   // (2 * minutes_e9))
        END AS ratio_scaled
    FROM qualifying
    UNION ALL
    SELECT 0, player_lookup, game_date, CAST(0 AS HUGEINT), 0, CAST(0 AS HUGEINT)
    FROM spine
),
framed AS (
    SELECT
        is_game,
        player_lookup,
        game_date,
        CAST(COALESCE(SUM(is_game) OVER last_days, 0) AS BIGINT) AS mppm_games,
        SUM(minutes_scaled) OVER last_days AS minutes_sum_scaled,
        COALESCE(SUM(has_points) OVER last_days, 0) AS ppm_count,
        COALESCE(SUM(ratio_scaled) OVER last_days, 0) AS ratio_sum_scaled,
        CAST(COALESCE(SUM(is_game) OVER before_day, 0) AS BIGINT) AS games_before
    FROM events
    WINDOW last_days AS (
        PARTITION BY player_lookup
        ORDER BY game_date - DATE '1970-01-01' ASC NULLS LAST
        RANGE BETWEEN CAST($minutes_ppm_window_days AS BIGINT) PRECEDING AND 1 PRECEDING
    ),
    before_day AS (
        PARTITION BY player_lookup
        ORDER BY game_date - DATE '1970-01-01' ASC NULLS LAST
        RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    )
),
probes AS (
    SELECT * FROM framed WHERE is_game = 0
),
window_rows AS (
    -- the probe's window rows are the q_seq range (games_before - mppm_games, games_before]
    SELECT
        player_lookup,
        game_date,
        games_before - mppm_games AS seq_offset,
        unnest(range(games_before - mppm_games + 1, games_before + 1)) AS q_seq
    FROM probes
    WHERE $minutes_type <> 'NUMERIC' AND mppm_games > 0
)
SELECT
    player_lookup,
    game_date,
    CAST(mppm_games AS BIGINT) AS mppm_games,
    CAST(CASE WHEN $minutes_type = 'FLOAT64' THEN NULL ELSE COALESCE(minutes_sum_scaled, 0) END AS HUGEINT)
        AS minutes_sum_scaled,
    -- minutes are > 0 here, so the sums are positive: half away from zero = half up
    CAST(CASE
        WHEN $minutes_type <> 'NUMERIC' OR mppm_games = 0 THEN NULL
        ELSE (2 * minutes_sum_scaled + mppm_games) // (2 * mppm_games)
    END AS BIGINT) AS minutes_avg_e9,
    CAST(ppm_count AS BIGINT) AS ppm_count,
    CAST(CASE
        WHEN $minutes_type <> 'NUMERIC' OR ppm_count = 0 THEN NULL
        WHEN ratio_sum_scaled >= 0
            THEN (2 * ratio_sum_scaled + ppm_count) // (2 * ppm_count)
        ELSE -((2 * (-ratio_sum_scaled) + ppm_count) // (2 * ppm_count))
    END AS BIGINT) AS ppm_avg_e9,
    CAST(NULL AS BIGINT) AS seq,
    CAST(NULL AS DOUBLE) AS ratio_float,
    CAST(NULL AS DOUBLE) AS minutes_float
FROM probes
UNION ALL
SELECT
    w.player_lookup,
    w.game_date,
    NULL, NULL, NULL, NULL, NULL,
    CAST(w.q_seq - w.seq_offset AS BIGINT),
    -- upstream's per-row FLOAT64 quotient (INT64 points / INT64 or FLOAT64 minutes)
    CAST(q.points AS DOUBLE) / CAST(q.minutes_played AS DOUBLE),
    CAST(q.minutes_played AS DOUBLE)
FROM window_rows AS w
JOIN qualifying AS q
    ON q.player_lookup = w.player_lookup AND q.q_seq = w.q_seq
