-- v54_o_opportunity: extraction O of docs/v2_54/features.md §4 (features 57, 58), part 2 — which
-- of the numbered rows of v54_o_games are each spine key's 10 newest played rows and, per
-- (team, D), the blowout share of the team's 10 newest games.
-- Inputs: spine, v54_o_games, team_offense; $opportunity_window_days (60), $last10_size.
-- Output: kind 'player' rows, one per non-placeholder spine key whose player has a row before D:
--   player_lookup, game_date (D), first_no, last_no: the key's rows are the v54_o_games rows
--   game_no last_no, last_no - 1, .., first_no + 1 (slot = last_no - game_no, 0 = newest; none
--   when last_no = first_no); kind 'team' rows: team_abbr, game_date (D), team_rows, blowouts
--   (|margin_of_victory| >= 15; a NULL margin counts in team_rows only).
-- Order (§0.8): game_date DESC, game_id ASC, then the selected columns (docs/sources.md order); window [D - 60, D - 1], no
-- season filter.
-- How (no (key, row-in-window) pairs): a player's rows are consecutive numbers in date order
-- after the player's base, so ASOF joins on the per-date running number give the newest row
-- before D (last) and before D - window (the window's bound): a key's rows are the numbers
-- after max(last - $last10_size, base, that bound) through last. Each team's rows are numbered
-- with a running blowout count (game_seq 1 = oldest); a team's 10 newest are game_seq
-- last - n + 1 .. last with n = min($last10_size, last - first) (first: the newest before
-- D - window), blowouts = the running count at last minus the one at last - n.
-- The joins match on integers, not names (ASOF joins and windows partition and sort integers
-- faster than strings): a player's base (unique per player), a team's number.
-- Spine keys are unique; a NULL team is a team of its own.
WITH keys AS (
    SELECT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
player_base AS (
    SELECT player_lookup, min(game_no) - 1 AS game_no FROM v54_o_games GROUP BY player_lookup
),
based_keys AS (
    SELECT k.player_lookup, k.game_date, b.game_no AS base_no
    FROM keys k JOIN player_base b ON b.player_lookup = k.player_lookup
),
played_through_date AS (
    SELECT b.game_no AS base_no, g.row_date, max(g.game_no) AS game_no
    FROM v54_o_games g JOIN player_base b ON b.player_lookup = g.player_lookup
    GROUP BY b.game_no, g.row_date
),
player_bounds AS (
    SELECT k.player_lookup, k.game_date,
           greatest(l.game_no - CAST($last10_size AS BIGINT), k.base_no, coalesce(f.game_no, k.base_no)) AS first_no,
           l.game_no AS last_no
    FROM based_keys k
    ASOF JOIN played_through_date l ON l.base_no = k.base_no AND k.game_date > l.row_date
    ASOF LEFT JOIN played_through_date f
        ON f.base_no = k.base_no
       AND k.game_date - CAST($opportunity_window_days AS INTEGER) > f.row_date
),
dates AS (
    SELECT DISTINCT game_date FROM keys
),
teams AS (
    -- a number per team (NULL one of its own): the window partitions and the ASOF joins match on it
    SELECT team_abbr, row_number() OVER () AS team_no
    FROM (SELECT DISTINCT team_abbr FROM team_offense WHERE game_date IS NOT NULL)
),
team_games AS (
    SELECT t.team_no, o.game_date,
           ROW_NUMBER() OVER team_order AS game_seq,
           SUM(CASE WHEN abs(o.margin_of_victory) >= 15 THEN 1 ELSE 0 END) OVER team_order AS blowouts_through
    FROM team_offense o JOIN teams t ON t.team_abbr IS NOT DISTINCT FROM o.team_abbr
    WHERE o.game_date IS NOT NULL
    WINDOW team_order AS (
        PARTITION BY t.team_no
        ORDER BY o.game_date ASC, o.game_id DESC NULLS FIRST, o.margin_of_victory DESC NULLS FIRST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
team_through_date AS (
    SELECT team_no, game_date, max(game_seq) AS game_seq, max(blowouts_through) AS blowouts_through
    FROM team_games GROUP BY team_no, game_date
),
team_bounds AS (
    SELECT t.team_no, t.team_abbr, d.game_date, coalesce(l.game_seq, 0) AS last_seq,
           coalesce(l.blowouts_through, 0) AS last_blowouts,
           least(CAST($last10_size AS BIGINT), coalesce(l.game_seq, 0) - coalesce(f.game_seq, 0)) AS listed
    FROM teams t CROSS JOIN dates d
    ASOF LEFT JOIN team_through_date l ON l.team_no = t.team_no AND d.game_date > l.game_date
    ASOF LEFT JOIN team_through_date f
        ON f.team_no = t.team_no AND d.game_date - CAST($opportunity_window_days AS INTEGER) > f.game_date
),
team_counts AS (
    SELECT b.team_abbr, b.game_date, b.listed AS team_rows,
           b.last_blowouts - coalesce(g.blowouts_through, 0) AS blowouts
    FROM team_bounds b
    LEFT JOIN team_games g ON g.team_no = b.team_no AND g.game_seq = b.last_seq - b.listed
    WHERE b.listed > 0
)
SELECT 'player' AS kind, player_lookup, game_date, CAST(first_no AS BIGINT) AS first_no,
       CAST(last_no AS BIGINT) AS last_no, CAST(NULL AS VARCHAR) AS team_abbr,
       CAST(NULL AS BIGINT) AS team_rows, CAST(NULL AS BIGINT) AS blowouts
FROM player_bounds
UNION ALL
SELECT 'team', NULL, game_date, NULL, NULL, team_abbr, CAST(team_rows AS BIGINT), CAST(blowouts AS BIGINT)
FROM team_counts
