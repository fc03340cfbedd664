"""The output row (docs/output.md §2, §8.5): the one definition of the emitted columns, their
BigQuery and Arrow types, and the atomic writer of `OUT/ml_feature_store_v2/`. The per-feature
columns (feature_<i>_quality, feature_<i>_source) follow the contract: `output_columns(contract)`;
the module constants are those of the reference contract (143 columns for its 37 features).

>>> len(OUTPUT_COLUMNS), OUTPUT_COLUMNS[0].name, OUTPUT_COLUMNS[-1].name
(143, 'player_lookup', 'matchup_data_status')
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from fsengine.bigquery.types import arrow_type
from fsengine.contracts import CONTRACT_DIR, Contract, load_contract

TABLE_NAME = "ml_feature_store_v2"
FEATURE_COUNT = load_contract().feature_count

COMPLETENESS_TYPE = pa.struct(
    [
        pa.field("games_found", pa.int64()),
        pa.field("games_expected", pa.int64()),
        pa.field("is_complete", pa.bool_()),
        pa.field("is_bootstrap", pa.bool_()),
        pa.field("contributing_game_dates", pa.list_(pa.date32())),
    ]
)
SCORE_TYPE = arrow_type("NUMERIC(5,2)")


@dataclass(frozen=True)
class OutputColumn:
    name: str
    bq_type: (
        str  # as in the target DDL: STRING, INT64, FLOAT64, NUMERIC(5,2), BOOL, DATE, TIMESTAMP, ARRAY<..>, STRUCT<..>
    )
    arrow_type: pa.DataType
    required: bool = False  # NOT NULL in the target


# Arrow types from the one BigQuery <-> Arrow map (fsengine.bigquery.types)
_S, _I, _F, _B = (arrow_type(t) for t in ("STRING", "INT64", "FLOAT64", "BOOL"))
_TS = arrow_type("TIMESTAMP")


def _col(name, bq, arrow, required=False):
    return OutputColumn(name, bq, arrow, required)


_IDENTITY = [
    _col("player_lookup", "STRING", _S, True),
    _col("universal_player_id", "STRING", _S),
    _col("game_date", "DATE", pa.date32(), True),
    _col("game_id", "STRING", _S, True),
    _col("features", "ARRAY<FLOAT64>", pa.list_(_F)),
    _col("feature_names", "ARRAY<STRING>", pa.list_(_S)),
    _col("feature_count", "INT64", _I, True),
    _col("feature_version", "STRING", _S, True),
    _col("feature_quality_score", "NUMERIC(5,2)", SCORE_TYPE),
    _col("opponent_team_abbr", "STRING", _S),
    _col("is_home", "BOOL", _B),
    _col("days_rest", "INT64", _I),
    _col("data_source", "STRING", _S, True),
    _col("early_season_flag", "BOOL", _B),
    _col("insufficient_data_reason", "STRING", _S),
    _col("data_hash", "STRING", _S),
    _col("historical_completeness", "STRUCT", COMPLETENESS_TYPE),
    _col("created_at", "TIMESTAMP", _TS, True),
    _col("updated_at", "TIMESTAMP", _TS),
    _col("feature_sources_json", "STRING", _S),
    _col("fallback_reasons", "ARRAY<STRING>", pa.list_(_S)),
]


def _quality_columns(contract: Contract) -> list[OutputColumn]:
    feature_count, categories = contract.feature_count, contract.categories
    return [
        _col("quality_tier", "STRING", _S),
        _col("quality_alert_level", "STRING", _S),
        _col("quality_alerts", "ARRAY<STRING>", pa.list_(_S)),
        _col("default_feature_count", "INT64", _I),
        _col("default_feature_indices", "ARRAY<INT64>", pa.list_(_I)),
        _col("required_default_count", "INT64", _I),
        _col("phase4_feature_count", "INT64", _I),
        _col("phase3_feature_count", "INT64", _I),
        _col("calculated_feature_count", "INT64", _I),
        _col("is_training_ready", "BOOL", _B),
        _col("training_quality_feature_count", "INT64", _I),
        _col("is_quality_ready", "BOOL", _B),
        *[_col(f"{c}_quality_pct", "FLOAT64", _F) for c in categories],
        *[_col(f"{c}_default_count", "INT64", _I) for c in categories],
        _col("has_composite_factors", "BOOL", _B),
        _col("has_opponent_defense", "BOOL", _B),
        _col("has_vegas_line", "BOOL", _B),
        _col("critical_features_training_quality", "BOOL", _B),
        _col("critical_feature_count", "INT64", _I),
        _col("optional_feature_count", "INT64", _I),
        _col("matchup_quality_tier", "STRING", _S),
        _col("game_context_quality_tier", "STRING", _S),
        *[_col(f"feature_{i}_quality", "FLOAT64", _F) for i in range(feature_count)],
        *[_col(f"feature_{i}_source", "STRING", _S) for i in range(feature_count)],
        _col("feature_fallback_reasons_json", "STRING", _S),
        _col("feature_sample_sizes_json", "STRING", _S),
        _col("feature_expected_values_json", "STRING", _S),
        _col("feature_value_ranges_valid_json", "STRING", _S),
        _col("feature_upstream_tables_json", "STRING", _S),
        _col("feature_last_updated_json", "STRING", _S),
        _col("feature_schema_version", "STRING", _S),
        _col("available_feature_names", "ARRAY<STRING>", pa.list_(_S)),
        _col("breakout_model_compatible", "ARRAY<STRING>", pa.list_(_S)),
        _col("breakout_v3_features_available", "BOOL", _B),
        _col("upstream_processors_ran", "STRING", _S),
        _col("missing_processors", "STRING", _S),
        _col("feature_store_age_hours", "FLOAT64", _F),
        _col("upstream_data_freshness_hours", "FLOAT64", _F),
        _col("quality_computed_at", "TIMESTAMP", _TS),
        _col("quality_schema_version", "STRING", _S),
        _col("primary_data_source", "STRING", _S),
        _col("matchup_data_status", "STRING", _S),
    ]


# The optional run-level columns a contract may emit (its `[output] extra_columns`), each
# taken from the assembled frame's column of the same name (docs/v2_54/output.md §1 #190-191).
EXTRA_COLUMNS = {
    "cache_miss_fallback_used": _col("cache_miss_fallback_used", "BOOL", _B),
    "vegas_line_source": _col("vegas_line_source", "STRING", _S),
}


def extra_columns(contract: Contract) -> list[OutputColumn]:
    unknown = [n for n in contract.output_extra_columns if n not in EXTRA_COLUMNS]
    if unknown:
        raise ValueError(f"contract {contract.name}: unknown output columns {unknown}; known: {sorted(EXTRA_COLUMNS)}")
    return [EXTRA_COLUMNS[n] for n in contract.output_extra_columns]


def value_columns(contract: Contract) -> list[OutputColumn]:
    """feature_N_value, N = 0..n-1, when the contract emits them (docs/v2_54/output.md §1 #192-251)."""
    if not contract.feature_value_columns:
        return []
    return [_col(f"feature_{i}_value", "FLOAT64", _F) for i in range(contract.feature_count)]


def output_columns(contract: Contract) -> tuple[OutputColumn, ...]:
    """The emitted columns of a contract's rows, in output order."""
    return tuple(_IDENTITY + _quality_columns(contract) + extra_columns(contract) + value_columns(contract))


def quality_column_names(contract: Contract) -> list[str]:
    """The quality group of the output (docs/output.md §2.2), in output order."""
    return [c.name for c in _quality_columns(contract)]


OUTPUT_COLUMNS: tuple[OutputColumn, ...] = output_columns(load_contract())
OUTPUT_NAMES: list[str] = [c.name for c in OUTPUT_COLUMNS]
QUALITY_COLUMN_NAMES: list[str] = quality_column_names(load_contract())


def output_schema(contract: Contract) -> pa.Schema:
    """The Arrow schema of a contract's output rows (NOT NULL columns non-nullable)."""
    return pa.schema([pa.field(c.name, c.arrow_type, nullable=not c.required) for c in output_columns(contract)])


OUTPUT_SCHEMA = output_schema(load_contract())
KEY = ("player_lookup", "game_date")


def bundled_contracts() -> list[Contract]:
    """The contracts bundled with fsengine (fsengine/contracts/*.toml), by name."""
    return [load_contract(path.stem) for path in sorted(CONTRACT_DIR.glob("*.toml"))]


def contract_of_columns(names: list[str]) -> Contract | None:
    """The bundled contract whose output columns are exactly `names` (in order), if any: how
    stored rows tell which contract wrote them (the two contracts' column lists differ)."""
    for contract in bundled_contracts():
        if [c.name for c in output_columns(contract)] == list(names):
            return contract
    return None


def output_dir(out: str | Path) -> Path:
    return Path(out) / TABLE_NAME


def output_contract(out: str | Path) -> Contract:
    """The contract of the rows in OUT/ml_feature_store_v2/: the one its run record names
    (a bundled contract whose columns the files have), else the bundled contract whose output
    columns the files have, else the reference one (an output fsengine did not write, which
    the reader then refuses by its columns). `report` and `explain` read rows this way, so
    they need no --contract: the output says what it holds."""
    import json

    folder = output_dir(out)
    files = sorted(folder.glob("part-*.parquet"))
    try:
        names = pq.read_schema(files[0]).names if files else None
    except (OSError, pa.ArrowException):  # a damaged file: the reader that follows names it
        names = None
    for path in (folder / RUN_RECORD, Path(out) / RUN_RECORD):
        try:
            named = json.loads(path.read_text()).get("contract")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(named, str) and (CONTRACT_DIR / f"{named}.toml").is_file():
            contract = load_contract(named)
            if names is None or [c.name for c in output_columns(contract)] == names:
                return contract
        break
    return (contract_of_columns(names) if names is not None else None) or load_contract()


# The run record: which snapshot and options produced the rows. It is written inside the
# output folder (so it is swapped in with the rows, in the same step) and beside it as
# OUT/fsengine-run.json (read by older tools).
RUN_RECORD = "fsengine-run.json"


def foreign_output(folder: Path) -> str | None:
    """None when `folder` (an existing OUT/ml_feature_store_v2) is fsengine's own output,
    which a new run may replace; else why it is not."""
    inner = folder / RUN_RECORD
    if not inner.is_file() and not (folder.parent / RUN_RECORD).is_file():
        return f"no {RUN_RECORD} in {folder} or {folder.parent}"
    others = sorted(
        p.name
        for p in folder.iterdir()
        if not (p.name.startswith("part-") and p.name.endswith(".parquet")) and p.name != RUN_RECORD
    )
    if others:
        return f"it also holds {', '.join(others[:5])}{' ...' if len(others) > 5 else ''}"
    return None


# The output's files hold at most this many rows each (one row group per part written).
ROWS_PER_FILE = 250_000


@dataclass(frozen=True)
class WrittenPart:
    """Output rows already written, by `write_part_files`, to a Parquet file of the output
    schema (in a folder on the output's file system): `write_output` moves the file in as one
    of its files, instead of writing the rows again."""

    path: Path


def write_output(
    table: pa.Table | Iterable[pa.Table | WrittenPart],
    out: str | Path,
    *,
    rows_per_file: int = ROWS_PER_FILE,
    contract: Contract | None = None,
    run_record: dict | None = None,
) -> Path:
    """Write the rows as Parquet under OUT/ml_feature_store_v2/, atomically.

    `table` may also be an iterable of tables (consecutive parts of the rows, in order), so a
    caller can produce and write a long run part by part without holding all of it at once;
    a part may also be a WrittenPart (rows another process wrote already), which becomes the
    next file as it is.
    Files go to a staging sibling folder first; the finished folder takes the place of any
    previous one in one atomic step (fsengine.output.write), so a reader never sees a partial
    output (nor one cut short by an error raised while producing a later part, nor nothing).
    A folder there that fsengine did not write is refused. The run record (`run_record`,
    which snapshot and options produced the rows) goes inside the folder, swapped in with
    the rows, and beside it as OUT/fsengine-run.json.
    The rows must have exactly the output columns of `contract` (default: the reference one).
    """
    import json

    from fsengine.output.write import FolderWriter, disk_error, write_file

    schema = output_schema(contract or load_contract())
    parts = [table] if isinstance(table, pa.Table) else table
    out = Path(out)
    if out.exists() and not out.is_dir():
        from fsengine.errors import OutputError

        raise OutputError(f"--out {out} is a file, not a folder; choose an empty or new folder")
    final = output_dir(out)
    with FolderWriter(final, owned=foreign_output, what="output rows") as writer:
        try:
            written = _write_parts(parts, writer.staging, rows_per_file, schema)
            if not written:
                _write_file(schema.empty_table(), writer.staging / "part-00000.parquet")
        except OSError as exc:
            full = disk_error(exc, final)
            if full is not None:
                raise full from None
            raise
        record = json.dumps(run_record or {}, indent=2) + "\n"
        write_file(writer.staging / RUN_RECORD, record)
        writer.commit()
    if run_record is not None:
        write_file(out / RUN_RECORD, record)
    return final


def _write_parts(
    parts: Iterable[pa.Table | WrittenPart],
    staging: Path,
    rows_per_file: int,
    schema: pa.Schema = OUTPUT_SCHEMA,
    prefix: str = "part-",
) -> list[Path]:
    """Append the parts, in order, to files of at most rows_per_file rows (each part one row
    group per file it lands in), named `prefix` + a 5-digit number; return the files. A part is
    written in a background thread while the caller produces the next one (the Parquet writer
    releases the GIL), and at most two parts are held at a time. A WrittenPart ends the file
    being written and is moved in as the next file."""
    files = _RollingFiles(staging, rows_per_file, schema, prefix)
    try:
        with ThreadPoolExecutor(max_workers=1) as writer:
            pending = None
            for part in parts:
                if not isinstance(part, WrittenPart):
                    part = _checked_output(part, schema)
                if pending is not None:
                    pending.result()
                    pending = None
                if isinstance(part, WrittenPart):
                    # here, not in the background: the file's folder may go once the next part is asked for
                    files.adopt(part)
                else:
                    pending = writer.submit(files.append, part)
            if pending is not None:
                pending.result()
    finally:
        files.close()
    return files.paths


def write_part_files(
    parts: Iterable[pa.Table], folder: Path, prefix: str, contract: Contract, rows_per_file: int = ROWS_PER_FILE
) -> list[WrittenPart]:
    """Write the parts (consecutive output rows, in order) as `write_output` would write them,
    to files `prefix`NNNNN.parquet in `folder`: a worker process writes its chunk's files
    itself, and the run's process only moves them in."""
    return [WrittenPart(path) for path in _write_parts(parts, folder, rows_per_file, output_schema(contract), prefix)]


class _RollingFiles:
    """`prefix`00000.parquet, `prefix`00001.parquet, ... of at most `limit` rows each."""

    def __init__(self, folder: Path, limit: int, schema: pa.Schema = OUTPUT_SCHEMA, prefix: str = "part-"):
        self.folder, self.limit, self.schema, self.prefix = folder, limit, schema, prefix
        self.paths: list[Path] = []
        self._writer: pq.ParquetWriter | None = None
        self._rows = 0

    def _next_path(self) -> Path:
        path = self.folder / f"{self.prefix}{len(self.paths):05d}.parquet"
        self.paths.append(path)
        return path

    def adopt(self, written: WrittenPart) -> None:
        self.close()
        os.replace(written.path, self._next_path())

    def append(self, table: pa.Table) -> None:
        first = 0
        while first < table.num_rows:
            if self._writer is None or self._rows >= self.limit:
                self.close()
                self._writer = pq.ParquetWriter(self._next_path(), self.schema, **write_options(self.schema))
                self._rows = 0
            take = min(self.limit - self._rows, table.num_rows - first)
            self._writer.write_table(table.slice(first, take), row_group_size=take)
            self._rows += take
            first += take

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _checked_output(table: pa.Table, schema: pa.Schema = OUTPUT_SCHEMA) -> pa.Table:
    if table.schema.names != schema.names:
        missing = [n for n in schema.names if n not in table.schema.names]
        extra = [n for n in table.schema.names if n not in schema.names]
        raise ValueError(f"output rows do not have the output columns (missing {missing}, extra {extra})")
    return table.cast(schema)


# Min/max statistics for the columns a reader selects rows by (fsengine explain, a MERGE's
# keys): the rows are in date order, so only these prune row groups. Statistics of every flat
# column cost about an eighth of the write; those of the long string arrays a quarter more.
STATISTICS_COLUMNS = ("game_date", "player_lookup", "game_id", "universal_player_id")


# snappy: readable by every Parquet reader and BigQuery, and cheaper to write than zstd (the
# output's long repeated texts are dictionary-encoded either way)
PARQUET_COMPRESSION = "snappy"


def write_options(schema: pa.Schema) -> dict:
    """The Parquet options of the output files of a contract's output schema."""
    return {
        "compression": PARQUET_COMPRESSION,
        "write_statistics": [name for name in STATISTICS_COLUMNS if name in schema.names],
    }


def _write_file(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, **write_options(table.schema))


def checked_output_files(out: str | Path) -> list[Path]:
    """The part files of OUT/ml_feature_store_v2/, each checked to be a readable Parquet file
    (its footer), and no key (player_lookup, game_date) in two rows: a folder that mixes two
    runs' files, or holds a damaged one, is refused naming the files. Raises InputError."""
    import polars as pl

    from fsengine.errors import InputError

    folder = output_dir(out)
    files = sorted(folder.glob("part-*.parquet"))
    for path in files:
        try:
            pq.read_metadata(path)  # reading the footer is the check
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise InputError(
                f"{path} is not a readable Parquet file (truncated or damaged: {str(exc).splitlines()[0]}); "
                "run the backfill again"
            ) from None
    if not files:
        return files
    keys = pl.scan_parquet([str(f) for f in files], include_file_paths="file").select(*KEY, "file")
    dupes = (
        keys.group_by(list(KEY))
        .agg(pl.len().alias("n"), pl.col("file").unique().sort().alias("files"))
        .filter(pl.col("n") > 1)
        .collect()
    )
    if dupes.height:
        involved = sorted({Path(f).name for group in dupes["files"].to_list() for f in group})
        first = dupes.sort(list(KEY)).row(0, named=True)
        raise InputError(
            f"{folder} holds {dupes.height} key(s) (player_lookup, game_date) more than once, e.g. "
            f"({first['player_lookup']}, {first['game_date']}) in {', '.join(Path(f).name for f in first['files'])}; "
            f"files involved: {', '.join(involved)}. It mixes the files of different runs: run the backfill again "
            "into this folder or an empty one"
        )
    return files


def read_output(out: str | Path, contract: Contract | None = None) -> pa.Table:
    """Read a run's rows back as one table (the dataset of OUT/ml_feature_store_v2/), with the
    output schema of `contract`; by default of the bundled contract whose columns the files
    hold (else the reference contract's, so a foreign file fails the cast).

    A run that replaces the folder while it is read (the swap is atomic, but the previous
    files are then removed) makes the read start again on the new folder."""
    folder = output_dir(out)
    for attempt in range(3):
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} does not exist: run `fsengine backfill --out {out}` first")
        files = sorted(folder.glob("part-*.parquet"))
        try:
            tables = [pq.read_table(f) for f in files]
        except FileNotFoundError:
            if attempt == 2:
                raise
            continue
        chosen = contract
        if chosen is None:
            found = contract_of_columns(tables[0].schema.names) if tables else None
            chosen = found or load_contract()
        schema = output_schema(chosen)
        return pa.concat_tables(tables).cast(schema) if tables else schema.empty_table()
    raise AssertionError("unreachable")
