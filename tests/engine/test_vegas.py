"""Q9 of docs/features.md §3: ordering rules, tie-breaks, combination and the opening-0 quirk,
checked by hand and against a plain-Python reference on random tables."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.builders import make_snapshot, pgs_row, rows_of, run_engine_sql

DAY = dt.date(2025, 11, 20)
T0 = dt.datetime(2025, 11, 20, 18, 0, tzinfo=dt.UTC)


def at(minutes):
    return T0 + dt.timedelta(minutes=minutes)


def odds(player, book, line, minute, day=DAY):
    return dict(player_lookup=player, game_date=day, bookmaker=book, points_line=line, snapshot_timestamp=at(minute))


def bp(player, line, opening, minute, market="points", day=DAY):
    return dict(
        player_lookup=player,
        game_date=day,
        market_type=market,
        points_line=line,
        opening_line=opening,
        created_at=at(minute),
    )


def lines(tmp_path, players, odds_rows=(), bp_rows=()):
    snap = make_snapshot(
        tmp_path / "snap",
        DAY,
        DAY,
        pgs=[pgs_row(p, DAY) for p in players],
        odds_api=list(odds_rows),
        bettingpros=list(bp_rows),
    )
    con = run_engine_sql(snap, DAY, DAY, names=("spine", "q09_vegas_lines"))
    return {
        r["player_lookup"]: (r["vegas_points_line"], r["vegas_opening_line"], r["vegas_line_move"])
        for r in rows_of(con, "q09_vegas_lines")
    }


def test_draftkings_first_then_latest_snapshot_then_lowest_line(tmp_path):
    got = lines(
        tmp_path,
        ["a", "b"],
        odds_rows=[
            odds("a", "fanduel", 30.5, 50),
            odds("a", "draftkings", 24.5, 10),
            odds("a", "draftkings", 25.5, 20),
            odds("a", "draftkings", 23.5, 0),
            odds("a", "draftkings", 22.5, 0),
            odds("b", "fanduel", 12.5, 5),
            odds("b", "betmgm", 11.5, 5),
            odds("b", "betmgm", 13.5, 1),
        ],
    )
    assert got["a"] == (25.5, 22.5, 3.0)
    assert got["b"] == (11.5, 13.5, -2.0)


def test_non_positive_lines_and_other_markets_are_ignored(tmp_path):
    got = lines(
        tmp_path,
        ["a", "b"],
        odds_rows=[odds("a", "draftkings", 0.0, 99), odds("a", "draftkings", -3.0, 99), odds("a", "fanduel", 20.5, 1)],
        bp_rows=[bp("b", 18.5, 17.5, 5, market="rebounds"), bp("b", 0.0, 17.5, 9)],
    )
    assert got == {"a": (20.5, 20.5, 0.0)}


def test_bettingpros_latest_created_at_then_lowest_lines(tmp_path):
    got = lines(
        tmp_path,
        ["a"],
        bp_rows=[bp("a", 21.5, 20.5, 3), bp("a", 19.5, None, 7), bp("a", 19.5, 18.5, 7), bp("a", 25.5, 24.5, 1)],
    )
    assert got["a"] == (19.5, 18.5, 1.0)


def test_bettingpros_opening_null_falls_back_to_current(tmp_path):
    got = lines(tmp_path, ["a"], bp_rows=[bp("a", 19.5, None, 7)])
    assert got["a"] == (19.5, 19.5, 0.0)


def test_opening_zero_quirk_keeps_the_whole_line_as_move(tmp_path):
    got = lines(tmp_path, ["a"], bp_rows=[bp("a", 19.5, 0.0, 7)])
    assert got["a"] == (19.5, 19.5, 19.5)


def test_odds_api_current_with_bettingpros_opening(tmp_path):
    # open_sql = first non-NULL of (oa_open, bp_open, ...): the Odds API opening wins
    got = lines(
        tmp_path,
        ["a"],
        odds_rows=[odds("a", "fanduel", 22.5, 9), odds("a", "fanduel", 21.5, 1)],
        bp_rows=[bp("a", 30.5, 29.5, 99)],
    )
    assert got["a"] == (22.5, 21.5, 1.0)


def reference(players, odds_rows, bp_rows):
    out = {}
    for p in players:
        cands = [r for r in odds_rows if r["player_lookup"] == p and r["points_line"] > 0]
        prio = lambda r: 0 if r["bookmaker"] == "draftkings" else 1
        oa_cur = oa_open = bp_cur = bp_open = None
        if cands:
            oa_cur = min(cands, key=lambda r: (prio(r), -r["snapshot_timestamp"].timestamp(), r["points_line"]))[
                "points_line"
            ]
            oa_open = min(cands, key=lambda r: (prio(r), r["snapshot_timestamp"].timestamp(), r["points_line"]))[
                "points_line"
            ]
        bcands = [
            r for r in bp_rows if r["player_lookup"] == p and r["market_type"] == "points" and r["points_line"] > 0
        ]
        if bcands:
            best = min(
                bcands,
                key=lambda r: (
                    -r["created_at"].timestamp(),
                    r["points_line"],
                    r["opening_line"] is None,
                    r["opening_line"] or 0.0,
                ),
            )
            bp_cur, bp_open = best["points_line"], best["opening_line"]
        if oa_cur is None and bp_cur is None:
            continue
        cur = oa_cur if oa_cur is not None else bp_cur
        open_sql = next(v for v in (oa_open, bp_open, oa_cur, bp_cur) if v is not None)
        out[p] = (cur, open_sql if open_sql != 0 else cur, cur - open_sql)
    return out


line = st.sampled_from([0.0, 10.5, 11.5, 12.0, 25.5])
odds_st = st.builds(
    odds,
    st.sampled_from(["a", "b", "z"]),
    st.sampled_from(["draftkings", "fanduel", "betmgm"]),
    line,
    st.integers(0, 4),
)
bp_st = st.builds(
    bp,
    st.sampled_from(["a", "b", "z"]),
    line,
    st.one_of(st.none(), line),
    st.integers(0, 4),
    st.sampled_from(["points", "assists"]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(odds_rows=st.lists(odds_st, max_size=8), bp_rows=st.lists(bp_st, max_size=8))
def test_matches_plain_python_reference(tmp_path_factory, odds_rows, bp_rows):
    tmp = tmp_path_factory.mktemp("q9")
    assert lines(tmp, ["a", "b"], odds_rows, bp_rows) == reference(["a", "b"], odds_rows, bp_rows)
