"""The generator's window helpers against a direct evaluation of their definitions."""

import numpy as np
import polars as pl
import pytest

from fsengine.synthetic.v54 import _streaks
from fsengine.synthetic.windows import leading_run, rows_in_window, sort_stable


def test_rows_in_window_matches_a_scan_of_every_row():
    rng = np.random.default_rng(7)
    group = rng.integers(0, 6, 400)
    day = rng.integers(-20, 60, 400)  # negative days too: the packed sort key must keep order
    key_group = rng.integers(0, 7, 150)  # group 6 has no rows
    key_day = rng.integers(-25, 70, 150)
    key, row = rows_in_window(key_group, key_day, group, day, 9)
    expected = []
    for k in range(len(key_group)):
        hits = [r for r in range(len(group)) if group[r] == key_group[k] and key_day[k] - 9 <= day[r] < key_day[k]]
        expected.append(sorted(hits))
    got: list[list[int]] = [[] for _ in key_group]
    for k, r in zip(key, row):
        got[k].append(int(r))
    assert [sorted(g) for g in got] == expected
    assert list(key) == sorted(key)  # key-major
    for k in range(len(key_group)):  # newest row first within a key
        days = day[np.array(got[k], dtype=int)]
        assert list(days) == sorted(days, reverse=True)


def test_leading_run_counts_the_values_equal_to_the_first():
    group = np.array([0, 0, 0, 0, 2, 3, 3, 3, 5, 5])
    values = np.array([1, 1, -1, 1, 2, -1, -1, -1, 1, -1])
    run, first = leading_run(group, values, 7)
    assert list(run) == [2, 0, 1, 3, 0, 1, 0]
    assert list(first) == [1, 0, 2, -1, 0, 1, 0]


def test_leading_run_of_no_rows():
    run, first = leading_run(np.array([], dtype=np.int64), np.array([], dtype=np.int64), 3)
    assert list(run) == [0, 0, 0] and list(first) == [0, 0, 0]


def _streaks_by_join(keys: pl.DataFrame, pgs: pl.DataFrame) -> pl.DataFrame:
    """The definition, evaluated by joining each key to the player's whole history."""
    lined = keys.filter(pl.col("line").is_not_null())
    rows = (
        lined.join(pgs.select("player", past="game_date", points="points"), on="player")
        .filter((pl.col("past") < pl.col("game_date")) & (pl.col("past") >= pl.col("game_date") - 30))
        .with_columns(
            sign=pl.when(pl.col("points").is_null())
            .then(2)
            .when(pl.col("points") > pl.col("line"))
            .then(1)
            .when(pl.col("points") < pl.col("line"))
            .then(-1)
            .otherwise(0)
        )
        .filter(pl.col("sign") != 0)
        .sort("player", "game_date", "past", descending=[False, False, True])
        .with_columns(first=pl.col("sign").first().over("player", "game_date"))
        .with_columns(broken=(pl.col("sign") != pl.col("first")).cast(pl.Int32).cum_sum().over("player", "game_date"))
    )
    runs = rows.group_by("player", "game_date").agg(first=pl.col("first").first(), run=(pl.col("broken") == 0).sum())
    return lined.join(runs, on=["player", "game_date"], how="left").select(
        "player",
        "game_date",
        over=pl.when(pl.col("first") == 1).then(pl.col("run")).otherwise(0).cast(pl.Int64),
        under=pl.when(pl.col("first") == -1).then(pl.col("run")).otherwise(0).cast(pl.Int64),
    )


def test_prop_streaks_match_their_definition():
    rng = np.random.default_rng(11)
    n = 3000
    points = rng.integers(0, 30, n).astype(float)
    points[rng.random(n) < 0.05] = np.nan
    # one row per player and day (a player plays once a day), plus some exact duplicates
    pgs = (
        pl.DataFrame(
            {"player": rng.integers(0, 40, n).astype(np.int32), "game_date": rng.integers(0, 200, n).astype(np.int32)}
        )
        .with_columns(points=pl.Series(points).fill_nan(None).cast(pl.Int64))
        .unique(["player", "game_date"], maintain_order=True)
    )
    pgs = pl.concat([pgs, pgs.filter(pl.Series(rng.random(len(pgs)) < 0.05))])
    keys = (
        pl.DataFrame(
            {
                "player": rng.integers(0, 42, 800).astype(np.int32),
                "game_date": rng.integers(0, 220, 800).astype(np.int32),
                "line": np.where(rng.random(800) < 0.1, np.nan, rng.integers(0, 30, 800) + rng.choice([0.0, 0.5], 800)),
            }
        )
        .with_columns(pl.col("line").fill_nan(None))
        .unique(["player", "game_date"], maintain_order=True)
    )
    got = _streaks(keys, pgs).sort("player", "game_date")
    expected = _streaks_by_join(keys, pgs).sort("player", "game_date")
    assert got["over"].sum() > 0 and got["under"].sum() > 0
    assert got.equals(expected)


def test_sort_stable_is_polars_stable_sort():
    rng = np.random.default_rng(3)
    frame = pl.DataFrame(
        {
            "day": rng.integers(0, 20, 500).astype(np.int32),
            "hour": rng.integers(0, 4, 500),
            "text": [f"r{i}" for i in range(500)],  # row identity: ties must keep frame order
        }
    )
    assert sort_stable(frame, "day").equals(frame.sort("day", maintain_order=True))
    assert sort_stable(frame, "day", "hour").equals(frame.sort("day", "hour", maintain_order=True))
    with pytest.raises(ValueError):
        sort_stable(frame.with_columns(day=pl.when(pl.col("hour") == 0).then(None).otherwise(pl.col("day"))), "day")
