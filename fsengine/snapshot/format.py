"""Snapshot folders (docs/sources.md §3; format 2: docs/v2_54/sources.md §5): write them atomically
(format 2), read and validate format 1 and 2, and expose their tables to DuckDB without copying.

A snapshot is a folder with one sub-folder of Parquet files per source table and a
`manifest.json` written last. A folder without a manifest is incomplete and never read.
Format 2 adds the manifest key `contracts`: the contracts whose tables, columns and lookbacks
the writer satisfied. A format-1 manifest counts as `contracts = ["v2_37features"]`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from fsengine import __version__
from fsengine.errors import CoverageError, SnapshotError
from fsengine.snapshot.sources import (
    ARROW_TYPES,
    CONTRACT_SOURCES,
    MINUTES_ALTERNATIVES,
    REFERENCE_CONTRACT,
    TABLES,
    SourceTable,
    check_contracts,
    columns_for,
    first_servable_start,
    missing_for,
    normalise_type,
    required_bounds,
    tables_for,
)

FORMAT_VERSION = 2  # what this version writes
READABLE_FORMATS = (1, 2)
MANIFEST = "manifest.json"
COMPRESSION = "zstd"


def rfc3339(moment: dt.datetime) -> str:
    """UTC timestamp as RFC 3339 with microseconds and a Z suffix."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- writing


@dataclass
class TableRead:
    """What a writer knows about one table it has read (manifest entry without files)."""

    table: SourceTable
    start: dt.date
    end: dt.date
    snapshot_time: dt.datetime
    source: str
    column_types: dict[str, str]  # BigQuery type per column, in file order


class TableWriter:
    """Streams record batches of one table into part-NNNNN.parquet files."""

    def __init__(self, folder: Path, read: TableRead, max_rows_per_file: int = 2_000_000):
        self.read = read
        self.folder = folder / read.table.key
        self.folder.mkdir(parents=True, exist_ok=True)
        self.schema = pa.schema([pa.field(c, ARROW_TYPES[t]) for c, t in read.column_types.items()])
        self.max_rows_per_file = max_rows_per_file
        self.files: list[dict] = []
        self._writer: pq.ParquetWriter | None = None
        self._path: Path | None = None
        self._rows_in_file = 0

    def _open(self) -> None:
        self._path = self.folder / f"part-{len(self.files):05d}.parquet"
        self._writer = pq.ParquetWriter(self._path, self.schema, compression=COMPRESSION)
        self._rows_in_file = 0

    def _close(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        assert self._path is not None  # set by _open together with the writer
        rel = f"{self.read.table.key}/{self._path.name}"
        self.files.append({"path": rel, "rows": self._rows_in_file, "sha256": sha256_of(self._path)})
        self._writer = None

    def write(self, data: pa.RecordBatch | pa.Table) -> None:
        if data.num_rows == 0:
            return
        data = _conform(data, self.schema, self.read.table.key)
        if self._writer is not None and self._rows_in_file + data.num_rows > self.max_rows_per_file:
            self._close()
        if self._writer is None:
            self._open()
        writer = self._writer
        assert writer is not None  # _open made it
        if isinstance(data, pa.RecordBatch):
            writer.write_batch(data)
        else:
            writer.write_table(data)
        self._rows_in_file += data.num_rows

    def split(self) -> None:
        """End the current file; the next batch starts a new one (one file per stream)."""
        self._close()

    def finish(self) -> dict:
        self._close()
        if not self.files:  # an empty read still gets one file with the full schema
            self._open()
            self._close()
        size = sum((self.folder.parent / f["path"]).stat().st_size for f in self.files)
        table = self.read.table
        return {
            "date_column": table.date_column,
            "start": self.read.start.isoformat(),
            "end": self.read.end.isoformat(),
            "columns": [{"name": c, "type": t} for c, t in self.read.column_types.items()],
            "row_restriction": table.row_restriction(self.read.start, self.read.end),
            "snapshot_time": rfc3339(self.read.snapshot_time),
            "source": self.read.source,
            "rows": sum(f["rows"] for f in self.files),
            "bytes": size,
            "files": self.files,
        }


def _conform(data, schema: pa.Schema, key: str):
    if data.schema.names != schema.names:
        raise SnapshotError(f"{key}: columns {data.schema.names} do not match {schema.names}")
    if not data.schema.equals(schema, check_metadata=False):
        try:
            return data.cast(schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise SnapshotError(f"{key}: cannot store data as {schema}: {exc}") from exc
    return data


def foreign_snapshot(folder: Path) -> str | None:
    """None when the existing, non-empty `folder` is an fsengine snapshot that may be replaced
    (a manifest, and no file the manifest does not list); else why it is not."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return f"no {MANIFEST}"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        listed = {MANIFEST} | {f["path"] for entry in manifest["tables"].values() for f in entry["files"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return f"{MANIFEST} is not an fsengine snapshot manifest"
    extra = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_dir() and not path.is_symlink():
            continue
        if rel not in listed:
            extra.append(rel)
    if extra:
        return f"files the manifest does not list: {', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''}"
    return None


class SnapshotWriter:
    """Writes a snapshot into a staging sibling folder and swaps it into place on commit
    (fsengine.output.write.FolderWriter: one atomic step; a folder fsengine did not write is
    refused before anything is written).

    Use as a context manager; leaving the block with an exception removes the staging
    folder, so an interrupted snapshot never leaves a manifest behind.
    """

    def __init__(self, folder: str | Path, contracts: Iterable[str] | None = None):
        from fsengine.output.write import FolderWriter

        self.folder = Path(folder)
        self.contracts = None if contracts is None else check_contracts(contracts)
        self._writer = FolderWriter(self.folder, owned=foreign_snapshot, what="snapshot")
        self.staging = self._writer.staging
        self.entries: dict[str, dict] = {}

    def table(self, read: TableRead, max_rows_per_file: int = 2_000_000) -> TableWriter:
        return TableWriter(self.staging, read, max_rows_per_file)

    def add(self, writer: TableWriter) -> None:
        self.entries[writer.read.table.key] = writer.finish()

    def adopt(self, key: str, entry: dict, from_folder: Path) -> None:
        """Carry a table over unchanged from an existing snapshot (used when extending one)."""
        (self.staging / key).mkdir(parents=True, exist_ok=True)
        for f in entry["files"]:
            shutil.copy2(from_folder / f["path"], self.staging / f["path"])
        self.entries[key] = entry

    def commit(self, created_at: dt.datetime | None = None) -> Path:
        from fsengine.output.write import write_file

        contracts = (
            self.contracts
            if self.contracts is not None
            else served_contracts({key: [c["name"] for c in entry["columns"]] for key, entry in self.entries.items()})
        )
        manifest = {
            "format": FORMAT_VERSION,
            "contracts": list(contracts),
            "created_at": rfc3339(created_at or dt.datetime.now(dt.UTC)),
            "tool_version": __version__,
            "tables": {key: self.entries[key] for key in sorted(self.entries)},
        }
        write_file(self.staging / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        return self._writer.commit()

    def abort(self) -> None:
        self._writer.abort()

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._writer.__exit__(exc_type, exc, tb)


def write_snapshot(
    folder: str | Path,
    tables: Mapping[str, pa.Table],
    bounds: Mapping[str, tuple[dt.date, dt.date]],
    *,
    snapshot_time: dt.datetime,
    source_prefix: str = "fixture:",
    created_at: dt.datetime | None = None,
    max_rows_per_file: int = 2_000_000,
    contracts: Iterable[str] | None = None,
) -> Path:
    """Write whole in-memory tables as a format-2 snapshot (fixtures, tests).

    `tables` maps `<dataset>.<table>` to an Arrow table with the columns of docs/sources.md §2
    in order; `bounds` gives each table's inclusive [start, end]. `contracts` is what the
    manifest declares; None declares every contract whose tables and columns are all present.
    """
    with SnapshotWriter(folder, contracts) as writer:
        for key, data in tables.items():
            spec = _spec(key)
            types = {f.name: _bq_type_of(f.type, key, f.name) for f in data.schema}
            start, end = bounds[key]
            read = TableRead(spec, start, end, snapshot_time, f"{source_prefix}{key}", types)
            tw = writer.table(read, max_rows_per_file)
            for offset in range(0, data.num_rows, max_rows_per_file):  # honour the per-file limit
                tw.write(data.slice(offset, max_rows_per_file))
            writer.add(tw)
        return writer.commit(created_at)


def _bq_type_of(arrow_type: pa.DataType, key: str, column: str) -> str:
    for name, candidate in ARROW_TYPES.items():
        if arrow_type == candidate:
            return name
    if pa.types.is_decimal(arrow_type):
        return "NUMERIC"
    raise SnapshotError(f"{key}.{column}: Arrow type {arrow_type} has no BigQuery type in format 1")


def served_contracts(columns: Mapping[str, Iterable[str]]) -> tuple[str, ...]:
    """The contracts whose every table and column is among `columns` ({table key: column names})."""
    present = {key: set(names) for key, names in columns.items()}
    return tuple(c for c in sorted(CONTRACT_SOURCES) if missing_for(c, present) == ([], []))


def _spec(key: str) -> SourceTable:
    try:
        return TABLES[key]
    except KeyError:
        raise SnapshotError(f"unknown source table {key!r}; expected one of {sorted(TABLES)}") from None


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class SnapshotTable:
    spec: SourceTable
    start: dt.date
    end: dt.date
    column_types: dict[str, str]
    files: tuple[Path, ...]
    rows: int
    bytes: int

    @property
    def key(self) -> str:
        return self.spec.key


class Snapshot:
    """A validated format-1 or format-2 snapshot. Construct with `Snapshot.open(path)`.

    `declared` is what the manifest says the snapshot serves; `contracts` is what this object
    was validated for (the `contract` given to `open`, else every declared contract): its
    `tables`, coverage and servable range are those contracts' tables and lookbacks.
    """

    def __init__(
        self,
        path: Path,
        manifest: dict,
        tables: dict[str, SnapshotTable],
        declared: tuple[str, ...] = (REFERENCE_CONTRACT,),
        contracts: tuple[str, ...] | None = None,
    ):
        self.path = path
        self.manifest = manifest
        self.tables = tables
        self.declared = declared
        self.contracts = contracts if contracts is not None else declared

    # -- opening and validation (docs/sources.md §3.4; docs/v2_54/sources.md §5)
    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        verify_checksums: bool = True,
        required: Iterable[str] | None = None,
        contract: str | None = None,
        check_values: bool = True,
    ) -> Snapshot:
        """Open and validate the snapshot at `path`. With `contract`, refuse it unless it was
        taken for that contract and holds its tables and columns; without, validate it for
        every contract it declares. `required` (table keys) narrows the tables validated.
        `check_values=False` skips the scan of FLOAT64 values for NaN/Inf (for a process whose
        parent opened the same snapshot with it); manifest, schemas and footers are checked."""
        path = Path(path)
        if not path.is_dir():
            what = "is a file, not a folder" if path.exists() else "does not exist"
            raise SnapshotError(f"snapshot folder {path} {what}")
        manifest_path = path / MANIFEST
        if not manifest_path.is_file():
            raise SnapshotError(
                f"{path} has no {MANIFEST}: it is not a snapshot, or an incomplete one (a snapshot "
                "whose writing was interrupted never gets a manifest)"
            )
        if not manifest_path.resolve().is_relative_to(path.resolve()):
            raise SnapshotError(
                f"{manifest_path} is a symbolic link pointing outside the snapshot; a snapshot holds its own files"
            )
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SnapshotError(f"{manifest_path}: not valid JSON ({exc})") from exc
        if not isinstance(manifest, dict):
            raise SnapshotError(f"{manifest_path}: expected a JSON object")
        version = manifest.get("format")
        if type(version) is not int or version not in READABLE_FORMATS:
            raise SnapshotError(
                f"{manifest_path}: format {version!r} is not supported (this fsengine reads formats "
                f"{', '.join(map(str, READABLE_FORMATS))})"
            )
        listed = manifest.get("tables")
        if not isinstance(listed, dict):
            raise SnapshotError(f"{manifest_path}: 'tables' is missing or not an object")
        declared = _declared_contracts(manifest, manifest_path)
        if contract is not None:
            check_contracts([contract])
            if contract not in declared:
                raise SnapshotError(_not_taken_for(path, declared, contract, listed))
            serve: tuple[str, ...] = (contract,)
        else:
            serve = tuple(c for c in declared if c in CONTRACT_SOURCES)
            if not serve:
                raise SnapshotError(
                    f"{manifest_path}: declares contracts {list(declared)}, none of which this fsengine knows "
                    f"({', '.join(sorted(CONTRACT_SOURCES))})"
                )
        wanted = list(required) if required is not None else [t.key for t in tables_for(serve)]
        tables: dict[str, SnapshotTable] = {}
        for key in wanted:
            if key not in listed:
                raise SnapshotError(
                    f"snapshot {path} lacks table {key} (manifest lists {sorted(listed)})" + _hint(serve)
                )
            spec = TABLES.get(key)
            columns = columns_for(spec, serve) if spec is not None else []
            tables[key] = _validate_table(
                path, key, listed[key], verify_checksums, columns, _hint(serve), check_values=check_values
            )
        return cls(path, manifest, tables, declared, serve)

    def require(self, contract: str) -> Snapshot:
        """This snapshot validated for `contract` (checksums not verified again); SnapshotError
        saying what is missing when it was not taken for that contract."""
        return Snapshot.open(self.path, verify_checksums=False, contract=contract)

    @property
    def minutes_type(self) -> str:
        """Recorded type of player_game_summary.minutes_played: NUMERIC, INT64 or FLOAT64."""
        return self.tables["nba_analytics.player_game_summary"].column_types["minutes_played"]

    def check_coverage(self, start: dt.date, end: dt.date) -> None:
        """Raise CoverageError unless every table covers what a run over [start, end] of this
        snapshot's contracts needs."""
        problems = []
        for key, table in self.tables.items():
            need_start, need_end = required_bounds(table.spec, start, end, self.contracts)
            if table.start > need_start or table.end < need_end:
                problems.append(
                    f"{key} covers {table.start} .. {table.end} but the run {start} .. {end} needs "
                    f"{need_start} .. {need_end}"
                )
        if problems:
            raise CoverageError(
                f"snapshot does not cover the run (contract {', '.join(self.contracts)}):\n  " + "\n  ".join(problems)
            )

    def servable_range(self) -> tuple[dt.date, dt.date] | None:
        """The widest [start, end] this snapshot covers completely for its contracts, or None."""
        end = min(t.end for t in self.tables.values())
        start = dt.date.min
        for table in self.tables.values():
            start = max(start, first_servable_start(table.spec, table.start, self.contracts))
        return (start, end) if start <= end else None

    def register(
        self,
        con,
        *,
        prefix: str = "",
        bounds: tuple[dt.date, dt.date] | None = None,
        only: Iterable[str] | None = None,
    ) -> None:
        """Create one DuckDB view per table, named by its short name (pgs, upgc, ...).

        The views read the Parquet files in place; nothing is copied. With `bounds` (a run's or a
        chunk's [start, end]) each view keeps only the rows that range needs, the lookbacks of
        this snapshot's contracts included (docs/sources.md §4), as a filter DuckDB pushes into
        the Parquet scan (row groups outside it are skipped).

        `only`: the short names of the views to create (default: every table's).

        All views are created by one statement list (one round trip instead of several bound
        relation steps per table); every value in it is a literal rendered by DuckDB itself.
        """
        statements = self.view_statements(prefix=prefix, bounds=bounds, only=only)
        if statements:
            con.execute("\n".join(statements))

    def view_statements(
        self,
        *,
        prefix: str = "",
        bounds: tuple[dt.date, dt.date] | None = None,
        only: Iterable[str] | None = None,
    ) -> list[str]:
        """The CREATE VIEW statements of `register`, one per table."""
        import duckdb

        def literal(value) -> str:
            return str(duckdb.ConstantExpression(value))

        wanted = None if only is None else set(only)
        statements = []
        for table in self.tables.values():
            if wanted is not None and table.spec.short not in wanted:
                continue
            columns = "*"
            nan_is_null = [c for c in NAN_MEANS_NULL.get(table.key, ()) if table.column_types.get(c) == "FLOAT64"]
            if nan_is_null:  # docs/sources.md §2.1: FLOAT64 minutes are treated like INT64: NULL, never NaN
                columns = (
                    "* REPLACE ("
                    + ", ".join(f'CASE WHEN isnan("{c}") THEN NULL ELSE "{c}" END AS "{c}"' for c in nan_is_null)
                    + ")"
                )
            where = ""
            if bounds is not None:
                low, high = required_bounds(table.spec, *bounds, self.contracts)
                where = f' WHERE "{table.spec.date_column}" BETWEEN {literal(low)} AND {literal(high)}'
            statements.append(
                f'CREATE OR REPLACE VIEW "{prefix}{table.spec.short}" AS SELECT {columns} FROM parquet_scan('
                f"{literal([str(f) for f in table.files])}, binary_as_string := false, file_row_number := false, "
                f"filename := false, hive_partitioning := false, union_by_name := false){where};"
            )
        return statements


def _declared_contracts(manifest: dict, manifest_path: Path) -> tuple[str, ...]:
    if manifest["format"] == 1:
        return (REFERENCE_CONTRACT,)
    declared = manifest.get("contracts")
    if not isinstance(declared, list) or not declared or not all(isinstance(c, str) for c in declared):
        raise SnapshotError(f"{manifest_path}: format 2 needs 'contracts', a non-empty list of contract names")
    if declared != sorted(set(declared)):
        raise SnapshotError(f"{manifest_path}: 'contracts' {declared} must be sorted and free of duplicates")
    return tuple(declared)


def _hint(serve: tuple[str, ...]) -> str:
    others = [c for c in sorted(CONTRACT_SOURCES) if c not in serve]
    if not others:
        return ""
    return (
        f"; the snapshot does not serve contract {', '.join(serve)}: take a new snapshot with "
        f"`fsengine snapshot {' '.join('--contract ' + c for c in serve)}`, or run with "
        f"{' or '.join('--contract ' + c for c in others)}"
    )


def _not_taken_for(path: Path, declared: tuple[str, ...], contract: str, listed: dict) -> str:
    """docs/v2_54/sources.md §5 rule 2: name the snapshot, what it declares, what was asked, what is missing."""
    held = {}
    for key, entry in listed.items():
        try:
            held[key] = {c["name"] for c in entry["columns"]}
        except (KeyError, TypeError):
            held[key] = set()
    tables, columns = missing_for(contract, held)
    parts = []
    if tables:
        parts.append(f"table{'s' if len(tables) > 1 else ''} {', '.join(tables)}")
    if columns:
        parts.append(f"{len(columns)} more column{'s' if len(columns) > 1 else ''} (e.g. {columns[0]})")
    for key, need in CONTRACT_SOURCES[contract].items():
        if key in tables or need.lookback.days is None:
            continue
        had = [CONTRACT_SOURCES[c][key].lookback for c in declared if key in CONTRACT_SOURCES.get(c, {})]
        if had and all(h.days is not None and h.days < need.lookback.days and not h.season_start for h in had):
            parts.append(f"{need.lookback.days} days of {key} before the run start")
    if not parts:
        parts.append("the lookbacks of that contract")
    what = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    runnable = [c for c in declared if c in CONTRACT_SOURCES]
    alternative = f", or run with --contract {' or --contract '.join(runnable)}" if runnable else ""
    return (
        f"snapshot {path} was taken for contracts [{', '.join(declared)}]; contract {contract} also needs {what}; "
        f"take a new snapshot with --contract {contract}{alternative}"
    )


def _validate_table(
    root: Path,
    key: str,
    entry: dict,
    verify_checksums: bool,
    required_columns: list[str],
    hint: str = "",
    *,
    check_values: bool = True,
) -> SnapshotTable:
    spec = TABLES.get(key)
    where = f"table {key}"
    if spec is None:
        raise SnapshotError(f"{where} is not a known source table")
    if not isinstance(entry, dict):
        raise SnapshotError(f"{where}: manifest entry is not an object")
    try:
        start = dt.date.fromisoformat(entry["start"])
        end = dt.date.fromisoformat(entry["end"])
        columns = entry["columns"]
        files = entry["files"]
        total_rows = entry["rows"]
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"{where}: manifest entry is malformed ({_what_is_wrong(exc)})") from None
    if not _is_count(total_rows):
        raise SnapshotError(f"{where}: manifest 'rows' is {total_rows!r}, expected a whole number of rows")
    if not isinstance(columns, list) or not isinstance(files, list):
        raise SnapshotError(f"{where}: manifest 'columns' and 'files' must be lists")
    column_types: dict[str, str] = {}
    for i, col in enumerate(columns):
        if not isinstance(col, dict) or not isinstance(col.get("name"), str) or not isinstance(col.get("type"), str):
            raise SnapshotError(f"{where}: manifest column #{i + 1} ({col!r:.80}) needs a 'name' and a 'type' (text)")
        column_types[col["name"]] = normalise_type(col["type"])
    for col in (spec.column(name) for name in required_columns):
        if col.name not in column_types:
            raise SnapshotError(f"{where} lacks column {col.name} (has {list(column_types)}){hint}")
        got = column_types[col.name]
        if got == col.bq_type:
            continue
        if key == "nba_analytics.player_game_summary" and col.name == "minutes_played" and got in MINUTES_ALTERNATIVES:
            if got == "FLOAT64":
                warnings.warn(f"{where}: minutes_played is FLOAT64; treated like INT64 (NULL, never NaN)", stacklevel=3)
            continue
        raise SnapshotError(f"{where}: column {col.name} has type {got}, expected {col.bq_type}")
    expected_schema = pa.schema(
        [pa.field(name, ARROW_TYPES[t]) for name, t in column_types.items() if t in ARROW_TYPES]
    )
    paths = []
    counted = 0
    real_root = root.resolve()
    for i, f in enumerate(files):
        if not isinstance(f, dict) or not isinstance(f.get("path"), str) or not _is_count(f.get("rows")):
            raise SnapshotError(
                f"{where}: manifest file #{i + 1} ({f!r:.120}) needs a 'path' (text) and 'rows' (a whole number)"
            )
        rel = f["path"]
        file_path = root / rel
        if not rel or ".." in Path(rel).parts or Path(rel).is_absolute():
            raise SnapshotError(f"{where}: file path {rel!r} is not inside the snapshot")
        if not os.path.lexists(file_path):
            raise SnapshotError(f"{where}: file {rel} is missing")
        real = file_path.resolve()
        if not real.is_relative_to(real_root):
            raise SnapshotError(
                f"{where}: file {rel} is a symbolic link (or under one) pointing outside the snapshot, to {real}; "
                "a snapshot holds its own files"
            )
        if not real.is_file():
            kind = (
                "a folder"
                if real.is_dir()
                else "not a regular file (a FIFO, socket or device)"
                if real.exists()
                else "missing (a dangling link)"
            )
            raise SnapshotError(f"{where}: file {rel} is {kind}")
        identity = _file_identity(real, key, expected_schema, column_types, f.get("rows"), check_values)
        if identity is not None and identity in _VALIDATED_FILES:
            file_rows = f["rows"]  # this very file passed these checks before, in this process
        else:
            try:
                meta = pq.ParquetFile(file_path)
                file_rows = meta.metadata.num_rows
                schema = meta.schema_arrow
            except Exception as exc:  # pyarrow raises several types for damaged files
                raise SnapshotError(f"{where}: file {rel} is not a readable Parquet file ({exc})") from exc
            if file_rows != f.get("rows"):
                raise SnapshotError(f"{where}: file {rel} holds {file_rows} rows, manifest says {f.get('rows')}")
            for field in expected_schema:
                if field.name not in schema.names:
                    raise SnapshotError(f"{where}: file {rel} lacks column {field.name}")
                got_type = schema.field(field.name).type
                if got_type != field.type:
                    raise SnapshotError(
                        f"{where}: file {rel} column {field.name} is {got_type}, manifest type needs {field.type}"
                    )
            _refuse_nulls_in_required_columns(spec, meta, where, rel)
            if check_values:
                _refuse_non_finite(key, meta, column_types, where, rel)
            _remember_validated(identity)
        if verify_checksums and sha256_of(file_path) != f.get("sha256"):
            raise SnapshotError(f"{where}: file {rel} fails its SHA-256 check (changed or damaged)")
        counted += file_rows
        paths.append(file_path)
    if not paths:
        raise SnapshotError(f"{where}: manifest lists no files (an empty table still has one file)")
    if counted != total_rows:
        raise SnapshotError(f"{where}: files hold {counted} rows, manifest says {total_rows}")
    return SnapshotTable(spec, start, end, column_types, tuple(paths), total_rows, int(entry.get("bytes", 0)))


# The files this process has checked (rows, schema, NULLs in NOT NULL columns and, when asked,
# non-finite values), by identity: opening the same snapshot again (a service computing one
# date after another) does not read every file again. A file rewritten or replaced gets a new
# identity (its inode, size, modification or status-change time differ), so it is checked again;
# a file changed less than _SETTLED_NS before its check is not remembered at all, because a
# second change within the file system's clock tick would keep its times (git's "racy" entries).
# Checksums are never taken from here: verify_checksums reads every byte each time.
_VALIDATED_FILES: set[tuple] = set()
_VALIDATED_FILES_MAX = 100_000
_SETTLED_NS = 2_000_000_000


def _file_identity(
    real: Path, key: str, schema: pa.Schema, column_types: dict[str, str], rows, check_values: bool
) -> tuple | None:
    """What a check of `real` depends on; None when the file changed too recently to be remembered."""
    stat = real.stat()
    if max(stat.st_mtime_ns, stat.st_ctime_ns) > time.time_ns() - _SETTLED_NS:
        return None
    return (
        str(real),
        stat.st_dev,
        stat.st_ino,
        stat.st_size,
        stat.st_mtime_ns,
        stat.st_ctime_ns,
        key,
        tuple((field.name, str(field.type)) for field in schema),
        tuple(column_types.items()) if check_values else None,
        rows,
        check_values,
    )


def _remember_validated(identity: tuple | None) -> None:
    if identity is None:
        return
    if len(_VALIDATED_FILES) >= _VALIDATED_FILES_MAX:
        _VALIDATED_FILES.clear()
    _VALIDATED_FILES.add(identity)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _what_is_wrong(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r}"
    return str(exc)


# FLOAT64 source columns where the spec gives NaN a meaning: FLOAT64 minutes_played is treated
# like INT64, "NULL, never NaN" (docs/sources.md §2.1), so a NaN there is read as NULL. Everywhere
# else a NaN or an infinity in a source value has no rule and is refused.
NAN_MEANS_NULL = {"nba_analytics.player_game_summary": ("minutes_played",)}


def _refuse_non_finite(key: str, parquet: pq.ParquetFile, column_types: dict[str, str], where: str, rel: str) -> None:
    """Count NaN and ±Inf in the FLOAT64 columns of one file (pyarrow.compute; only those columns)."""
    import pyarrow.compute as pc

    floats = [c for c, t in column_types.items() if t == "FLOAT64" and c in parquet.schema_arrow.names]
    if not floats or parquet.metadata.num_rows == 0:
        return
    data = parquet.read(columns=floats)
    for name in floats:
        column = data.column(name)
        nans = pc.sum(pc.is_nan(column)).as_py() or 0
        infs = pc.sum(pc.is_inf(column)).as_py() or 0
        if nans and name in NAN_MEANS_NULL.get(key, ()):
            nans = 0  # read as NULL (register)
        if nans or infs:
            what = " and ".join(x for x in (f"{nans} NaN" if nans else "", f"{infs} infinite" if infs else "") if x)
            raise SnapshotError(
                f"{where}: file {rel} has {what} value(s) in FLOAT64 column {name}; the spec defines no meaning for "
                "them in a source value (BigQuery's NULL is a NULL, not a NaN): fix the source rows or the snapshot"
            )


def _refuse_nulls_in_required_columns(spec: SourceTable, parquet: pq.ParquetFile, where: str, rel: str) -> None:
    """A NULL in a NOT NULL column (a key or a date) has no meaning in any rule of the spec;
    refuse the file up front, from the Parquet statistics, without scanning the data."""
    metadata = parquet.metadata
    names = parquet.schema_arrow.names
    for column in spec.columns:
        if column.nullable or column.name not in names:
            continue
        index = names.index(column.name)
        nulls = 0
        for group in range(metadata.num_row_groups):
            stats = metadata.row_group(group).column(index).statistics
            if stats is not None and stats.has_null_count:
                nulls += stats.null_count
            elif metadata.row_group(group).num_rows:
                nulls += parquet.read_row_group(group, columns=[column.name]).column(0).null_count
        if nulls:
            raise SnapshotError(
                f"{where}: file {rel} has {nulls} NULL value(s) in column {column.name}, which is NOT NULL in "
                f"BigQuery ({spec.key}); the snapshot is damaged or was not read from that table"
            )
