"""compute(): input validation, coverage errors, and the two structural properties of
architecture.md — a range equals its dates computed one by one, and no source row dated after
D changes D's rows."""

import datetime as dt
import random

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.builders import make_snapshot, pgs_row
from engine.random_world import DATE_COLUMNS, END, START, random_world
from fsengine.engine.compute import EngineResult, compute
from fsengine.errors import CoverageError, InputError

SETTINGS = settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def as_text(frame: pl.DataFrame) -> list[str]:
    """Row texts with exact float reprs (NaN and -0.0 visible)."""
    return [repr(row) for row in frame.sort(["game_date", "player_lookup"]).to_dicts()]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    day = dt.date(2025, 11, 20)
    return make_snapshot(tmp_path_factory.mktemp("tiny") / "snap", day, day, pgs=[pgs_row("a", day)]), day


def test_compute_returns_rows_timings_dates(tiny):
    snap, day = tiny
    result = compute(snap, day, day, as_of=day + dt.timedelta(days=1))
    assert isinstance(result, EngineResult) and result.dates == [day] and result.rows.height == 1
    assert {"spine", "q01_daily_cache", "q09_vegas_lines", "assembly"} <= set(result.timings)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(mode="fast"), "mode 'fast'"),
        (dict(start=dt.date(2025, 11, 21)), "after end"),
        (dict(start="2025-11-20"), "start must be a date"),
        (dict(as_of=dt.datetime(2025, 11, 21)), "as_of must be a date"),
    ],
)
def test_bad_input_is_refused(tiny, kwargs, message):
    snap, day = tiny
    args = dict(start=day, end=day, mode="auto", as_of=None) | kwargs
    with pytest.raises(InputError, match=message):
        compute(snap, args.pop("start"), args.pop("end"), **args)


def test_coverage_error_names_table_and_bounds(tmp_path):
    day = dt.date(2025, 11, 20)
    snap = make_snapshot(tmp_path / "snap", day, day, bounds={"pgs": (dt.date(2025, 1, 1), day)})
    with pytest.raises(CoverageError) as err:
        compute(snap, day, day)
    text = str(err.value)
    assert "nba_analytics.player_game_summary" in text
    assert "2025-01-01 .. 2025-11-20" in text and "2024-11-19 .. 2025-11-20" in text
    assert "upcoming_player_game_context" not in text


def write_world(folder, tables, start=START, end=END):
    return make_snapshot(folder, start, end, **tables)


# A regular stretch, and one crossing the end of the 2025 early season (2025-10-21 .. 11-03).
WINDOWS = [(START, END), (dt.date(2025, 10, 29), dt.date(2025, 11, 5))]


@pytest.mark.parametrize("window", WINDOWS)
@SETTINGS
@given(seed=st.integers(0, 10**6), as_of_offset=st.integers(0, 9), mode=st.sampled_from(["auto", "production"]))
def test_range_equals_its_dates_one_by_one(tmp_path_factory, seed, as_of_offset, mode, window):
    start, end = window
    snap = write_world(tmp_path_factory.mktemp("w") / "snap", random_world(seed, start, end), start, end)
    as_of = start + dt.timedelta(days=as_of_offset)
    whole = compute(snap, start, end, mode=mode, as_of=as_of, threads=1).rows
    parts = [
        compute(snap, day, day, mode=mode, as_of=as_of, threads=1).rows
        for day in (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    ]
    assert as_text(whole) == as_text(pl.concat(parts))


@SETTINGS
@given(seed=st.integers(0, 10**6), cut=st.integers(0, 6), action=st.sampled_from(["delete", "change"]))
def test_rows_dated_after_d_never_change_d(tmp_path_factory, seed, cut, action):
    tables = random_world(seed)
    last = START + dt.timedelta(days=cut)
    as_of = END + dt.timedelta(days=1)
    before = compute(
        write_world(tmp_path_factory.mktemp("a") / "snap", tables), START, last, as_of=as_of, threads=1
    ).rows
    rng = random.Random(seed)
    altered = {}
    for short, rows in tables.items():
        column = DATE_COLUMNS[short]
        kept = []
        for row in rows:
            if row[column] <= last:
                kept.append(row)
            elif action == "change":
                changed = dict(row)
                for key, value in row.items():
                    if isinstance(value, (int, float)) and not isinstance(value, bool) and rng.random() < 0.5:
                        changed[key] = value + 1
                kept.append(changed)
        altered[short] = kept
    after = compute(
        write_world(tmp_path_factory.mktemp("b") / "snap", altered), START, last, as_of=as_of, threads=1
    ).rows
    assert as_text(before) == as_text(after)


def test_a_run_without_games_gives_an_empty_frame_with_the_interface_columns(tmp_path):
    day = dt.date(2025, 11, 20)
    snap = make_snapshot(tmp_path / "snap", day, day, pgs=[pgs_row("a", day - dt.timedelta(days=3))])
    result = compute(snap, day, day, as_of=day + dt.timedelta(days=1))
    assert result.rows.height == 0 and result.dates == []
    assert result.rows.columns[:3] == ["player_lookup", "universal_player_id", "game_date"]
    assert result.rows.schema["feature_tags"] == pl.List(pl.Utf8)


def test_bundled_small_world_invariants():
    from fsengine.pipeline import BUNDLED_SNAPSHOT
    from fsengine.snapshot.format import Snapshot

    snap = Snapshot.open(BUNDLED_SNAPSHOT, verify_checksums=False)
    start, end = snap.servable_range()
    as_of = start + dt.timedelta(days=(end - start).days // 2)
    rows = compute(snap, start, end, as_of=as_of).rows
    assert rows.height > 0 and rows.select(pl.struct("player_lookup", "game_date").is_unique().all()).item()
    scored = rows.filter(~pl.col("is_placeholder"))
    assert scored.select((pl.col("feature_values").list.len() == 37).all()).item()
    assert scored.select((pl.col("feature_tags").list.len() == 37).all()).item()
    fatigue = scored.select(pl.col("feature_values").list.get(5)).to_series()
    assert fatigue.is_between(0.0, 100.0).all()
    placeholders = rows.filter(pl.col("is_placeholder"))
    assert (
        placeholders.select(pl.col("game_date").min()).item() is None
        or placeholders.select(pl.col("game_date").min()).item() >= as_of
    )
