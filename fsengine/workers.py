"""Running the chunks of a run: each chunk computes its rows and output parts on its own, here or
in worker processes, and the parts come back in chunk order, so the output does not depend on
the number of workers.

With K workers this process is one of them: it computes every K-th chunk itself, on the session
it planned the run on, and K - 1 worker processes compute the others (a process fewer to start
and to hand parts over from). At most `workers + 1` chunks are in flight at once: memory stays
bounded by the chunk size, whatever the length of the run. A worker process writes its chunk's
output files itself, as Parquet, in a folder beside the output (instead of pickling the parts
through a pipe, which copies them three times, leaves every in-flight chunk in the parent's
memory and leaves all the Parquet encoding to the parent); the parent only moves the files in,
in chunk order. Between chunks a worker returns the memory
its allocators keep to the system, so that each process holds about one chunk's worth, not the
high-water mark of every allocator at once.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import ctypes
import datetime as dt
import gc
import multiprocessing
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from fsengine.contracts.profile import REFERENCE, Profile
from fsengine.engine.chunks import Chunk
from fsengine.output.schema import WrittenPart
from fsengine.output.write import parts_folder

if TYPE_CHECKING:
    from fsengine.engine.session import Session

# Output rows are made this many at a time: a part is scored and written while the next is
# made, and small parts are cheaper per row (less memory to fault in).
ROWS_PER_PART = 25_000


@dataclass(frozen=True)
class ChunkTask:
    snapshot: Path
    chunk: Chunk
    mode: str
    as_of: dt.date | None
    run_ts: dt.datetime
    threads: int | None
    profile: Profile = REFERENCE
    memory_limit: str | None = None  # DuckDB's memory_limit for this chunk's session
    # folder beside the output for the chunk's output files (worker processes); None: in memory
    files_folder: Path | None = None


@dataclass
class ChunkResult:
    """A chunk's output parts, in order: tables, or (from a worker process) the Parquet files
    holding them, and the number of its rows on each game date."""

    chunk: Chunk
    parts: list[pa.Table | WrittenPart]
    rows_per_date: dict[dt.date, int]
    timings: dict[str, float] = field(default_factory=dict)

    def take_parts(self) -> Iterator[pa.Table | WrittenPart]:
        """Each part once, in order, letting go of it here as it is handed out (so the caller
        holds only the parts it still uses)."""
        while self.parts:
            yield self.parts.pop(0)


def compute_chunk(
    task: ChunkTask, progress: Callable[[str], None] | None = None, snapshot=None, session=None
) -> ChunkResult:
    """The output parts of one chunk (a pure function of the snapshot and the task).

    `snapshot`: the parent's opened Snapshot of `task.snapshot`, reused when the chunk runs in
    the parent's process (opening it again re-reads every file's footer and FLOAT64 columns);
    `session`: the parent's engine Session of that snapshot, computed on instead of a new one."""
    from fsengine.contracts import contract_of
    from fsengine.engine.compute import compute
    from fsengine.output.rows import output_rows
    from fsengine.output.schema import write_part_files
    from fsengine.snapshot.format import Snapshot

    if snapshot is None or Path(snapshot.path) != Path(task.snapshot):
        # The parent verified the snapshot's checksums and values once; a worker only re-reads
        # its manifest and the files' footers.
        snapshot = Snapshot.open(task.snapshot, verify_checksums=False, check_values=False)
        session = None
    result = compute(
        snapshot,
        task.chunk.start,
        task.chunk.end,
        mode=task.mode,
        as_of=task.as_of,
        progress=progress,
        profile=task.profile,
        threads=task.threads,
        memory_limit=task.memory_limit,
        session=session,
    )
    timings = dict(result.timings)
    stage_seconds: dict[str, float] = {"score": 0.0, "rows": 0.0}
    rows_per_date = dict(result.rows.get_column("game_date").value_counts().iter_rows())
    parts = (
        output_rows(result.rows.slice(first, ROWS_PER_PART), task.run_ts, profile=task.profile, timings=stage_seconds)
        for first in range(0, result.rows.height, ROWS_PER_PART)
    )
    if task.files_folder is None:
        made: list[pa.Table | WrittenPart] = list(parts)
    else:
        made = list(write_part_files(parts, task.files_folder, f"{task.chunk.folder_name}-", contract_of(task.profile)))
    timings.update(stage_seconds)
    return ChunkResult(task.chunk, made, rows_per_date, timings)


# A worker process computes its chunks one after the other on one Session (opened for its
# first chunk, restricted again for each later one), as the parent does with --workers 1.
_worker_session: tuple[tuple, Session] | None = None


def _compute_in_worker(task: ChunkTask) -> ChunkResult:
    from fsengine.engine.session import Session
    from fsengine.snapshot.format import Snapshot

    global _worker_session
    key = (task.snapshot, task.profile, task.threads, task.memory_limit)
    if _worker_session is None or _worker_session[0] != key:
        if _worker_session is not None:
            _worker_session[1].close()
            _worker_session = None
        # The parent verified the snapshot's checksums and values once; a worker only re-reads
        # its manifest and the files' footers.
        snapshot = Snapshot.open(task.snapshot, verify_checksums=False, check_values=False)
        bounds = (task.chunk.start, task.chunk.end)
        _worker_session = (key, Session(snapshot, task.profile, task.threads, task.memory_limit, bounds=bounds))
    session = _worker_session[1]
    try:
        return compute_chunk(task, None, session.snapshot, session)
    finally:
        _release_memory()


def _release_memory() -> None:
    """Hand the memory the allocators keep after a chunk back to the system: pyarrow's pool and
    glibc's malloc (numpy, Python) keep freed pages for reuse; DuckDB's allocator is told to
    return them by session.connect, Polars' (in worker processes) by WORKER_ENVIRONMENT."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def run_chunks(
    tasks: list[ChunkTask],
    workers: int,
    output: Path,
    progress: Callable[[str], None] | None = None,
    snapshot=None,
    session=None,
) -> Iterator[ChunkResult]:
    """Results in the order of `tasks`; `workers` > 1 computes them in that many processes: this
    one and `workers` - 1 worker processes. `snapshot` and `session`: the caller's opened Snapshot
    of the tasks' snapshot and its engine Session, reused for the chunks computed in this
    process. `output`: the output folder beside which worker processes write their parts (in a
    hidden folder of their own, removed at the end, or by the next run into it if this process
    is killed)."""
    note = progress or (lambda message: None)
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            if len(tasks) > 1:
                note(
                    f"chunk {task.chunk.label}: {task.chunk.start} .. {task.chunk.end} ({task.chunk.dates} game dates)"
                )
            result = compute_chunk(task, progress if len(tasks) == 1 else None, snapshot, session)
            if len(tasks) > 1:
                _release_memory()
            yield result
        return
    # spawn, not fork: the parent holds DuckDB and Polars thread pools, which fork does not copy safely.
    context = multiprocessing.get_context("spawn")
    files_folder = parts_folder(output)
    try:
        yield from _run_in_pool(tasks, workers, note, context, files_folder, snapshot, session)
    finally:
        shutil.rmtree(files_folder, ignore_errors=True)


# Set for the worker processes only (the environment they start with): Polars' jemalloc
# returns freed pages to the system within a second, from a thread of its own, instead of
# keeping them for 10 s, so a worker does not carry one chunk's frames into the next (jemalloc
# reads this once, when Polars loads). Returning them at once (decay 0) cost nba5 ~0.5 s of
# system time in page faults.
WORKER_ENVIRONMENT = {"_RJEM_MALLOC_CONF": "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0"}


def own_chunks(count: int, workers: int) -> set[int]:
    """The indexes (from 0) of the chunks this process computes itself when `workers` processes
    share `count` chunks: the K-th, the 2K-th, ... (K = `workers`), so that it computes one while
    the workers compute those before it.

    >>> sorted(own_chunks(6, 2)), sorted(own_chunks(7, 3))
    ([1, 3, 5], [2, 5])
    """
    return {i for i in range(count) if i % workers == workers - 1}


def _run_in_pool(
    tasks, workers, note, context, files_folder: Path, snapshot=None, session=None
) -> Iterator[ChunkResult]:
    # This process is one of the `workers`: it has every module loaded and a session open
    # already, so a worker process fewer pays for its start-up, and its parts need no hand-over.
    own = own_chunks(len(tasks), workers)
    own_in_order = sorted(own)
    helpers = workers - 1
    to_workers = collections.deque(
        (i, replace(task, files_folder=files_folder)) for i, task in enumerate(tasks) if i not in own
    )
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=helpers, mp_context=context, initializer=_watch_parent, initargs=(os.getpid(),)
    )
    finished = False
    try:
        submitted: dict[int, concurrent.futures.Future] = {}
        computed_ahead: dict[int, ChunkResult] = {}

        def top_up() -> None:
            # At most one chunk queued per worker beyond those computing: each finds its next at
            # once, and the run holds at most `workers` + 1 chunks in flight.
            while to_workers and len(submitted) < helpers + 1:
                index, task = to_workers.popleft()
                submitted[index] = pool.submit(_compute_in_worker, task)

        # The pool starts a process per submission while none is idle: all of them start here.
        with _environment(WORKER_ENVIRONMENT), _interrupts_held_from_workers():
            top_up()
        for i, task in enumerate(tasks):
            if i in own:
                result = computed_ahead.pop(i, None) or _compute_here(task, snapshot, session)
            else:
                future = submitted[i]
                ahead = next((j for j in own_in_order if j > i and j not in computed_ahead), None)
                if not future.done() and not computed_ahead and ahead is not None:
                    # Compute this process's next chunk while the worker finishes the one before it.
                    computed_ahead[ahead] = _compute_here(tasks[ahead], snapshot, session)
                result = future.result()
                del submitted[i]
                top_up()
                if not submitted and not to_workers:
                    # The workers' last result is in: they wind down while this process goes on,
                    # instead of it waiting for them to exit at the end.
                    pool.shutdown(wait=False)
            note(f"chunk {result.chunk.label} done: {result.chunk.start} .. {result.chunk.end}")
            yield result
        finished = True
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:
            _abandon(pool)


def _compute_here(task: ChunkTask, snapshot, session) -> ChunkResult:
    try:
        return compute_chunk(task, None, snapshot, session)
    finally:
        _release_memory()


def _watch_parent(parent: int) -> None:
    """In a worker process: leave when the run's process is gone. A run killed outright (or one
    that leaves at once after a stop signal) cannot stop its workers, and an orphaned worker would
    otherwise wait on the pool's queue for ever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="fsengine-parent-watch", daemon=True).start()


def _abandon(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """Stop the workers now: the run failed, was stopped (Ctrl-C) or its reader left, so the
    chunks they are computing are not wanted. Waiting for them (what leaving the executor's
    `with` does) would keep a stopped run going for a chunk's time."""
    processes = list((pool._processes or {}).values())  # no public handle before Python 3.14
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)


@contextlib.contextmanager
def _interrupts_held_from_workers() -> Iterator[None]:
    """Worker processes started inside are born with SIGINT blocked (a thread's signal mask is
    inherited through fork and exec). A Ctrl-C in a terminal reaches every process of its group;
    a worker that got it while still starting up would print its own traceback, and one that got
    it mid-chunk would die on its own. This process gets every Ctrl-C as before (another of its
    threads takes the signal meanwhile) and stops its workers itself (`_abandon`)."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def _environment(settings: dict[str, str]) -> Iterator[None]:
    """os.environ with `settings` added (where not set already) for the processes started inside."""
    added = [name for name in settings if name not in os.environ]
    os.environ.update({name: settings[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def default_workers() -> int:
    """One worker per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def threads_per_worker(workers: int) -> int:
    """DuckDB threads for each worker so that the workers together use every CPU once."""
    return max(1, default_workers() // max(1, workers))
