-- q06_last10 — Q6 of docs/features.md §3: the last-10 list (§5) and total_games (§8) for every
-- spine row, all dates in one statement.
--
-- Inputs: spine, pgs; $last10_window_days, $last10_size, $total_games_window_days;
--         $minutes_type (the recorded BigQuery type of minutes_played, bound by
--         fsengine/engine/history.py).
-- Output: one row per spine row (slot NULL) plus one row per list element (slot NOT NULL):
--   spine_row BIGINT        0-based number of the spine row (spine ordered by player, D),
--   player_lookup, game_date (D), total_games BIGINT: on spine rows only;
--       total_games = the player's PGS rows in [D - total_games_window_days, D - 1]
--       (DNP and duplicate rows count);
--   slot BIGINT             list position, 0 = newest, .. last10_size - 1: on element rows only,
--   list_date DATE, points BIGINT, minutes_e9 BIGINT, minutes_float DOUBLE, ft_makes BIGINT,
--   is_dnp BOOLEAN: the list row's fields; minutes_e9 = minutes_played x 10^9 as an integer
--       (exact for NUMERIC and INT64), minutes_float = minutes_played as float64 when it is
--       FLOAT64 (else NULL).
--
-- How: the PGS rows and two probes per spine row (at D and at D - total_games_window_days)
-- are merged into one stream ordered by player, date, probes before games, then the list
-- order's tie-break reversed (§5: game_date DESC, then §0.2 with key game_id and every PGS
-- column of docs/sources.md §2.1 ascending NULLs last). A running count of games numbers every
-- game (game_seq) and tells each probe how many games precede it: total_games is the
-- difference between a spine row's two probes, and its list is game_seq before, before - 1,
-- ... (at most last10_size) kept while the game is the same player's and dated
-- >= D - last10_window_days. Only equi-joins and one window pass, no per-date loop.
WITH RECURSIVE
list_slots (slot) AS (
    SELECT 0
    UNION ALL
    SELECT slot + 1 FROM list_slots WHERE slot + 1 < $last10_size
),
events AS (
    SELECT
        1 AS is_game, 0 AS probe, CAST(NULL AS DATE) AS spine_date,
        player_lookup, universal_player_id, game_id, game_date, team_abbr, opponent_team_abbr,
        season_year, points, minutes_played, ft_makes, is_dnp,
        CAST(CAST(minutes_played AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS minutes_e9,
        -- only the FLOAT64 path reads it (exact there; NUMERIC needs minutes_e9)
        CASE WHEN $minutes_type = 'FLOAT64' THEN CAST(minutes_played AS DOUBLE) END AS minutes_float
    FROM pgs
    UNION ALL
    -- probe 1 at D (the list and the end of the total_games window)
    SELECT
        0, 1, game_date, player_lookup, NULL, NULL, game_date, NULL, NULL,
        NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM spine
    UNION ALL
    -- probe 2 at the start of the total_games window
    SELECT
        0, 2, game_date, player_lookup, NULL, NULL,
        game_date - CAST($total_games_window_days AS INTEGER), NULL, NULL,
        NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM spine
),
numbered AS (
    SELECT
        is_game,
        probe,
        spine_date,
        player_lookup,
        game_date,
        points,
        minutes_e9,
        minutes_float,
        ft_makes,
        is_dnp,
        -- games: game_seq (1-based); probes: games ordered before (= before their date)
        CAST(SUM(is_game) OVER stream AS BIGINT) AS game_seq,
        CAST(SUM(CASE WHEN probe = 1 THEN 1 ELSE 0 END) OVER stream - 1 AS BIGINT) AS spine_row
    FROM events
    WINDOW stream AS (
        -- after the leading keys: the list order's tie-break reversed (game_id, then the
        -- PGS columns in docs/sources.md order; the marker repeats player_lookup, game_id and
        -- game_date, which are already keys, so the repetition changes nothing)
        ORDER BY player_lookup ASC NULLS LAST,
                 game_date ASC NULLS LAST,
                 is_game ASC NULLS LAST,
                 game_id DESC NULLS FIRST,
                 /*tiebreak pgs reversed*/
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
probes AS (
    SELECT
        d.spine_row,
        d.player_lookup,
        d.game_date,
        d.game_seq AS games_before,
        d.game_seq - w.game_seq AS total_games
    FROM numbered AS d
    JOIN numbered AS w
        ON w.player_lookup = d.player_lookup AND w.spine_date = d.spine_date AND w.probe = 2
    WHERE d.probe = 1
),
games AS (
    SELECT game_seq, player_lookup, game_date, points, minutes_e9, minutes_float, ft_makes, is_dnp
    FROM numbered
    WHERE is_game = 1
),
wanted AS (
    SELECT p.spine_row, p.player_lookup, p.game_date, s.slot, p.games_before - s.slot AS game_seq
    FROM probes AS p
    CROSS JOIN list_slots AS s
    WHERE s.slot < p.games_before
)
SELECT
    p.spine_row,
    p.player_lookup,
    p.game_date,
    CAST(p.total_games AS BIGINT) AS total_games,
    CAST(NULL AS BIGINT) AS slot,
    CAST(NULL AS DATE) AS list_date,
    CAST(NULL AS BIGINT) AS points,
    CAST(NULL AS BIGINT) AS minutes_e9,
    CAST(NULL AS DOUBLE) AS minutes_float,
    CAST(NULL AS BIGINT) AS ft_makes,
    CAST(NULL AS BOOLEAN) AS is_dnp
FROM probes AS p
UNION ALL
SELECT
    w.spine_row,
    NULL,
    NULL,
    NULL,
    CAST(w.slot AS BIGINT),
    g.game_date,
    g.points,
    g.minutes_e9,
    g.minutes_float,
    g.ft_makes,
    g.is_dnp
FROM wanted AS w
JOIN games AS g
    ON g.game_seq = w.game_seq
WHERE g.player_lookup = w.player_lookup
  AND g.game_date >= w.game_date - CAST($last10_window_days AS INTEGER)
