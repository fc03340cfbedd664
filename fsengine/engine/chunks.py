"""Chunks: a run's [start, end] split into ranges of consecutive game dates, each computed on its
own (in this process, in worker processes, or on other machines) with exactly the rows one whole
run gives for its dates.

Why it holds: every output row depends only on its own date's point-in-time data (the engine's
"a range at once equals its dates one by one" property); each chunk's session reads only the
snapshot rows its dates and lookbacks need (docs/sources.md §4); and the one snapshot-wide fact
(the first game of each season) is taken from the whole snapshot in every chunk.

    >>> import datetime as dt
    >>> d = [dt.date(2025, 11, n) for n in (3, 4, 6, 7, 9)]
    >>> [(c.start.day, c.end.day, c.dates) for c in plan_chunks(d[0], dt.date(2025, 11, 10), d, 2)]
    [(3, 5, 2), (6, 8, 2), (9, 10, 1)]
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from fsengine.errors import InputError

# Rows of output a chunk aims at when --chunk-dates is auto (counted as the spine candidates the
# planner sees): small enough that a process computing `v2_54features` chunks stays near 1 GiB
# (x10 on two workers: 1.81 GiB over all processes; 1.64 GiB with 35,000), large enough that the
# fixed cost of a chunk (its 24-28 queries over its lookbacks, ~0.6 s of CPU) stays a small
# share (nba5's 146,009 candidates on two workers: four chunks; six with 35,000, 10-15% slower).
AUTO_ROWS_PER_CHUNK = 40_000
RUN_DATES_QUERY = "run_dates"

# Job runners that start N copies of one command and tell each its index (from 0).
INDEX_VARIABLES = ("CLOUD_RUN_TASK_INDEX", "BATCH_TASK_INDEX", "JOB_COMPLETION_INDEX")
COUNT_VARIABLES = ("CLOUD_RUN_TASK_COUNT", "BATCH_TASK_COUNT")


@dataclass(frozen=True)
class Chunk:
    """Dates [start, end] of a run, holding `dates` game dates; number `index` of `count`."""

    index: int
    count: int
    start: dt.date
    end: dt.date
    dates: int

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def folder_name(self) -> str:
        width = max(4, len(str(self.count)))
        return f"chunk-{self.index:0{width}d}-of-{self.count:0{width}d}"


def plan_chunks(start: dt.date, end: dt.date, game_dates: list[dt.date], dates_per_chunk: int) -> list[Chunk]:
    """Consecutive ranges covering [start, end], each with at most `dates_per_chunk` game dates.

    A chunk runs from its first game date (the run's start for the first chunk) to the day
    before the next chunk's first game date (the run's end for the last one), so the chunks
    together cover every day of the run exactly once.
    """
    if dates_per_chunk < 1:
        raise InputError(f"--chunk-dates must be at least 1, got {dates_per_chunk}")
    inside = sorted(d for d in set(game_dates) if start <= d <= end)
    if not inside:
        return [Chunk(1, 1, start, end, 0)]
    groups = [inside[i : i + dates_per_chunk] for i in range(0, len(inside), dates_per_chunk)]
    return _ranges(start, end, groups)


def split_for_machines(start: dt.date, end: dt.date, game_dates: list[dt.date], count: int) -> list[Chunk]:
    """[start, end] as `count` chunks of nearly equal numbers of game dates (for N machines)."""
    if count < 1:
        raise InputError(f"the number of chunks must be at least 1, got {count}")
    inside = sorted(d for d in set(game_dates) if start <= d <= end)
    if count > max(1, len(inside)):
        raise InputError(f"cannot split {start} .. {end} into {count} chunks: it has {len(inside)} game dates")
    if not inside:
        return [Chunk(1, 1, start, end, 0)]
    size, extra = divmod(len(inside), count)
    groups, first = [], 0
    for i in range(count):
        take = size + (1 if i < extra else 0)
        groups.append(inside[first : first + take])
        first += take
    return _ranges(start, end, groups)


def _ranges(start: dt.date, end: dt.date, groups: list[list[dt.date]]) -> list[Chunk]:
    chunks = []
    for i, group in enumerate(groups):
        low = start if i == 0 else group[0]
        high = end if i == len(groups) - 1 else groups[i + 1][0] - dt.timedelta(days=1)
        chunks.append(Chunk(i + 1, len(groups), low, high, len(group)))
    return chunks


def auto_dates_per_chunk(rows: int, dates: int, rows_per_chunk: int = AUTO_ROWS_PER_CHUNK, workers: int = 1) -> int:
    """Game dates per chunk so that a chunk holds at most about `rows_per_chunk` output rows.

    With `workers` processes and more than one chunk, the number of chunks is rounded up to a
    multiple of `workers` and the dates shared out evenly between them (as nearly as whole
    dates per chunk allow), so that the workers finish together: 3 chunks on 2 workers leave
    one idle for the whole third chunk, 4 smaller ones do not.

    >>> auto_dates_per_chunk(136_179, 761, 60_000), auto_dates_per_chunk(136_179, 761, 60_000, workers=2)
    (335, 191)
    """
    if dates == 0 or rows == 0:
        return max(1, dates)
    size = max(1, math.floor(rows_per_chunk / (rows / dates)))
    count = math.ceil(dates / size)
    if workers <= 1 or count <= 1:
        return size
    return math.ceil(dates / (math.ceil(count / workers) * workers))


def parse_chunk_dates(text: str) -> int | None:
    """`--chunk-dates`: a positive number, or `auto` (None)."""
    if text.strip().lower() == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"--chunk-dates must be a positive number or 'auto', got {text!r}") from None
    if value < 1:
        raise InputError(f"--chunk-dates must be at least 1, got {value}")
    return value


def parse_chunk_selector(text: str, environ: Mapping[str, str] | None = None) -> tuple[int, int]:
    """`--chunk I/N` (I counts from 1), or `env` / `env/N`: the index from the job runner's
    variable (counting from 0: CLOUD_RUN_TASK_INDEX, BATCH_TASK_INDEX, JOB_COMPLETION_INDEX) and the
    count from CLOUD_RUN_TASK_COUNT / BATCH_TASK_COUNT or the N given."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    text = text.strip()
    if text.lower().startswith("env"):
        rest = text[3:]
        index_var = next((v for v in INDEX_VARIABLES if env.get(v, "") != ""), None)
        if index_var is None:
            raise InputError(f"--chunk {text}: none of {', '.join(INDEX_VARIABLES)} is set")
        index = _whole(env[index_var], index_var) + 1
        if rest.startswith("/"):
            count = _whole(rest[1:], f"--chunk {text}")
        elif rest == "":
            count_var = next((v for v in COUNT_VARIABLES if env.get(v, "") != ""), None)
            if count_var is None:
                raise InputError(
                    f"--chunk env: {index_var} is set but no task count ({', '.join(COUNT_VARIABLES)}); "
                    "give it as --chunk env/N"
                )
            count = _whole(env[count_var], count_var)
        else:
            raise InputError(f"--chunk must be I/N, env or env/N, got {text!r}")
    else:
        index_text, slash, count_text = text.partition("/")
        if not slash:
            raise InputError(f"--chunk must be I/N (e.g. 2/8), env or env/N, got {text!r}")
        index, count = _whole(index_text, "--chunk I"), _whole(count_text, "--chunk N")
    if count < 1 or not 1 <= index <= count:
        raise InputError(f"--chunk {index}/{count}: I must lie between 1 and N")
    return index, count


def _whole(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InputError(f"{what} must be a whole number, got {text!r}") from None
