-- v54_o_opportunity: extraction O of docs/v2_54/features.md §4 (features 57, 58) — the player's 10
-- newest played rows and, per (team, D), the blowout share of the team's 10 newest games.
-- Inputs: spine, pgs, team_offense; $opportunity_window_days (60), $last10_size, $start.
-- Output: kind 'player' rows: player_lookup, game_date (D), slot (0 = newest), team_abbr,
--   minutes_e9 (minutes x 10^9), minutes_float; kind 'team' rows: team_abbr, game_date (D),
--   team_rows, blowouts (|margin_of_victory| >= 15; a NULL margin counts in team_rows only).
-- Order (§0.8): game_date DESC, game_id ASC, then the selected columns (docs/sources.md order); window [D - 60, D - 1], no
-- season filter.
-- How (no (key, row-in-window) pairs): window passes number the played rows by player, then
-- that order reversed (game_no: each player's rows are consecutive numbers after the
-- player's base), and each team's rows with a running blowout count (game_seq 1 = oldest);
-- rows tied on every key carry the same output columns. ASOF joins on the per-date running
-- number give the newest row before D (last) and, for teams, before D - window (first): a
-- player's slot s is the row game_no = last - s while it is the player's (> base) and dated
-- >= D - window; a team's 10 newest are game_seq last - n + 1 .. last with
-- n = min($last10_size, last - first), blowouts = the running count at last minus the one at
-- last - n. Spine keys are unique; a NULL team is a team of its own.
-- Player rows dated before $start - window are in no key's window (every D >= $start, the spine's first
-- date bound) and are not read: the numbers are only used relative to a player's base.
WITH keys AS (
    SELECT player_lookup, game_date FROM spine WHERE NOT is_placeholder
),
played AS (
    SELECT p.player_lookup, p.game_date, p.team_abbr,
           CAST(CAST(p.minutes_played AS DECIMAL(38, 9)) * 1000000000 AS BIGINT) AS minutes_e9,
           CAST(p.minutes_played AS DOUBLE) AS minutes_float,
           ROW_NUMBER() OVER (
               ORDER BY p.player_lookup, p.game_date ASC, p.game_id DESC NULLS FIRST, p.team_abbr DESC NULLS FIRST,
                        p.minutes_played DESC NULLS FIRST
           ) AS game_no
    FROM pgs p
    WHERE p.game_date >= $start - CAST($opportunity_window_days AS INTEGER) AND p.minutes_played > 0
      AND p.player_lookup IN (SELECT player_lookup FROM keys)
),
player_base AS (
    SELECT player_lookup, min(game_no) - 1 AS game_no FROM played GROUP BY player_lookup
),
played_through_date AS (
    SELECT player_lookup, game_date, max(game_no) AS game_no FROM played GROUP BY player_lookup, game_date
),
player_slots AS (
    SELECT k.player_lookup, k.game_date, l.game_no AS last_no,
           unnest(range(least(CAST($last10_size AS BIGINT), l.game_no - b.game_no))) AS slot
    FROM keys k
    JOIN player_base b ON b.player_lookup = k.player_lookup
    ASOF JOIN played_through_date l ON l.player_lookup = k.player_lookup AND k.game_date > l.game_date
),
dates AS (
    SELECT DISTINCT game_date FROM keys
),
team_games AS (
    SELECT coalesce(o.team_abbr, '') AS team_key, o.team_abbr IS NULL AS no_team, o.team_abbr, o.game_date,
           ROW_NUMBER() OVER team_order AS game_seq,
           SUM(CASE WHEN abs(o.margin_of_victory) >= 15 THEN 1 ELSE 0 END) OVER team_order AS blowouts_through
    FROM team_offense o
    WHERE o.game_date IS NOT NULL
    WINDOW team_order AS (
        PARTITION BY o.team_abbr
        ORDER BY o.game_date ASC, o.game_id DESC NULLS FIRST, o.margin_of_victory DESC NULLS FIRST
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
),
team_through_date AS (
    SELECT team_key, no_team, game_date, max(game_seq) AS game_seq, max(blowouts_through) AS blowouts_through
    FROM team_games GROUP BY team_key, no_team, game_date
),
team_dates AS (
    SELECT t.team_key, t.no_team, t.team_abbr, d.game_date
    FROM (SELECT DISTINCT team_key, no_team, team_abbr FROM team_games) t CROSS JOIN dates d
),
team_bounds AS (
    SELECT t.team_key, t.no_team, t.team_abbr, t.game_date, coalesce(l.game_seq, 0) AS last_seq,
           coalesce(l.blowouts_through, 0) AS last_blowouts,
           least(CAST($last10_size AS BIGINT), coalesce(l.game_seq, 0) - coalesce(f.game_seq, 0)) AS listed
    FROM team_dates t
    ASOF LEFT JOIN team_through_date l
        ON l.team_key = t.team_key AND l.no_team = t.no_team AND t.game_date > l.game_date
    ASOF LEFT JOIN team_through_date f
        ON f.team_key = t.team_key AND f.no_team = t.no_team
       AND t.game_date - CAST($opportunity_window_days AS INTEGER) > f.game_date
),
team_counts AS (
    SELECT b.team_abbr, b.game_date, b.listed AS team_rows,
           b.last_blowouts - coalesce(g.blowouts_through, 0) AS blowouts
    FROM team_bounds b
    LEFT JOIN team_games g
        ON g.team_key = b.team_key AND g.no_team = b.no_team AND g.game_seq = b.last_seq - b.listed
    WHERE b.listed > 0
)
SELECT 'player' AS kind, s.player_lookup, s.game_date, CAST(s.slot AS BIGINT) AS slot,
       g.team_abbr, g.minutes_e9, g.minutes_float, CAST(NULL AS BIGINT) AS team_rows, CAST(NULL AS BIGINT) AS blowouts
FROM player_slots s
JOIN played g ON g.game_no = s.last_no - s.slot
WHERE g.game_date >= s.game_date - CAST($opportunity_window_days AS INTEGER)
UNION ALL
SELECT 'team', NULL, game_date, NULL, team_abbr, NULL, NULL, CAST(team_rows AS BIGINT), CAST(blowouts AS BIGINT)
FROM team_counts
