-- q06_last10 — Q6 of features.md §3: the last-10 list (§5) and total_games (§8) for every
-- spine row, all dates in one statement.
--
-- Inputs: spine, pgs; $last10_window_days, $last10_size, $total_games_window_days.
-- Output: one row per spine row (slot NULL) plus one row per list element (slot NOT NULL):
--   spine_row BIGINT        0-based number of the spine row (spine ordered by player, D),
--   player_lookup, game_date (D), total_games BIGINT: on spine rows only;
--       total_games = the player's PGS rows in [D - total_games_window_days, D - 1]
--       (DNP and duplicate rows count);
--   slot BIGINT             list position, 0 = newest, .. last10_size - 1: on element rows only,
--   list_date DATE, points BIGINT, minutes_e9 BIGINT, minutes_float DOUBLE, ft_makes BIGINT,
--   is_dnp BOOLEAN: the list row's fields; minutes_e9 = minutes_played x 10^9 as an integer
--       (exact for NUMERIC and INT64), minutes_float = minutes_played as float64 (exact for
--       INT64 and FLOAT64).
--
-- How: the PGS rows and one probe per spine row are merged into one stream ordered by
-- player, date, probes before games, then the list order's tie-break reversed (§5: game_date
-- DESC, then §0.2 with key game_id and every PGS column of sources.md §2.1 ascending NULLs
-- last). A running count of games numbers every game (game_seq) and tells each probe how
-- many games precede it; the list of a probe is game_seq before, before - 1, ... (at most
-- last10_size) kept while the game is the same player's and dated >= D - last10_window_days.
-- That is an equi-join on one integer, no per-date loop.
WITH RECURSIVE
list_slots (slot) AS (
    SELECT 0
    UNION ALL
    SELECT slot + 1 FROM list_slots WHERE slot + 1 < $last10_size
),
events AS (
    SELECT
        1 AS is_game,
        player_lookup, universal_player_id, game_id, game_date, team_abbr, opponent_team_abbr,
        season_year, points, minutes_played, ft_makes, is_dnp,
        CAST(CAST(minutes_played AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS minutes_e9,
        CAST(minutes_played AS DOUBLE) AS minutes_float
    FROM pgs
    UNION ALL
    SELECT
        0, player_lookup, NULL, NULL, game_date, NULL, NULL,
        NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM spine
),
numbered AS (
    SELECT
        is_game,
        player_lookup,
        game_date,
        points,
        minutes_e9,
        minutes_float,
        ft_makes,
        is_dnp,
        -- games: game_seq (1-based); probes: games ordered before (= before D for this player)
        CAST(SUM(is_game) OVER stream AS BIGINT) AS game_seq,
        CAST(SUM(1 - is_game) OVER stream - 1 AS BIGINT) AS spine_row,
        COUNT(*) FILTER (WHERE is_game = 1) OVER (
            PARTITION BY player_lookup
            ORDER BY game_date - DATE '1970-01-01' ASC NULLS LAST
            RANGE BETWEEN CAST($total_games_window_days AS BIGINT) PRECEDING AND 1 PRECEDING
        ) AS total_games
    FROM events
    WINDOW stream AS (
        -- after the leading keys: the list order's tie-break reversed (game_id, then the
        -- PGS columns in sources.md order; player_lookup, game_id and game_date are already
        -- keys, so repeating them would change nothing)
        ORDER BY player_lookup ASC NULLS LAST,
                 game_date ASC NULLS LAST,
                 is_game ASC NULLS LAST,
                 game_id DESC NULLS FIRST,
                 universal_player_id DESC NULLS FIRST,
                 team_abbr DESC NULLS FIRST,
                 opponent_team_abbr DESC NULLS FIRST,
                 season_year DESC NULLS FIRST,
                 points DESC NULLS FIRST,
                 minutes_played DESC NULLS FIRST,
                 ft_makes DESC NULLS FIRST,
                 is_dnp DESC NULLS FIRST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
probes AS (
    SELECT spine_row, player_lookup, game_date, game_seq AS games_before, total_games
    FROM numbered
    WHERE is_game = 0
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
