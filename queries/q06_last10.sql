-- q06_last10 — Q6 of features.md §3: the last-10 list (§5) and total_games (§8) for every
-- spine row, all dates in one statement.
--
-- Inputs: spine, pgs; $last10_window_days, $last10_size, $total_games_window_days.
-- Output: one row per spine row:
--   player_lookup, game_date,
--   total_games BIGINT      PGS rows of the player in [D - total_games_window_days, D - 1]
--                           (DNP and duplicate rows count),
--   last10_n BIGINT         length of the list (0 .. last10_size),
--   list_game_dates DATE[], list_points BIGINT[], list_minutes_e9 BIGINT[],
--   list_ft_makes BIGINT[], list_is_dnp BOOLEAN[]
--                           the list, newest first (NULL lists when last10_n = 0);
--                           minutes_e9 = minutes_played x 10^9 as an exact integer (NUMERIC
--                           minutes keep all 9 decimals; INT64 minutes are whole).
--
-- How: the player's PGS rows are numbered in chronological order (game_seq, the exact reverse
-- of the list order: game_date DESC, then the §0.2 tie-break with key game_id and every PGS
-- column of sources.md §2.1 ascending NULLs last). A running count over the player's rows
-- merged with one probe per spine row gives games_before = rows dated before D; the list is
-- game_seq games_before, games_before - 1, ... (at most last10_size of them) cut to dates
-- >= D - last10_window_days. That is an equi-join on (player, game_seq), no per-date loop.
WITH RECURSIVE
list_slots (slot) AS (
    SELECT 0
    UNION ALL
    SELECT slot + 1 FROM list_slots WHERE slot + 1 < $last10_size
),
history AS (
    SELECT
        player_lookup,
        game_date,
        points,
        CAST(CAST(minutes_played AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS minutes_e9,
        ft_makes,
        is_dnp,
        ROW_NUMBER() OVER (
            PARTITION BY player_lookup
            ORDER BY game_date ASC NULLS LAST,
                     game_id DESC NULLS FIRST,
                     player_lookup DESC NULLS FIRST,
                     universal_player_id DESC NULLS FIRST,
                     game_id DESC NULLS FIRST,
                     game_date DESC NULLS FIRST,
                     team_abbr DESC NULLS FIRST,
                     opponent_team_abbr DESC NULLS FIRST,
                     season_year DESC NULLS FIRST,
                     points DESC NULLS FIRST,
                     minutes_played DESC NULLS FIRST,
                     ft_makes DESC NULLS FIRST,
                     is_dnp DESC NULLS FIRST
        ) AS game_seq
    FROM pgs
),
-- probe 1 counts the rows before D, probe 2 the rows before the total_games window.
events AS (
    SELECT player_lookup, game_date AS event_date, 1 AS is_game,
           CAST(NULL AS DATE) AS spine_date, 0 AS probe
    FROM pgs
    UNION ALL
    SELECT player_lookup, game_date, 0, game_date, 1
    FROM spine
    UNION ALL
    SELECT player_lookup, game_date - CAST($total_games_window_days AS INTEGER), 0, game_date, 2
    FROM spine
),
running AS (
    SELECT
        player_lookup,
        spine_date,
        probe,
        is_game,
        -- probes sort before the games of their own date, so the count is "strictly before"
        SUM(is_game) OVER (
            PARTITION BY player_lookup
            ORDER BY event_date ASC NULLS LAST, is_game ASC NULLS LAST
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS games_before
    FROM events
),
counts AS (
    SELECT
        player_lookup,
        spine_date AS game_date,
        MAX(CASE WHEN probe = 1 THEN games_before END) AS games_before_d,
        MAX(CASE WHEN probe = 2 THEN games_before END) AS games_before_window
    FROM running
    WHERE is_game = 0
    GROUP BY player_lookup, spine_date
),
listed AS (
    SELECT
        c.player_lookup,
        c.game_date,
        s.slot,
        h.game_date AS list_date,
        h.points,
        h.minutes_e9,
        h.ft_makes,
        h.is_dnp
    FROM counts AS c
    JOIN list_slots AS s
        ON s.slot < c.games_before_d
    JOIN history AS h
        ON h.player_lookup = c.player_lookup
       AND h.game_seq = c.games_before_d - s.slot
    WHERE h.game_date >= c.game_date - CAST($last10_window_days AS INTEGER)
),
lists AS (
    SELECT
        player_lookup,
        game_date,
        COUNT(*) AS last10_n,
        ARRAY_AGG(list_date ORDER BY slot) AS list_game_dates,
        ARRAY_AGG(points ORDER BY slot) AS list_points,
        ARRAY_AGG(minutes_e9 ORDER BY slot) AS list_minutes_e9,
        ARRAY_AGG(ft_makes ORDER BY slot) AS list_ft_makes,
        ARRAY_AGG(is_dnp ORDER BY slot) AS list_is_dnp
    FROM listed
    GROUP BY player_lookup, game_date
)
SELECT
    sp.player_lookup,
    sp.game_date,
    CAST(c.games_before_d - c.games_before_window AS BIGINT) AS total_games,
    CAST(COALESCE(l.last10_n, 0) AS BIGINT) AS last10_n,
    l.list_game_dates,
    l.list_points,
    l.list_minutes_e9,
    l.list_ft_makes,
    l.list_is_dnp
FROM spine AS sp
JOIN counts AS c
    ON c.player_lookup = sp.player_lookup AND c.game_date = sp.game_date
LEFT JOIN lists AS l
    ON l.player_lookup = sp.player_lookup AND l.game_date = sp.game_date
