"""Chunked runs: any chunking, any number of workers and any split over machines gives exactly
the rows of one whole run (timestamps aside, which are the run's own instant)."""

from __future__ import annotations

import datetime as dt
import math
import os
import signal
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsengine.engine.chunks import (
    auto_dates_per_chunk,
    parse_chunk_dates,
    parse_chunk_selector,
    plan_chunks,
    split_for_machines,
)
from fsengine.errors import InputError
from fsengine.output.schema import read_output
from fsengine.pipeline import BUNDLED_SNAPSHOT, backfill
from fsengine.snapshot.format import Snapshot

RUN_TIMESTAMPS = ["created_at", "updated_at", "quality_computed_at"]
FAR_FUTURE = dt.date(2100, 1, 1)  # every date of the fixture is a backfill date


def rows(out) -> pa.Table:
    return read_output(out).drop(RUN_TIMESTAMPS)


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole")
    backfill(out, BUNDLED_SNAPSHOT, mode="backfill", as_of=FAR_FUTURE, chunk_dates=10_000, workers=1)
    return rows(out)


def between(table: pa.Table, start: dt.date, end: dt.date) -> pa.Table:
    day = table.column("game_date")
    return table.filter(pc.and_(pc.greater_equal(day, start), pc.less_equal(day, end)))


# --------------------------------------------------------------------------- planning

dates_sets = st.lists(st.integers(0, 60), min_size=0, max_size=40, unique=True)


@given(days=dates_sets, size=st.integers(1, 12), span=st.integers(0, 70))
def test_chunks_cover_every_day_once_in_order_and_hold_at_most_n_game_dates(days, size, span):
    start = dt.date(2025, 10, 1)
    end = start + dt.timedelta(days=span)
    game_dates = [start + dt.timedelta(days=d) for d in days]
    chunks = plan_chunks(start, end, game_dates, size)
    assert chunks[0].start == start and chunks[-1].end == end
    for before, after in zip(chunks, chunks[1:]):
        assert after.start == before.end + dt.timedelta(days=1)
    inside = sorted(d for d in game_dates if start <= d <= end)
    counted = [sum(1 for d in inside if c.start <= d <= c.end) for c in chunks]
    assert counted == [c.dates for c in chunks]
    assert sum(counted) == len(inside)
    assert all(1 <= n <= size for n in counted) or not inside
    assert [c.index for c in chunks] == list(range(1, len(chunks) + 1))


@given(days=st.lists(st.integers(0, 60), min_size=1, max_size=40, unique=True), count=st.integers(1, 8))
def test_machine_split_is_near_equal(days, count):
    start = dt.date(2025, 10, 1)
    game_dates = [start + dt.timedelta(days=d) for d in days]
    if count > len(game_dates):
        with pytest.raises(InputError):
            split_for_machines(start, start + dt.timedelta(days=60), game_dates, count)
        return
    parts = split_for_machines(start, start + dt.timedelta(days=60), game_dates, count)
    sizes = [p.dates for p in parts]
    assert len(parts) == count and sum(sizes) == len(game_dates)
    assert max(sizes) - min(sizes) <= 1


def test_chunk_selectors_from_options_and_job_runner_variables():
    assert parse_chunk_selector("2/8", {}) == (2, 8)
    assert parse_chunk_selector("env", {"CLOUD_RUN_TASK_INDEX": "0", "CLOUD_RUN_TASK_COUNT": "4"}) == (1, 4)
    assert parse_chunk_selector("env", {"BATCH_TASK_INDEX": "3", "BATCH_TASK_COUNT": "4"}) == (4, 4)
    assert parse_chunk_selector("env/5", {"JOB_COMPLETION_INDEX": "4"}) == (5, 5)
    for bad, environ in [
        ("0/3", {}),
        ("4/3", {}),
        ("x/3", {}),
        ("3", {}),
        ("env", {}),
        ("env", {"JOB_COMPLETION_INDEX": "1"}),
        ("env/2", {"JOB_COMPLETION_INDEX": "2"}),
    ]:
        with pytest.raises(InputError):
            parse_chunk_selector(bad, environ)
    assert parse_chunk_dates("auto") is None and parse_chunk_dates("7") == 7
    for bad in ("0", "-2", "many"):
        with pytest.raises(InputError):
            parse_chunk_dates(bad)


# --------------------------------------------------------------------------- chunks == one run

servable = Snapshot.open(BUNDLED_SNAPSHOT, verify_checksums=False).servable_range()
span_days = (servable[1] - servable[0]).days


@settings(max_examples=6, deadline=None)
@given(first=st.integers(0, span_days), length=st.integers(0, span_days), size=st.integers(1, 6))
def test_chunks_of_any_size_give_the_rows_of_one_run(whole_run, tmp_path_factory, first, length, size):
    start = servable[0] + dt.timedelta(days=first)
    end = min(servable[1], start + dt.timedelta(days=length))
    out = tmp_path_factory.mktemp("chunked")
    report = backfill(
        out,
        BUNDLED_SNAPSHOT,
        start,
        end,
        mode="backfill",
        as_of=FAR_FUTURE,
        chunk_dates=size,
        workers=1,
        allow_empty=True,
    )
    expected = between(whole_run, start, end)
    if expected.num_rows == 0:
        assert report.rows == 0
        return
    assert rows(out).equals(expected)


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_do_not_change_the_rows(whole_run, tmp_path, workers):
    backfill(tmp_path, BUNDLED_SNAPSHOT, mode="backfill", as_of=FAR_FUTURE, chunk_dates=4, workers=workers)
    assert rows(tmp_path).equals(whole_run)
    # the files the workers wrote beside the output are gone with the run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fsengine-run.json", "ml_feature_store_v2"]


def test_parts_run_as_separate_processes_add_up_to_one_run(whole_run, tmp_path):
    count = 3
    for index in range(1, count + 1):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "fsengine",
                "backfill",
                "--snapshot",
                str(BUNDLED_SNAPSHOT),
                "--mode",
                "backfill",
                "--as-of",
                FAR_FUTURE.isoformat(),
                "--chunk",
                f"{index}/{count}",
                "--out",
                str(tmp_path / f"part{index}"),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    parts = pa.concat_tables([rows(tmp_path / f"part{i}") for i in range(1, count + 1)])
    assert parts.equals(whole_run)


@given(
    rows_per_date=st.integers(1, 2_000),
    dates=st.integers(1, 3_000),
    workers=st.integers(1, 8),
)
def test_auto_chunks_stay_within_the_row_target_and_are_cut_for_the_workers(rows_per_date, dates, workers):
    target = 60_000
    alone = auto_dates_per_chunk(rows_per_date * dates, dates, target)
    size = auto_dates_per_chunk(rows_per_date * dates, dates, target, workers=workers)
    assert size <= alone  # never larger chunks than one process would use
    assert size * rows_per_date <= max(target, rows_per_date)
    chunks_alone = math.ceil(dates / alone)
    if chunks_alone > 1 and workers > 1:  # several chunks: a multiple of the workers, dates shared evenly
        assert size == math.ceil(dates / (math.ceil(chunks_alone / workers) * workers))
        assert math.ceil(dates / size) >= min(workers, dates)
    else:
        assert size == alone  # one process, or one chunk: no worker is started for a small run


def test_auto_chunks_of_nba5_on_two_workers_are_four_not_three():
    assert auto_dates_per_chunk(136_179, 761, 60_000) == 335  # 3 chunks
    assert auto_dates_per_chunk(136_179, 761, 60_000, workers=2) == 191  # 4 chunks
    # the planner counts nba5's spine candidates as 146,009 on 807 dates: the default target gives
    # four chunks on two workers, where 35,000 rows gave five, rounded up to six
    assert auto_dates_per_chunk(146_009, 807, workers=2) == 202
    assert auto_dates_per_chunk(146_009, 807, 35_000, workers=2) == 135


def _processes_with(token: str) -> list[int]:
    """PIDs of the processes whose environment holds `token` (a run and the workers it started)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as handle:
                    if token.encode() in handle.read():
                        found.append(int(entry))
            except OSError:
                pass  # gone meanwhile, or not ours to read
    return found


def _worker_processes(token: str) -> list[int]:
    """The PIDs of the pool's worker processes among those of the run holding `token`."""
    found = []
    for pid in _processes_with(token):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if b"spawn_main" in handle.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def _start_two_worker_run(out, token: str) -> subprocess.Popen:
    """A two-worker backfill of the bundled fixture in one-date chunks, started and given time
    to be mid-run (a worker has handed over its first part; more chunks are to come)."""
    env = {**os.environ, "FSENGINE_TEST_RUN": token}
    args = [sys.executable, "-m", "fsengine", "backfill", "--out", str(out), "--chunk-dates", "1", "--workers", "2"]
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    deadline = time.monotonic() + 60
    while not list(out.glob(".ml_feature_store_v2.parts-*/*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert child.poll() is None, "the run ended before its workers were seen"
    return child


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_a_stopped_run_stops_its_workers_and_leaves_nothing_behind(tmp_path):
    token = f"stop-{os.getpid()}-{time.time_ns()}"
    out = tmp_path / "out"
    child = _start_two_worker_run(out, token)
    # two workers: the run's own process and one worker process (its resource tracker aside)
    assert len(_worker_processes(token)) == 1
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130 and err.strip().splitlines() == [
        "error: interrupted (Ctrl-C); stopped before finishing"
    ]
    # the workers were stopped, not waited for, so the run unwound itself and removed its folders
    assert sorted(p.name for p in out.iterdir()) == []
    assert _processes_with(token) == []


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_workers_of_a_killed_run_do_not_outlive_it(tmp_path):
    token = f"kill-{os.getpid()}-{time.time_ns()}"
    child = _start_two_worker_run(tmp_path / "out", token)
    child.send_signal(signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 30
    while _processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(token) == []


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_a_chunk_failing_in_the_runs_own_process_stops_the_workers_and_leaves_nothing(tmp_path, monkeypatch):
    # The run's own process computes every second chunk of a two-worker run; the worker process
    # (a fresh interpreter) computes the others with the real code.
    import fsengine.workers as workers_module

    token = f"own-{os.getpid()}-{time.time_ns()}"
    monkeypatch.setenv("FSENGINE_TEST_RUN", token)

    def broken(task, *args, **kwargs):
        raise RuntimeError(f"chunk {task.chunk.label} broke")

    monkeypatch.setattr(workers_module, "compute_chunk", broken)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="chunk 2/"):
        backfill(out, BUNDLED_SNAPSHOT, mode="backfill", as_of=FAR_FUTURE, chunk_dates=2, workers=2)
    assert not out.exists() or sorted(p.name for p in out.iterdir()) == []
    deadline = time.monotonic() + 30
    while _worker_processes(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _worker_processes(token) == []


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_ctrl_c_to_the_whole_group_while_a_worker_starts_prints_one_line(tmp_path):
    # A terminal's Ctrl-C reaches every process of its group, workers still importing included;
    # only the run's own process may speak, once.
    token = f"group-{os.getpid()}-{time.time_ns()}"
    env = {**os.environ, "FSENGINE_TEST_RUN": token}
    out = tmp_path / "out"
    args = [sys.executable, "-m", "fsengine", "backfill", "--out", str(out), "--chunk-dates", "1", "--workers", "2"]
    child = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while not _worker_processes(token) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert _worker_processes(token), "no worker process was seen starting"
    time.sleep(0.15)  # the worker is past the interpreter's start, importing its modules
    os.killpg(child.pid, signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130
    assert err.strip().splitlines() == ["error: interrupted (Ctrl-C); stopped before finishing"]
    assert not out.exists() or sorted(p.name for p in out.iterdir()) == []
    deadline = time.monotonic() + 30
    while _processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(token) == []
