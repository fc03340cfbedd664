"""What the target already holds for a run's dates, read before any job (issue "Know the target
before writing"): the contract guard and the diff a push prints before it writes.

The stored rows of the run's dates are read through the BigQuery Storage Read API — a read
session is not a job, so a push stays at exactly 2 jobs — with only the columns needed: the key,
feature_version, feature_count, data_hash, feature_quality_score and the run contract's
feature_<i>_source columns (all of them, not just feature_0_source: a row counts as "without
sources" when any of them is NULL, which is what a repair must fix; the engine sets every one).
`features` is read only for the per-feature diff (--diff-features).

The row restriction of a read session is a string; it is built here only from datetime.date
values (isoformat), never from text a user typed.
"""

from __future__ import annotations

import datetime as dt
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.ipc as ipc

from fsengine.bigquery.tables import TableId
from fsengine.errors import PushRefused, StreamLost

KEY_COLUMNS = ("player_lookup", "game_date")
CONTRACT_COLUMNS = ("feature_version", "feature_count")
READ_COLUMNS = (*KEY_COLUMNS, *CONTRACT_COLUMNS, "data_hash", "feature_quality_score")
MAX_RESUMES = 5


# --------------------------------------------------------------------------- reading


def date_restriction(dates: Iterable[dt.date]) -> str:
    """`game_date IN (CAST('YYYY-MM-DD' AS DATE), ...)` from date objects only."""
    days = sorted(set(dates))
    for d in days:
        if type(d) is not dt.date:  # a datetime or a string would format as something else
            raise TypeError(f"row restriction: {d!r} is not a datetime.date")
    if not days:
        raise ValueError("row restriction: no dates")
    return "game_date IN (" + ", ".join(f"CAST('{d.isoformat()}' AS DATE)" for d in days) + ")"


def source_columns(feature_count: int) -> list[str]:
    return [f"feature_{i}_source" for i in range(feature_count)]


def read_stored(
    read_client,
    target: TableId,
    dates: Iterable[dt.date],
    target_columns: Iterable[str],
    *,
    feature_count: int,
    with_features: bool = False,
    call_timeout: float = 60.0,
    read_timeout: float = 1800.0,
    endpoint: str = "Storage Read endpoint",
) -> pa.Table:
    """The stored rows of `dates` in `target`: READ_COLUMNS, `sources_null` (any of the run
    contract's feature_<i>_source NULL, or the column absent) and, with `with_features`,
    `features`. `target_columns`: the target's column names (from its schema)."""
    from google.api_core import exceptions as gexc
    from google.cloud.bigquery_storage_v1 import types

    from fsengine.snapshot.read import _is_retryable, _not_allocated_yet, _within

    have = {c.lower(): c for c in target_columns}
    sources = [have[c] for c in source_columns(feature_count) if c in have]
    missing_sources = len(sources) < feature_count
    wanted = [*READ_COLUMNS, *sources, *(["features"] if with_features else [])]
    absent = [c for c in wanted if c.lower() not in have]
    if absent:
        raise PushRefused(f"target {target} lacks columns {absent} (no job sent)")
    requested = types.ReadSession(
        table=f"projects/{target.project}/datasets/{target.dataset}/tables/{target.table}",
        data_format=types.DataFormat.ARROW,
        read_options=types.ReadSession.TableReadOptions(
            selected_fields=wanted, row_restriction=date_restriction(dates)
        ),
    )
    what = f"reading the stored rows of {target}"
    try:
        session = _within(
            call_timeout,
            f"opening a Storage Read session on {target}",
            endpoint,
            lambda timeout: read_client.create_read_session(
                parent=f"projects/{target.project}",
                read_session=requested,
                max_stream_count=1,
                retry=None,
                timeout=timeout,
            ),
        )
    except gexc.GoogleAPICallError as exc:
        raise PushRefused(f"could not open a Storage Read session on {target} (no job sent): {exc}") from None
    schema = (
        ipc.read_schema(pa.py_buffer(session.arrow_schema.serialized_schema))
        if session.arrow_schema.serialized_schema
        else None
    )
    batches: list[pa.Table] = []
    from google.cloud.bigquery_storage_v1.services.big_query_read import BigQueryReadClient as GapicReadClient

    for index, stream in enumerate(session.streams):
        offset, resumes, waits = 0, 0, 0
        deadline = time.monotonic() + read_timeout
        while True:
            try:
                call = GapicReadClient.read_rows(
                    read_client,
                    request=types.ReadRowsRequest(read_stream=stream.name, offset=offset),
                    retry=None,
                    timeout=max(deadline - time.monotonic(), 0.01),
                )
                for response in call:
                    batch = ipc.read_record_batch(
                        pa.py_buffer(response.arrow_record_batch.serialized_record_batch), schema
                    )
                    # the source columns are folded into one flag per row as they come, so a
                    # long run never holds its ~60 source strings per stored row at once
                    batches.append(_summarise(pa.Table.from_batches([batch]), sources, missing_sources, with_features))
                    offset += batch.num_rows
                break
            except gexc.GoogleAPICallError as exc:
                # a dropped stream resumes at its row offset, a bounded number of times, within the read timeout
                transient = _is_retryable(exc) or _not_allocated_yet(exc)
                delay = min(0.25 * 2 ** (resumes + waits), 4.0)
                if not transient or resumes >= MAX_RESUMES or time.monotonic() + delay >= deadline:
                    error = StreamLost if transient else PushRefused
                    raise error(
                        f"{what} (stream {index}) failed at row {offset} (no job sent): "
                        f"{type(exc).__name__}: {exc.message}"
                    ) from None
                if _not_allocated_yet(exc):
                    waits += 1
                else:
                    resumes += 1
                time.sleep(delay)
    if not batches:
        return _summarise(_empty(wanted, schema), sources, missing_sources, with_features)
    return pa.concat_tables(batches)


def _empty(names: list[str], schema: pa.Schema | None) -> pa.Table:
    """No stored row: an empty table of the session's schema (or of the summary's types)."""
    if schema is not None:
        return schema.empty_table()
    types = {
        "game_date": pa.date32(),
        "feature_count": pa.int64(),
        "feature_quality_score": pa.decimal128(5, 2),
        "features": pa.list_(pa.float64()),
    }
    return pa.table({n: pa.array([], types.get(n, pa.string())) for n in names})


def _summarise(table: pa.Table, sources: list[str], missing_sources: bool, with_features: bool) -> pa.Table:
    import pyarrow.compute as pc

    n = table.num_rows
    null = pa.array([missing_sources] * n, pa.bool_())
    for name in sources:
        null = pc.or_(null, table[name].is_null())
    columns = {
        "player_lookup": table["player_lookup"].cast(pa.string()),
        "game_date": table["game_date"].cast(pa.date32()),
        "feature_version": table["feature_version"].cast(pa.string()),
        "feature_count": table["feature_count"].cast(pa.int64()),
        "data_hash": table["data_hash"].cast(pa.string()),
        "feature_quality_score": table["feature_quality_score"],
        "sources_null": null,
    }
    if with_features:
        columns["features"] = table["features"].cast(pa.list_(pa.float64()))
    return pa.table(columns)


# --------------------------------------------------------------------------- the guard


@dataclass(frozen=True)
class ContractClash:
    """One date whose stored rows carry another contract than the run's."""

    date: dt.date
    stored: dict[tuple[str, int], int]  # (feature_version, feature_count) -> stored rows
    run_rows: int

    def text(self, run_contract: tuple[str, int]) -> str:
        stored = ", ".join(f"{v}/{c}: {n} rows" for (v, c), n in sorted(self.stored.items(), key=str))
        return f"{self.date}: stored {stored}; the run writes {run_contract[0]}/{run_contract[1]}: {self.run_rows} rows"


def contract_clashes(stored: pa.Table, run_contract: tuple[str, int], rows_per_date: dict) -> list[ContractClash]:
    """The dates of `stored` holding any row whose (feature_version, feature_count) is not the run's;
    each with the count of stored rows per contract on that date (the run's own included)."""
    per: dict[dt.date, dict[tuple[str, int], int]] = {}
    for date, version, count in zip(
        stored["game_date"].to_pylist(), stored["feature_version"].to_pylist(), stored["feature_count"].to_pylist()
    ):
        per.setdefault(date, {}).setdefault((version, count), 0)
        per[date][(version, count)] += 1
    return [
        ContractClash(d, c, rows_per_date.get(d, 0))
        for d, c in sorted(per.items())
        if any(k != run_contract for k in c)
    ]


def refuse_clashes(clashes: list[ContractClash], run_contract: tuple[str, int], target) -> None:
    if clashes:
        raise PushRefused(
            f"target {target} holds rows of another contract than the run's ({run_contract[0]}/{run_contract[1]}) "
            f"on {len(clashes)} of the run's dates (no job sent; --replace-contract rewrites those dates whole):\n  "
            + "\n  ".join(c.text(run_contract) for c in clashes)
        )


# --------------------------------------------------------------------------- the diff


@dataclass
class DateDiff:
    insert: int = 0
    update_changed: int = 0  # data_hash differs
    update_same: int = 0  # same data_hash: only metadata (updated_at, run stamps) changes
    delete: int = 0  # replace mode: stored keys the run no longer produces
    repaired: int = 0  # stored without sources, set by the run

    def add(self, other: DateDiff) -> None:
        for name in ("insert", "update_changed", "update_same", "delete", "repaired"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def text(self) -> str:
        return (
            f"insert {self.insert}, update {self.update_changed + self.update_same} "
            f"({self.update_changed} changed, {self.update_same} same content), delete {self.delete}, "
            f"repair {self.repaired}"
        )


@dataclass
class TargetDiff:
    per_date: dict[dt.date, DateDiff]
    replaced_dates: list[dt.date]
    feature_changes: dict[int, int] | None = None  # feature index -> rows whose stored value changes
    stored_rows: int = 0

    @property
    def total(self) -> DateDiff:
        out = DateDiff()
        for d in self.per_date.values():
            out.add(d)
        return out

    def render(self) -> str:
        lines = [
            f"target diff over {len(self.per_date)} dates ({self.stored_rows} stored rows read): {self.total.text()}"
        ]
        if self.replaced_dates:
            lines.append(f"  replaced whole (delete branch): {_ranges(self.replaced_dates)}")
        # consecutive dates with the same figures are shown as one range
        groups: list[tuple[list[dt.date], DateDiff]] = []
        for date, diff in sorted(self.per_date.items()):
            if groups and groups[-1][1] == diff:
                groups[-1][0].append(date)
            else:
                groups.append(([date], diff))
        for dates, diff in groups:
            span = f"{dates[0]}" if len(dates) == 1 else f"{dates[0]} .. {dates[-1]} ({len(dates)} dates, each)"
            lines.append(f"  {span}: {diff.text()}")
        if self.feature_changes is not None:
            changed = {i: n for i, n in self.feature_changes.items() if n}
            lines.append(
                "  features whose stored value changes: "
                + (", ".join(f"feature {i}: {n} rows" for i, n in sorted(changed.items())) or "none")
            )
        return "\n".join(lines)


def _ranges(dates: list[dt.date]) -> str:
    dates = sorted(dates)
    spans, start, prev = [], dates[0], dates[0]
    for d in dates[1:]:
        if d != prev + dt.timedelta(days=1):
            spans.append((start, prev))
            start = d
        prev = d
    spans.append((start, prev))
    return ", ".join(str(a) if a == b else f"{a} .. {b}" for a, b in spans)


def _float_bits(value) -> bytes | None:
    return None if value is None else struct.pack("<d", value)


def diff(run: pa.Table, stored: pa.Table, replace_dates: Iterable[dt.date], with_features: bool = False) -> TargetDiff:
    """The push's effect on the target, per run date, from the run's rows and the stored rows."""
    replace_dates = set(replace_dates)
    run_dates = sorted(set(run["game_date"].to_pylist()))
    per_date = {d: DateDiff() for d in run_dates}
    stored_by_key: dict[tuple, int] = {}
    s_keys = list(zip(stored["player_lookup"].to_pylist(), stored["game_date"].to_pylist()))
    for i, key in enumerate(s_keys):
        stored_by_key.setdefault(key, i)
    s_hash = stored["data_hash"].to_pylist()
    s_null = stored["sources_null"].to_pylist()
    r_keys = list(zip(run["player_lookup"].to_pylist(), run["game_date"].to_pylist()))
    r_hash = run["data_hash"].to_pylist()
    r_source = run["feature_0_source"].to_pylist() if "feature_0_source" in run.column_names else [None] * run.num_rows
    width = len(run["features"][0].as_py()) if with_features and run.num_rows else 0
    changes = {i: 0 for i in range(width)} if with_features else None
    r_features = run["features"].to_pylist() if with_features else None
    s_features = stored["features"].to_pylist() if with_features else None
    run_key_set = set(r_keys)
    for i, key in enumerate(r_keys):
        d = per_date[key[1]]
        j = stored_by_key.get(key)
        if j is None:
            d.insert += 1
            continue
        if s_hash[j] is not None and s_hash[j] == r_hash[i]:
            d.update_same += 1
        else:
            d.update_changed += 1
        if s_null[j] and r_source[i] is not None:
            d.repaired += 1
        if changes is not None:
            assert s_features is not None and r_features is not None  # read whenever changes are counted
            old, new = s_features[j] or [], r_features[i] or []
            for k in range(width):
                if (_float_bits(old[k]) if k < len(old) else b"absent") != _float_bits(new[k]):
                    changes[k] += 1
    for key in s_keys:
        if key[1] in replace_dates and key not in run_key_set:
            per_date[key[1]].delete += 1
    return TargetDiff(per_date, sorted(replace_dates), changes, stored.num_rows)


@dataclass
class StaleDate:
    date: dt.date
    rows: int  # the fresh computation's rows on that date
    reasons: list[str] = field(default_factory=list)


def stale_dates(
    run: pa.Table, stored: pa.Table, run_contract: tuple[str, int], replace_contract: bool, compare_hash: bool = True
) -> list[StaleDate]:
    """The run dates a push must rewrite: stored rows missing for keys the run produces, stored
    rows without sources, stored rows of another contract (only with `replace_contract`; without
    it such dates are left to the guard) or a data_hash that differs from the fresh computation's."""
    per_run: dict[dt.date, int] = {}
    for d in run["game_date"].to_pylist():
        per_run[d] = per_run.get(d, 0) + 1
    stored_keys = dict(
        zip(zip(stored["player_lookup"].to_pylist(), stored["game_date"].to_pylist()), stored["data_hash"].to_pylist())
    )
    reasons_by_date: dict[dt.date, dict[str, int]] = {d: {} for d in per_run}

    def count(date, reason):
        if date in reasons_by_date:
            reasons_by_date[date][reason] = reasons_by_date[date].get(reason, 0) + 1

    for date, null, version, fcount in zip(
        stored["game_date"].to_pylist(),
        stored["sources_null"].to_pylist(),
        stored["feature_version"].to_pylist(),
        stored["feature_count"].to_pylist(),
    ):
        if null:
            count(date, "stored rows without sources")
        if (version, fcount) != run_contract and replace_contract:
            count(date, "stored rows of another contract")
    for key, h in zip(
        zip(run["player_lookup"].to_pylist(), run["game_date"].to_pylist()), run["data_hash"].to_pylist()
    ):
        if key not in stored_keys:
            count(key[1], "keys missing from the target")
        elif compare_hash and (stored_keys[key] is None or stored_keys[key] != h):  # as the diff: NULL = changed
            count(key[1], "rows differing from a fresh computation")
    return [
        StaleDate(d, per_run[d], [f"{n} {r}" for r, n in sorted(reasons.items())])
        for d, reasons in sorted(reasons_by_date.items())
        if reasons
    ]
