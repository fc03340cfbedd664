"""The output row (spec output.md §2, §8.5): the one definition of the 143 emitted columns,
their BigQuery and Arrow types, and the atomic writer of `OUT/ml_feature_store_v2/`.

>>> len(OUTPUT_COLUMNS), OUTPUT_COLUMNS[0].name, OUTPUT_COLUMNS[-1].name
(143, 'player_lookup', 'matchup_data_status')
"""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from fsengine.bigquery.types import arrow_type
from fsengine.contracts import CATEGORIES

TABLE_NAME = "ml_feature_store_v2"
FEATURE_COUNT = 37

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
    bq_type: str  # as in the target DDL: STRING, INT64, FLOAT64, NUMERIC(5,2), BOOL, DATE, TIMESTAMP, ARRAY<..>, STRUCT<..>
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

_QUALITY = [
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
    *[_col(f"{c}_quality_pct", "FLOAT64", _F) for c in CATEGORIES],
    *[_col(f"{c}_default_count", "INT64", _I) for c in CATEGORIES],
    _col("has_composite_factors", "BOOL", _B),
    _col("has_opponent_defense", "BOOL", _B),
    _col("has_vegas_line", "BOOL", _B),
    _col("critical_features_training_quality", "BOOL", _B),
    _col("critical_feature_count", "INT64", _I),
    _col("optional_feature_count", "INT64", _I),
    _col("matchup_quality_tier", "STRING", _S),
    _col("game_context_quality_tier", "STRING", _S),
    *[_col(f"feature_{i}_quality", "FLOAT64", _F) for i in range(FEATURE_COUNT)],
    *[_col(f"feature_{i}_source", "STRING", _S) for i in range(FEATURE_COUNT)],
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

OUTPUT_COLUMNS: tuple[OutputColumn, ...] = tuple(_IDENTITY + _QUALITY)
OUTPUT_NAMES: list[str] = [c.name for c in OUTPUT_COLUMNS]
QUALITY_COLUMN_NAMES: list[str] = [c.name for c in _QUALITY]
OUTPUT_SCHEMA = pa.schema([pa.field(c.name, c.arrow_type, nullable=not c.required) for c in OUTPUT_COLUMNS])
KEY = ("player_lookup", "game_date")


def output_dir(out: str | Path) -> Path:
    return Path(out) / TABLE_NAME


def write_output(
    table: pa.Table | Iterable[pa.Table], out: str | Path, *, rows_per_file: int = 250_000
) -> Path:
    """Write the rows as Parquet under OUT/ml_feature_store_v2/, atomically.

    `table` may also be an iterable of tables (consecutive parts of the rows, in order), so a
    caller can produce and write a long run part by part without holding all of it at once.
    Files go to a temporary sibling folder first; the finished folder replaces any previous
    one in a rename, so a reader never sees a partial output (nor one cut short by an error
    raised while producing a later part).
    """
    parts = [table] if isinstance(table, pa.Table) else table
    final = output_dir(out)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{TABLE_NAME}.partial-", dir=final.parent))
    try:
        n_files = _write_parts(parts, staging, rows_per_file)
        if n_files == 0:
            _write_file(OUTPUT_SCHEMA.empty_table(), staging / "part-00000.parquet")
        old = None
        if final.exists():
            old = final.parent / f".{TABLE_NAME}.old-{os.getpid()}"
            os.replace(final, old)
        os.replace(staging, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def _write_parts(parts: Iterable[pa.Table], staging: Path, rows_per_file: int) -> int:
    """Append the parts, in order, to files of at most rows_per_file rows (each part one row
    group per file it lands in); return the number of files. A part is written in a
    background thread while the caller produces the next one (the Parquet writer releases the
    GIL), and at most two parts are held at a time."""
    files = _RollingFiles(staging, rows_per_file)
    try:
        with ThreadPoolExecutor(max_workers=1) as writer:
            pending = None
            for part in parts:
                part = _checked_output(part)
                if pending is not None:
                    pending.result()
                pending = writer.submit(files.append, part)
            if pending is not None:
                pending.result()
    finally:
        files.close()
    return files.count


class _RollingFiles:
    """part-00000.parquet, part-00001.parquet, ... of at most `limit` rows each."""

    def __init__(self, folder: Path, limit: int):
        self.folder, self.limit = folder, limit
        self.count = 0
        self._writer: pq.ParquetWriter | None = None
        self._rows = 0

    def append(self, table: pa.Table) -> None:
        first = 0
        while first < table.num_rows:
            if self._writer is None or self._rows >= self.limit:
                self.close()
                self._writer = pq.ParquetWriter(self.folder / f"part-{self.count:05d}.parquet", OUTPUT_SCHEMA, **WRITE_OPTIONS)
                self.count += 1
                self._rows = 0
            take = min(self.limit - self._rows, table.num_rows - first)
            self._writer.write_table(table.slice(first, take), row_group_size=take)
            self._rows += take
            first += take

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _checked_output(table: pa.Table) -> pa.Table:
    if table.schema.names != OUTPUT_NAMES:
        missing = [n for n in OUTPUT_NAMES if n not in table.schema.names]
        extra = [n for n in table.schema.names if n not in OUTPUT_NAMES]
        raise ValueError(f"output rows do not have the output columns (missing {missing}, extra {extra})")
    return table.cast(OUTPUT_SCHEMA)


# Min/max statistics for the flat columns only: readers prune on keys and scalars, and the
# statistics of the long string arrays (feature_names, ...) cost a quarter of the write.
STATISTICS_COLUMNS = [c.name for c in OUTPUT_COLUMNS if not pa.types.is_nested(c.arrow_type)]


# snappy: readable by every Parquet reader and BigQuery, and cheaper to write than zstd (the
# output's long repeated texts are dictionary-encoded either way)
PARQUET_COMPRESSION = "snappy"
WRITE_OPTIONS = {"compression": PARQUET_COMPRESSION, "write_statistics": STATISTICS_COLUMNS}


def _write_file(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, **WRITE_OPTIONS)


def read_output(out: str | Path) -> pa.Table:
    """Read a run's rows back as one table (the dataset of OUT/ml_feature_store_v2/)."""
    folder = output_dir(out)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist: run `fsengine backfill --out {out}` first")
    files = sorted(folder.glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(f) for f in files]).cast(OUTPUT_SCHEMA) if files else OUTPUT_SCHEMA.empty_table()
