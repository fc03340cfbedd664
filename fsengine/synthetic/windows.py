"""Helpers of the generator that stay lean in memory on the largest worlds: the rows of a group
within a few days before each key are found by binary search over the rows sorted by (group,
day), never by joining every key to the group's whole history and filtering; a stable sort by
integer columns gathers each column once."""

from __future__ import annotations

import numpy as np
import polars as pl


def rows_in_window(
    key_group: np.ndarray, key_day: np.ndarray, group: np.ndarray, day: np.ndarray, back: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (key index, row index) for every row of the key's group dated in [D - back, D - 1],
    D the key's day; ordered by key, then newest row first. Days are integers (|day| < 2^31)."""
    order = np.lexsort((day, group))
    # (group, day) as one sortable integer: group in the high 32 bits, day added below them
    sorted_key = (group[order].astype(np.int64) << 32) + day[order].astype(np.int64)
    probe = (np.asarray(key_group).astype(np.int64) << 32) + np.asarray(key_day).astype(np.int64)
    lo = np.searchsorted(sorted_key, probe - back, side="left")
    hi = np.searchsorted(sorted_key, probe, side="left")
    counts = hi - lo
    starts = np.cumsum(counts) - counts
    key = np.repeat(np.arange(len(probe)), counts)
    position = hi[key] - 1 - (np.arange(len(key)) - starts[key])
    return key, order[position]


def leading_run(group: np.ndarray, values: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """For groups 0 .. groups-1 given as runs of a non-decreasing `group` array: how many of the
    group's leading values equal its first one, and that first value (0 for an empty group)."""
    first = np.zeros(groups, dtype=values.dtype)
    if not len(group):
        return np.zeros(groups, dtype=np.int64), first
    is_start = np.empty(len(group), dtype=bool)
    is_start[0] = True
    np.not_equal(group[1:], group[:-1], out=is_start[1:])
    starts = np.flatnonzero(is_start)
    start_of = starts[np.cumsum(is_start) - 1]
    broken = np.cumsum(values != values[start_of])
    in_run = broken == broken[start_of]
    first[group[starts]] = values[starts]
    return np.bincount(group[in_run], minlength=groups).astype(np.int64), first


def sort_stable(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """`frame.sort(*columns, maintain_order=True)` for integer columns without NULLs, with a
    fraction of polars' working memory: one stable argsort, then one gather per column."""
    if any(frame[c].null_count() for c in columns):
        raise ValueError(f"sort_stable: NULLs in {columns}")
    keys = [frame[c].to_numpy() for c in columns]
    order = np.lexsort(keys[::-1]) if len(keys) > 1 else np.argsort(keys[0], kind="stable")
    return frame[order]
