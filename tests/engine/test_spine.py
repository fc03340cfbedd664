"""Spine rules of docs/features.md §2: modes, duplicate collapse, is_home, early season."""

import datetime as dt

from engine.builders import make_snapshot, pgs_row, rows_of, run_engine_sql, upgc_row

D = dt.date


def spine(tmp_path, start, end, as_of=None, mode="auto", **rows):
    snap = make_snapshot(tmp_path / "snap", start, end, **rows)
    con = run_engine_sql(snap, start, end, as_of=as_of, mode=mode, names=("spine",))
    return rows_of(con, "spine")


def test_backfill_duplicates_collapse_by_game_id_then_team(tmp_path):
    day = D(2025, 11, 10)
    rows = spine(
        tmp_path,
        day,
        day,
        pgs=[
            pgs_row("a", day, game_id="20251110_OPP_ZZZ", team="ZZZ", universal_player_id="u2"),
            pgs_row("a", day, game_id="20251110_OPP_TEA", team="TEB", universal_player_id="u3"),
            pgs_row("a", day, game_id="20251110_OPP_TEA", team="TEA", universal_player_id="u4", points=None),
            pgs_row("a", day, game_id="20251110_OPP_TEA", team="TEA", universal_player_id="u1", points=3),
            pgs_row("a", day, game_id="20251110_OPP_TEA", team="TEA", universal_player_id=None, points=1),
        ],
    )
    assert len(rows) == 1
    assert (rows[0]["game_id"], rows[0]["universal_player_id"]) == ("20251110_OPP_TEA", "u1")
    assert rows[0]["is_home"] is True and rows[0]["is_placeholder"] is False


def test_backfill_tie_on_keys_broken_by_later_columns_nulls_last(tmp_path):
    day = D(2025, 11, 10)
    rows = spine(
        tmp_path,
        day,
        day,
        pgs=[
            pgs_row("a", day, opponent="OPX", points=None),
            pgs_row("a", day, opponent="OPX", points=7),
            pgs_row("a", day, opponent="OPB", game_id="20251110_OPX_TEA"),
        ],
    )
    # opponent_team_abbr is a key: OPB < OPX wins although the game ids are equal
    assert [r["opponent_team_abbr"] for r in rows] == ["OPB"]


def test_is_home_uses_the_third_token_of_game_id(tmp_path):
    day = D(2025, 11, 10)
    rows = spine(
        tmp_path,
        day,
        day,
        pgs=[
            pgs_row("home", day, game_id="20251110_AAA_TEA", team="TEA"),
            pgs_row("away", day, game_id="20251110_TEA_BBB", team="TEA"),
            pgs_row("short", day, game_id="20251110_TEA", team="TEA"),
            pgs_row("empty", day, game_id="20251110", team=""),
        ],
    )
    assert {r["player_lookup"]: r["is_home"] for r in rows} == {
        "home": True,
        "away": False,
        "short": False,
        "empty": False,
    }


def test_auto_mode_splits_at_as_of(tmp_path):
    d1, d2, d3 = D(2025, 11, 10), D(2025, 11, 11), D(2025, 11, 12)
    rows = spine(
        tmp_path,
        d1,
        d3,
        as_of=d2,
        pgs=[pgs_row("p", d1), pgs_row("p", d2), pgs_row("p", d3)],
        upgc=[upgc_row("u", d1), upgc_row("u", d2, home_game=None), upgc_row("u", d3)],
    )
    got = {(r["player_lookup"], r["game_date"]): r["is_home"] for r in rows}
    assert got == {("p", d1): True, ("u", d2): None, ("u", d3): True}


def test_backfill_mode_uses_production_from_as_of_and_production_can_be_forced(tmp_path):
    d1, d2 = D(2025, 11, 10), D(2025, 11, 11)
    kwargs = dict(pgs=[pgs_row("p", d1), pgs_row("p", d2)], upgc=[upgc_row("u", d1), upgc_row("u", d2)])
    back = spine(tmp_path / "b", d1, d2, as_of=d2, mode="backfill", **kwargs)
    assert {(r["player_lookup"], r["game_date"]) for r in back} == {("p", d1), ("u", d2)}
    prod = spine(tmp_path / "p", d1, d2, as_of=D(2030, 1, 1), mode="production", **kwargs)
    assert {(r["player_lookup"], r["game_date"]) for r in prod} == {("u", d1), ("u", d2)}


def test_production_duplicates_collapse_like_backfill(tmp_path):
    day = D(2025, 11, 10)
    rows = spine(
        tmp_path,
        day,
        day,
        as_of=day,
        upgc=[
            upgc_row("u", day, game_id="20251110_OPP_TEA", universal_player_id="z"),
            upgc_row("u", day, game_id="20251110_OPP_TEA", universal_player_id="b", home_game=False),
            upgc_row("u", day, game_id="20251110_OPP_TEA", universal_player_id="b", home_game=True),
        ],
    )
    assert [(r["universal_player_id"], r["is_home"]) for r in rows] == [("b", False)]


def test_early_season_backfill_skips_and_production_emits_placeholders(tmp_path):
    # built-in 2025 start 2025-10-21: early season 10-21 .. 11-03
    days = [D(2025, 10, 20), D(2025, 10, 21), D(2025, 11, 3), D(2025, 11, 4)]
    kwargs = dict(pgs=[pgs_row("p", d) for d in days], upgc=[upgc_row("u", d) for d in days])
    back = spine(tmp_path / "b", days[0], days[-1], as_of=D(2026, 1, 1), **kwargs)
    assert [r["game_date"] for r in back] == [D(2025, 10, 20), D(2025, 11, 4)]
    prod = spine(tmp_path / "p", days[0], days[-1], as_of=days[0], **kwargs)
    assert [(r["game_date"], r["is_placeholder"]) for r in prod] == [
        (days[0], False),
        (days[1], True),
        (days[2], True),
        (days[3], False),
    ]


def test_season_start_outside_the_profile_is_first_pgs_date_else_oct_22(tmp_path):
    # season 2026 is not built in. With PGS rows it starts at the first one (2026-10-27).
    days = [D(2026, 10, 27), D(2026, 11, 9), D(2026, 11, 10)]
    back = spine(tmp_path / "b", days[0], days[-1], as_of=D(2027, 1, 1), pgs=[pgs_row("p", d) for d in days])
    assert [r["game_date"] for r in back] == [D(2026, 11, 10)]
    assert back[0]["season_start"] == D(2026, 10, 27)
    # Without any PGS row of the season: October 22 (early window 10-22 .. 11-04).
    prod_days = [D(2026, 10, 21), D(2026, 11, 4), D(2026, 11, 5)]
    prod = spine(
        tmp_path / "p", prod_days[0], prod_days[-1], as_of=prod_days[0], upgc=[upgc_row("u", d) for d in prod_days]
    )
    assert [(r["game_date"], r["is_placeholder"]) for r in prod] == [
        (prod_days[0], False),
        (prod_days[1], True),
        (prod_days[2], False),
    ]
    assert prod[0]["season_start"] == D(2026, 10, 22)
    assert prod[0]["season_year"] == 2026 and prod[0]["season_oct1"] == D(2026, 10, 1)
