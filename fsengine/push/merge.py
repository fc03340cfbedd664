"""`fsengine push`: write a run's rows into the BigQuery target (spec output.md §8).

    report = push("out/", client, "nba-props-platform.nba_predictions.ml_feature_store_v2")

Sequence: local checks (rows, then the target's schema read with a metadata call) -> create a
staging table with an expiration -> job 1 loads every row as Parquet -> job 2 is ONE MERGE
rendered from queries/merge.sql -> the staging table is always deleted -> reconciliation of the
MERGE's DML statistics. Exactly two jobs per push whatever the number of dates.

Exit codes come from the raised error: PushRefused (2, nothing sent), PushJobFailed (3, target
unchanged), ReconciliationError (4, the MERGE committed but its counts do not match).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import decimal
import logging
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fsengine.config import ConfigError, validate_dataset, validate_project, validate_table
from fsengine.sql import query_text
from fsengine.errors import PushJobFailed, PushRefused, ReconciliationError
from fsengine.contracts import load_contract
from fsengine.output.schema import (
    KEY, OUTPUT_COLUMNS, OutputColumn, contract_of_columns, output_columns, output_dir, read_output,
)

log = logging.getLogger(__name__)

MERGE_TEMPLATE = "merge"
STAGING_INFIX = "__fsengine_stage_"
RUN_DATES_PARAMETER = "run_dates"
# Emitted columns the MERGE never overwrites on update: the key, the original creation time,
# and updated_at, which the template stamps itself.
NOT_UPDATED = frozenset({*KEY, "created_at", "updated_at"})
DEFAULT_CALL_TIMEOUT = 60.0
DEFAULT_JOB_TIMEOUT = 900.0
DEFAULT_STAGING_EXPIRATION_HOURS = 24.0
MAX_LISTED = 10  # offending keys/columns named in one refusal line

_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,299}")
_SCORE_COLUMN = "feature_quality_score"
_SCORE_LIMIT = decimal.Decimal("1000")  # NUMERIC(5,2): at most 3 integer digits
_CENT = decimal.Decimal("0.01")

Progress = Callable[[str], None]


# --------------------------------------------------------------------------- report


@dataclass
class PushReport:
    target: str
    run_id: str
    rows: int  # N: rows of the run = rows staged
    run_dates: list[dt.date]
    rows_per_date: dict[dt.date, int]
    replace: bool
    dry_run: bool = False
    staging_table: str | None = None
    inserted: int | None = None  # I
    updated: int | None = None  # U
    deleted: int | None = None  # X
    affected: int | None = None  # total from num_dml_affected_rows when no dml_stats
    load_job_id: str | None = None
    merge_job_id: str | None = None
    statements: dict[str, str] = field(default_factory=dict)  # dry run: what would be sent
    warnings: list[str] = field(default_factory=list)
    notice: str | None = None

    @property
    def first_date(self) -> dt.date | None:
        return self.run_dates[0] if self.run_dates else None

    @property
    def last_date(self) -> dt.date | None:
        return self.run_dates[-1] if self.run_dates else None

    def render(self) -> str:
        lines: list[str] = []
        if self.notice:
            lines.append(self.notice)
        mode = "replace" if self.replace else "upsert"
        if self.run_dates:
            dates = f"{len(self.run_dates)} game dates ({self.first_date} .. {self.last_date})"
            verb = "would push" if self.dry_run else "pushed"
            lines.append(f"{verb} N={self.rows} rows of {dates} to {self.target} [{mode}]")
        if self.dry_run:
            lines.append("dry run: no table created, no job sent")
            for date, count in self.rows_per_date.items():
                lines.append(f"  {date}: {count} rows")
            for name, text in self.statements.items():
                lines.append(f"--- {name}")
                lines.append(text)
        elif self.run_dates:
            if self.inserted is not None:
                lines.append(f"inserted I={self.inserted}, updated U={self.updated}, deleted X={self.deleted}")
            else:
                lines.append(f"affected rows: {self.affected} (the service gave no per-kind DML statistics)")
            lines.append(f"load job: {self.load_job_id}; merge job: {self.merge_job_id}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


# --------------------------------------------------------------------------- identifiers


@dataclass(frozen=True)
class TableId:
    project: str
    dataset: str
    table: str

    @classmethod
    def parse(cls, text: str) -> "TableId":
        parts = text.split(".") if isinstance(text, str) else []
        if len(parts) != 3:
            raise PushRefused(f"target {text!r}: expected <project>.<dataset>.<table>")
        try:
            return cls(validate_project(parts[0], "target project"), validate_dataset(parts[1], "target dataset"),
                       validate_table(parts[2], "target table"))
        except ConfigError as exc:
            raise PushRefused(str(exc)) from None

    def __str__(self) -> str:
        return f"{self.project}.{self.dataset}.{self.table}"

    def sql(self) -> str:
        # validated above: no backquote or backslash can occur, so quoting cannot be escaped
        return f"`{self.project}`.`{self.dataset}`.`{self.table}`"


def column_sql(name: str) -> str:
    if not _COLUMN_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a plain BigQuery column name")
    return f"`{name}`"


def new_run_id(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.timezone.utc)
    return f"{now:%Y%m%dt%H%M%S}_{secrets.token_hex(4)}"


def staging_id(target: TableId, run_id: str, staging_dataset: str | None = None) -> TableId:
    return TableId(target.project, staging_dataset or target.dataset, f"{target.table}{STAGING_INFIX}{run_id}")


# --------------------------------------------------------------------------- the MERGE


def template_text() -> str:
    return query_text(MERGE_TEMPLATE)


def rows_columns(table: pa.Table) -> tuple[OutputColumn, ...]:
    """The emitted columns of the run's rows: those of the bundled contract whose columns the
    rows hold (v2_37features: the 143 of output.md §2; v2_54features: the 251 of
    v2_54/output.md §1); the reference contract's when none matches (the checks then name the
    differing columns)."""
    contract = contract_of_columns(table.schema.names)
    return output_columns(contract) if contract is not None else OUTPUT_COLUMNS


def _feature_count(columns: tuple[OutputColumn, ...]) -> int:
    return sum(1 for c in columns if c.name.startswith("feature_") and c.name.endswith("_quality"))


def render_merge(
    target: TableId, staging: TableId, replace: bool, template: str | None = None,
    columns: tuple[OutputColumn, ...] = OUTPUT_COLUMNS,
) -> str:
    """The MERGE statement (without the template's header comment) for the emitted `columns`."""
    names = [column_sql(c.name) for c in columns]
    updated = [column_sql(c.name) for c in columns if c.name not in NOT_UPDATED]
    pieces = {
        "target": target.sql(),
        "staging": staging.sql(),
        "update_assignments": ",\n".join(f"  {c} = S.{c}" for c in updated),
        "insert_columns": ",\n".join(f"  {c}" for c in names),
        "insert_values": ",\n".join(f"  S.{c}" for c in names),
    }
    lines = (template if template is not None else template_text()).splitlines()
    while lines and (lines[0].startswith("--") or not lines[0].strip()):
        lines.pop(0)
    kept = []
    for line in lines:
        if line.rstrip().endswith("-- replace-only"):
            if not replace:
                continue
            line = line.rstrip()[: -len("-- replace-only")].rstrip()
        kept.append(line)
    text = "\n".join(kept).strip() + "\n"

    def fill(match: re.Match) -> str:
        if match[1] not in pieces:
            raise ValueError(f"queries/bigquery/{MERGE_TEMPLATE}.sql: unknown placeholder {{{{{match[1]}}}}}")
        return pieces[match[1]]

    return re.sub(r"\{\{(\w+)\}\}", fill, text)


# --------------------------------------------------------------------------- local checks: rows


def _key_text(table: pa.Table, index: int) -> str:
    return f"({table['player_lookup'][index].as_py()}, {table['game_date'][index].as_py()})"


def _keys_where(table: pa.Table, mask: pa.ChunkedArray | pa.Array) -> str:
    mask = pc.fill_null(mask, False)
    indices = pc.indices_nonzero(mask).to_pylist()
    shown = ", ".join(_key_text(table, i) for i in indices[:MAX_LISTED])
    more = f" and {len(indices) - MAX_LISTED} more" if len(indices) > MAX_LISTED else ""
    return f"{len(indices)} rows, e.g. {shown}{more}"


def duplicate_keys(table: pa.Table) -> list[tuple[str, dt.date, int]]:
    counts = table.select(list(KEY)).group_by(list(KEY)).aggregate([([], "count_all")])
    dup = counts.filter(pc.greater(counts["count_all"], 1))
    return sorted(zip(dup["player_lookup"].to_pylist(), dup["game_date"].to_pylist(), dup["count_all"].to_pylist()),
                  key=lambda k: (k[1], k[0]))


def _row_masks(values, arrow_type: pa.DataType, path: str) -> Iterable[tuple[str, pa.Array]]:
    """(problem, per-row mask) for NaN/Inf floats, NULL arrays and NULL array elements, at any depth.

    `values` is a per-row array; masks stay per row by walking lists through their offsets.
    """
    if pa.types.is_floating(arrow_type):
        yield f"{path} is NaN or ±Inf", pc.invert(pc.fill_null(pc.is_finite(values), True))
    elif pa.types.is_list(arrow_type):
        yield f"{path} is NULL (arrays are never NULL)", values.is_null()
        parent = pc.list_parent_indices(values)
        flat = pc.list_flatten(values)
        n = len(values)

        def per_row(element_mask) -> pa.Array:
            hits = pc.filter(parent, pc.fill_null(element_mask, False))
            return pc.is_in(pa.array(range(n), pa.int64()), value_set=pc.unique(hits).cast(pa.int64()))

        yield f"{path} has a NULL element", per_row(flat.is_null())
        for problem, mask in _row_masks(flat, arrow_type.value_type, f"{path}[]"):
            yield problem, per_row(mask)
    elif pa.types.is_struct(arrow_type):
        for i in range(arrow_type.num_fields):
            sub = arrow_type.field(i)
            child = pc.struct_field(values, [i])
            for problem, mask in _row_masks(child, sub.type, f"{path}.{sub.name}"):
                # a NULL struct has no arrays: its children do not count
                yield problem, pc.and_(mask, values.is_valid())


def check_rows(table: pa.Table, columns: tuple[OutputColumn, ...] | None = None) -> list[str]:
    """Every §1/§8.1 violation of the run's rows, as lines that name the column and keys
    (`columns`: the emitted columns; default those of the rows' contract)."""
    columns = rows_columns(table) if columns is None else columns
    feature_count = _feature_count(columns)
    problems: list[str] = []
    dups = duplicate_keys(table)
    if dups:
        shown = ", ".join(f"({p}, {d}) x{n}" for p, d, n in dups[:MAX_LISTED])
        more = f" and {len(dups) - MAX_LISTED} more" if len(dups) > MAX_LISTED else ""
        problems.append(f"{len(dups)} duplicate keys (player_lookup, game_date): {shown}{more}")
    for column in columns:
        values = table[column.name].combine_chunks()
        if column.required and values.null_count:
            problems.append(f"{column.name} is NULL (NOT NULL column): {_keys_where(table, values.is_null())}")
        for problem, mask in _row_masks(values, column.arrow_type, column.name):
            if pc.any(pc.fill_null(mask, False)).as_py():
                problems.append(f"{problem}: {_keys_where(table, mask)}")
    lengths = pc.list_value_length(table["features"])
    wrong = pc.and_(table["features"].is_valid(), pc.not_equal(lengths, feature_count))
    if pc.any(wrong).as_py():
        problems.append(f"features does not have exactly {feature_count} elements: {_keys_where(table, wrong)}")
    scores = table[_SCORE_COLUMN].to_pylist()
    misfit = pa.array([v is not None and not _fits_score(v) for v in scores], pa.bool_())
    if pc.any(misfit).as_py():
        problems.append(f"{_SCORE_COLUMN} does not fit NUMERIC(5,2): {_keys_where(table, misfit)}")
    return problems


def _fits_score(value) -> bool:
    try:
        d = decimal.Decimal(str(value)) if isinstance(value, float) else decimal.Decimal(value)
    except (decimal.InvalidOperation, TypeError, ValueError):
        return False
    return d.is_finite() and abs(d) < _SCORE_LIMIT and d == d.quantize(_CENT)


def _diagnose_unreadable(out_dir: Path, error: Exception) -> str:
    """Why read_output() could not read the run's files as the output schema, per file/column."""
    lines = [f"cannot read the run's rows in {output_dir(out_dir)} as the output schema: {error}"]
    files = sorted(output_dir(out_dir).glob("part-*.parquet"))
    try:
        contract = contract_of_columns(pq.read_schema(files[0]).names) if files else None
    except Exception:  # noqa: BLE001 - an unreadable first file is reported below
        contract = None
    columns = output_columns(contract or load_contract())
    names = [c.name for c in columns]
    required = {c.name for c in columns if c.required}
    for path in sorted(output_dir(out_dir).glob("part-*.parquet")):
        try:
            raw = pq.read_table(path)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is reported by name
            lines.append(f"{path.name}: not readable as Parquet ({exc})")
            continue
        missing = [n for n in names if n not in raw.column_names]
        extra = [n for n in raw.column_names if n not in names]
        if missing or extra:
            lines.append(f"{path.name}: missing columns {missing}, unexpected columns {extra}")
        for name in sorted(required & set(raw.column_names)):
            if raw[name].null_count:
                lines.append(f"{path.name}: {name} is NULL (NOT NULL column) in {raw[name].null_count} rows")
        if _SCORE_COLUMN in raw.column_names:
            bad = [v for v in raw[_SCORE_COLUMN].to_pylist() if v is not None and not _fits_score(v)]
            if bad:
                lines.append(f"{path.name}: {_SCORE_COLUMN} does not fit NUMERIC(5,2) in {len(bad)} rows, e.g. {bad[:3]}")
    return "\n  ".join(lines)


def read_run_rows(out_dir: str | Path) -> pa.Table:
    try:
        return read_output(out_dir)
    except FileNotFoundError as exc:
        raise PushRefused(str(exc)) from None
    except (ValueError, pa.ArrowException) as exc:
        raise PushRefused(_diagnose_unreadable(Path(out_dir), exc)) from None


# --------------------------------------------------------------------------- local checks: target schema

_CANONICAL = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "RECORD": "STRUCT"}


def _canonical(field_type: str) -> str:
    return _CANONICAL.get(field_type.upper(), field_type.upper())


def _expected_type(arrow_type: pa.DataType) -> tuple[bool, str, list[tuple[str, pa.DataType]]]:
    """(repeated, BigQuery type, struct fields) for an output Arrow type (output.md §8.5 mapping)."""
    if pa.types.is_list(arrow_type):
        _, base, fields = _expected_type(arrow_type.value_type)
        return True, base, fields
    if pa.types.is_struct(arrow_type):
        return False, "STRUCT", [(f.name, f.type) for f in arrow_type]
    for test, name in ((pa.types.is_string, "STRING"), (pa.types.is_int64, "INT64"),
                       (pa.types.is_float64, "FLOAT64"), (pa.types.is_boolean, "BOOL"),
                       (pa.types.is_date32, "DATE"), (pa.types.is_timestamp, "TIMESTAMP"),
                       (pa.types.is_decimal, "NUMERIC")):
        if test(arrow_type):
            return False, name, []
    raise TypeError(f"no BigQuery type for {arrow_type}")


def _describe(schema_field) -> str:
    base = _canonical(schema_field.field_type)
    if base in ("NUMERIC", "BIGNUMERIC") and schema_field.precision is not None:
        base += f"({schema_field.precision},{schema_field.scale or 0})"
    if base == "STRUCT":
        base = "STRUCT<" + ", ".join(f"{f.name} {_describe(f)}" for f in schema_field.fields) + ">"
    return f"ARRAY<{base}>" if schema_field.mode == "REPEATED" else base


def _incompatibility(schema_field, arrow_type: pa.DataType) -> str | None:
    repeated, base, sub = _expected_type(arrow_type)
    found = _canonical(schema_field.field_type)
    if repeated != (schema_field.mode == "REPEATED"):
        return "ARRAY expected" if repeated else "not an ARRAY expected"
    if base == "NUMERIC":
        if found not in ("NUMERIC", "BIGNUMERIC"):
            return "NUMERIC expected"
        scale = schema_field.scale if schema_field.scale is not None else (9 if found == "NUMERIC" else 38)
        precision = schema_field.precision if schema_field.precision is not None else (38 if found == "NUMERIC" else 76)
        if scale < arrow_type.scale or precision - scale < arrow_type.precision - arrow_type.scale:
            return f"cannot hold NUMERIC({arrow_type.precision},{arrow_type.scale}) values"
        return None
    if found != base:
        return f"{base} expected"
    if base == "STRUCT":
        names = [f.name for f in schema_field.fields]
        if names != [name for name, _ in sub]:
            return f"STRUCT fields {[name for name, _ in sub]} expected, found {names}"
        for child, (name, child_type) in zip(schema_field.fields, sub):
            problem = _incompatibility(child, child_type)
            if problem:
                return f"field {name}: {problem}"
    return None


def check_target_schema(
    target_schema, table: pa.Table | None = None, columns: tuple[OutputColumn, ...] | None = None
) -> tuple[dict, list[str]]:
    """Emitted column -> target SchemaField, and every reason the target cannot take the rows.

    With `table`, also refuses NULLs in columns the target declares REQUIRED and strings longer
    than a STRING(L) column allows (the load would fail on them). `columns`: the emitted
    columns (default: those of the table's contract, else the reference contract's).
    """
    if columns is None:
        columns = rows_columns(table) if table is not None else OUTPUT_COLUMNS
    by_name = {f.name.lower(): f for f in target_schema}
    fields, problems, missing = {}, [], []
    for column in columns:
        target_field = by_name.get(column.name.lower())
        if target_field is None:
            missing.append(column.name)
            continue
        fields[column.name] = target_field
        problem = _incompatibility(target_field, column.arrow_type)
        if problem:
            problems.append(f"column {column.name}: target type {_describe(target_field)}, {problem} "
                            f"(engine emits {column.bq_type})")
            continue
        if table is None:
            continue
        values = table[column.name]
        if target_field.mode == "REQUIRED" and values.null_count:
            problems.append(f"column {column.name} is REQUIRED in the target but NULL in "
                            f"{_keys_where(table, values.is_null())}")
        if target_field.max_length is not None and pa.types.is_string(column.arrow_type):
            too_long = pc.greater(pc.utf8_length(values), target_field.max_length)
            if pc.any(pc.fill_null(too_long, False)).as_py():
                problems.append(f"column {column.name} is STRING({target_field.max_length}) in the target; "
                                f"longer values in {_keys_where(table, too_long)}")
    if missing:
        problems.insert(0, f"the target lacks {len(missing)} emitted columns: {', '.join(missing)}")
    return fields, problems


def staging_schema(target_fields: dict, columns: tuple[OutputColumn, ...] = OUTPUT_COLUMNS) -> list:
    """Exactly the emitted columns in output order, each with the target's type and mode."""
    from google.cloud import bigquery

    def copy(f) -> "bigquery.SchemaField":
        return bigquery.SchemaField(
            f.name, f.field_type, mode=f.mode, fields=[copy(c) for c in f.fields],
            precision=f.precision, scale=f.scale, max_length=f.max_length,
        )

    return [copy(target_fields[c.name]) for c in columns]


# --------------------------------------------------------------------------- the push

_SECRET_PATTERNS = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1<redacted>"),
    (re.compile(r"(?i)\b(access_token|id_token|refresh_token|token|key|sig|signature|client_secret)=[^&\s\"']+"),
     r"\1=<redacted>"),
    (re.compile(r"ya29\.[A-Za-z0-9._-]+"), "<redacted>"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S), "<redacted>"),
]


def redact(text: str) -> str:
    """Remove anything that looks like a credential from a message before it is shown."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _error_text(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    cause = getattr(exc, "cause", None)  # api_core RetryError: the last underlying error
    if cause is not None:
        message = f"{message}; last error: {type(cause).__name__}: {str(cause)[:300]}"
    errors = getattr(exc, "errors", None)
    if errors:
        details = "; ".join(str(e.get("message", e)) for e in errors[:3] if isinstance(e, dict))
        if details and details not in message:
            message = f"{message} ({details})"
    return redact(f"{type(exc).__name__}: {message}")


def _retry(timeout: float):
    from google.cloud.bigquery.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_timeout(timeout)


def _explain_missing_target(client, target: TableId, exc: Exception, call_timeout: float) -> str:
    from google.api_core import exceptions

    try:
        client.get_dataset(f"{target.project}.{target.dataset}", retry=_retry(call_timeout), timeout=call_timeout)
    except exceptions.NotFound:
        return (f"target dataset {target.project}.{target.dataset} not found (unknown project {target.project!r} "
                f"or dataset {target.dataset!r}), so table {target} cannot be pushed to")
    except Exception:  # noqa: BLE001 - the first error is the one to report
        pass
    return f"target table {target} not found ({_error_text(exc)})"


def push(
    out_dir: str | Path,
    client,
    target: str,
    *,
    replace: bool = False,
    dry_run: bool = False,
    staging_dataset: str | None = None,
    staging_expiration_hours: float = DEFAULT_STAGING_EXPIRATION_HOURS,
    call_timeout: float = DEFAULT_CALL_TIMEOUT,
    job_timeout: float = DEFAULT_JOB_TIMEOUT,
    run_id: str | None = None,
    progress: Progress | None = None,
) -> PushReport:
    """Push the rows of `out_dir` (OUT/ml_feature_store_v2/) into `target` ("project.dataset.table").

    `client` is a google.cloud.bigquery.Client (its endpoint and credentials decide where the
    push goes). Every API call is bounded by `call_timeout` seconds and every job by
    `job_timeout` (a job exceeding it is cancelled and the push fails). Raises PushRefused,
    PushJobFailed or ReconciliationError; returns the report otherwise.
    """
    note = progress or (lambda message: None)
    target_id = TableId.parse(target)
    if staging_dataset is not None:
        try:
            validate_dataset(staging_dataset, "staging dataset")
        except ConfigError as exc:
            raise PushRefused(str(exc)) from None
    if not 0 < staging_expiration_hours <= 24 * 365:
        raise PushRefused(f"staging expiration {staging_expiration_hours!r} h: expected (0, 8760] hours")
    for name, value in (("call timeout", call_timeout), ("job timeout", job_timeout)):
        if not 0 < value <= 86_400:
            raise PushRefused(f"{name} {value!r} s: expected (0, 86400] seconds")
    run_id = run_id or new_run_id()

    # -- §8.1 local checks, rows first: nothing about the target is needed to refuse bad rows
    note(f"checking the run's rows in {output_dir(out_dir)}")
    table = read_run_rows(out_dir)
    columns = rows_columns(table)
    problems = check_rows(table, columns)
    if problems:
        raise PushRefused("the run's rows cannot be pushed (no job sent):\n  " + "\n  ".join(problems))
    per_date = table.select(["game_date"]).group_by("game_date").aggregate([([], "count_all")])
    rows_per_date = dict(sorted(zip(per_date["game_date"].to_pylist(), per_date["count_all"].to_pylist())))
    run_dates = list(rows_per_date)
    stage = staging_id(target_id, run_id, staging_dataset)
    report = PushReport(str(target_id), run_id, table.num_rows, run_dates, rows_per_date, replace, dry_run,
                        staging_table=str(stage))
    if table.num_rows == 0:
        report.notice = f"the run in {output_dir(out_dir)} has no rows: nothing pushed, no job sent"
        report.staging_table = None
        return report

    # -- §8.1 target schema: a metadata call, never a job; the engine never alters it
    from google.api_core import exceptions

    note(f"reading the schema of {target_id}")
    try:
        target_table = client.get_table(str(target_id), retry=_retry(call_timeout), timeout=call_timeout)
    except exceptions.NotFound as exc:
        raise PushRefused(_explain_missing_target(client, target_id, exc, call_timeout)) from None
    except Exception as exc:  # noqa: BLE001 - any failure here happens before any job
        raise PushRefused(f"cannot read the schema of target {target_id}: {_error_text(exc)}") from None
    target_fields, schema_problems = check_target_schema(target_table.schema, table, columns)
    if schema_problems:
        raise PushRefused(f"target {target_id} cannot take the run's rows (the engine never alters the target "
                          "schema; no job sent):\n  " + "\n  ".join(schema_problems))
    location = target_table.location
    if staging_dataset is not None and staging_dataset != target_id.dataset:
        try:
            ds = client.get_dataset(f"{target_id.project}.{staging_dataset}", retry=_retry(call_timeout),
                                    timeout=call_timeout)
        except Exception as exc:  # noqa: BLE001
            raise PushRefused(f"cannot read staging dataset {target_id.project}.{staging_dataset}: "
                              f"{_error_text(exc)}") from None
        if (ds.location or "").lower() != (location or "").lower():
            raise PushRefused(f"staging dataset {target_id.project}.{staging_dataset} is in {ds.location}, "
                              f"the target in {location}: they must share a location")

    schema = staging_schema(target_fields, columns)
    merge_sql = render_merge(target_id, stage, replace, columns=columns)
    if dry_run:
        report.statements = {
            "staging table (metadata call)": _describe_staging(stage, schema, staging_expiration_hours),
            "job 1: load": (f"LOAD {report.rows} rows as PARQUET into {stage} (WRITE_TRUNCATE, explicit schema, "
                            "no autodetect)"),
            "job 2: merge": merge_sql.rstrip()
            + f"\n-- @{RUN_DATES_PARAMETER} ARRAY<DATE> = [{', '.join(str(d) for d in run_dates)}]",
            "then": f"delete staging table {stage} (metadata call)",
        }
        return report

    from google.cloud import bigquery

    # -- §8.2 step 1: staging table with an expiration (a metadata call)
    note(f"creating staging table {stage}")
    staging_table = bigquery.Table(str(stage), schema=schema)
    staging_table.expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=staging_expiration_hours)
    staging_table.description = f"fsengine push {run_id} into {target_id}; safe to delete"
    try:
        client.create_table(staging_table, retry=_retry(call_timeout), timeout=call_timeout)
    except Exception as exc:  # noqa: BLE001 - no job sent yet
        refusal = PushRefused(f"cannot create staging table {stage} (no job sent): {_error_text(exc)}")
        _delete_staging(client, stage, call_timeout, report, refusal)  # a create may succeed despite an error
        raise refusal from None

    failure: BaseException | None = None
    try:
        _load(client, table, stage, schema, location, run_id, call_timeout, job_timeout, report, note)
        merge_job = _merge(client, merge_sql, run_dates, location, run_id, call_timeout, job_timeout, report, note)
    except BaseException as exc:
        failure = exc
        raise
    finally:
        note(f"deleting staging table {stage}")
        _delete_staging(client, stage, call_timeout, report, failure)
    _reconcile(merge_job, report)
    for warning in report.warnings:
        log.warning("%s", warning)
    return report


def push_with_config(
    out_dir: str | Path,
    config,
    *,
    dataset: str | None = None,
    table: str | None = None,
    replace: bool = False,
    dry_run: bool = False,
    staging_dataset: str | None = None,
    staging_expiration_hours: float = DEFAULT_STAGING_EXPIRATION_HOURS,
    progress: Progress | None = None,
) -> PushReport:
    """`fsengine push`: target = config.project + (dataset or the configured target's dataset) +
    (table or the configured target's table); client, endpoints, credentials and timeouts from
    `config` (fsengine.config.Config, see load_config)."""
    from fsengine.config import bigquery_client

    target = f"{config.project}.{dataset or config.target.dataset}.{table or config.target.table}"
    TableId.parse(target)  # refuse a bad name before any client is built
    return push(
        out_dir, bigquery_client(config), target, replace=replace, dry_run=dry_run,
        staging_dataset=staging_dataset, staging_expiration_hours=staging_expiration_hours,
        call_timeout=config.call_timeout, job_timeout=config.job_timeout, progress=progress,
    )


def _describe_staging(stage: TableId, schema: list, hours: float) -> str:
    columns = ",\n".join(f"  {f.name} {_describe(f)}{' NOT NULL' if f.mode == 'REQUIRED' else ''}" for f in schema)
    return f"CREATE TABLE {stage.sql()} (\n{columns}\n) -- expiration {hours:g} h; types copied from the target"


def _delete_staging(client, stage: TableId, call_timeout: float, report: PushReport, failure) -> None:
    try:
        client.delete_table(str(stage), not_found_ok=True, retry=_retry(call_timeout), timeout=call_timeout)
    except Exception as exc:  # noqa: BLE001 - a failed delete must not hide the push's own outcome
        warning = (f"could not delete staging table {stage} ({_error_text(exc)}); its expiration removes it "
                   "anyway")
        if failure is not None and hasattr(failure, "args") and failure.args:
            failure.args = (f"{failure.args[0]}\n(also: {warning})", *failure.args[1:])
        report.warnings.append(warning)


def _wait(job, what: str, job_timeout: float, call_timeout: float, changes_target: bool) -> None:
    """Wait for a job; cancel it when it exceeds job_timeout. Raises PushJobFailed."""
    try:
        job.result(timeout=job_timeout, retry=_retry(call_timeout))
    except concurrent.futures.TimeoutError:
        _cancel_after_timeout(job, what, job_timeout, call_timeout, changes_target)
    except Exception as exc:  # noqa: BLE001
        raise PushJobFailed(f"{what} (job {job.job_id}) failed; the target is unchanged: {_error_text(exc)}") from None


def _cancel_after_timeout(job, what: str, job_timeout: float, call_timeout: float, changes_target: bool) -> None:
    exceeded = f"{what} (job {job.job_id}) exceeded the job timeout of {job_timeout:g} s"
    try:
        job.cancel(retry=_retry(call_timeout), timeout=call_timeout)
    except Exception as exc:  # noqa: BLE001
        raise PushJobFailed(f"{exceeded} and could not be cancelled ({_error_text(exc)}); "
                            f"check job {job.job_id} before rerunning") from None
    if not changes_target:  # a load only touches staging, which is deleted next
        raise PushJobFailed(f"{exceeded} and was cancelled; the target is unchanged")
    # a cancel is a request: the MERGE may still commit, so wait for its final state
    try:
        job.result(timeout=call_timeout, retry=_retry(call_timeout))
    except concurrent.futures.TimeoutError:
        raise PushJobFailed(f"{exceeded}; a cancel was requested but the job had not stopped after "
                            f"{call_timeout:g} s more: check job {job.job_id} and the target before rerunning") from None
    except Exception:  # noqa: BLE001 - the job ended in error: cancelled, nothing committed
        raise PushJobFailed(f"{exceeded} and was cancelled; the target is unchanged") from None
    raise ReconciliationError(f"{exceeded}; the cancel came too late and the MERGE committed: the target WAS "
                              "changed; check it before rerunning")


def _start_job(client, start: Callable[[], object], job_id: str, location, what: str, call_timeout: float,
               may_change_target: bool):
    """Start a job with a fixed id; when the request fails, look the id up before deciding.

    A failed or timed-out insert request may still have created the job (the response was
    lost), so "the target is unchanged" is only claimed once the job is known not to exist.
    """
    try:
        return start()
    except Exception as exc:  # noqa: BLE001
        first = _error_text(exc)
    from google.api_core import exceptions

    try:
        job = client.get_job(job_id, location=location, retry=_retry(call_timeout), timeout=call_timeout)
    except exceptions.NotFound:
        raise PushJobFailed(f"{what} could not be started (job {job_id} was not created); the target is "
                            f"unchanged: {first}") from None
    except Exception as exc:  # noqa: BLE001
        consequence = ("the target is unchanged unless that job ran: check it before rerunning" if may_change_target
                       else "the target is unchanged")
        raise PushJobFailed(f"{what}: the request to start job {job_id} failed ({first}) and the job could not be "
                            f"looked up ({_error_text(exc)}); {consequence}") from None
    return job  # the request failed but the job exists: follow it


def _load(client, table: pa.Table, stage: TableId, schema, location, run_id, call_timeout, job_timeout,
          report: PushReport, note: Progress) -> None:
    from google.cloud import bigquery

    config = bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.PARQUET,
        schema=schema,
        write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        create_disposition=bigquery.CreateDisposition.CREATE_NEVER,
        autodetect=False,
    )
    parquet_options = bigquery.ParquetOptions()
    parquet_options.enable_list_inference = True  # LIST-annotated Parquet columns -> REPEATED fields
    config.parquet_options = parquet_options
    config.job_timeout_ms = int(job_timeout * 1000)
    job_id = f"fsengine_push_{run_id}_load"
    what = f"load into staging {stage}"
    note(f"job 1/2: loading {table.num_rows} rows into {stage}")
    report.load_job_id = job_id
    with tempfile.TemporaryDirectory(prefix="fsengine-push-") as folder:
        path = Path(folder) / "rows.parquet"
        # the checked table itself is what is loaded, as one file whatever the run's file count
        pq.write_table(table, path, compression="zstd")
        with open(path, "rb") as handle:
            job = _start_job(
                client,
                lambda: client.load_table_from_file(handle, str(stage), job_config=config, job_id=job_id,
                                                    location=location, timeout=call_timeout),
                job_id, location, what, call_timeout, may_change_target=False,
            )
    _wait(job, what, job_timeout, call_timeout, changes_target=False)
    loaded = job.output_rows
    if loaded is None:
        loaded = client.get_table(str(stage), retry=_retry(call_timeout), timeout=call_timeout).num_rows
    if loaded != table.num_rows:
        raise PushJobFailed(f"load job {job.job_id} put {loaded} rows into staging {stage}, the run has "
                            f"{table.num_rows}; the target is unchanged")


def _merge(client, sql: str, run_dates, location, run_id, call_timeout, job_timeout, report: PushReport,
           note: Progress):
    from google.cloud import bigquery

    config = bigquery.QueryJobConfig(
        query_parameters=[bigquery.ArrayQueryParameter(RUN_DATES_PARAMETER, "DATE", run_dates)],
        use_legacy_sql=False,
    )
    config.job_timeout_ms = int(job_timeout * 1000)
    job_id = f"fsengine_push_{run_id}_merge"
    what = f"MERGE into {report.target}"
    note(f"job 2/2: MERGE of {report.rows} rows over {len(run_dates)} dates into {report.target}")
    report.merge_job_id = job_id
    # job_retry=None: a failed job is never resubmitted (§8.3); only the API request is retried
    job = _start_job(
        client,
        lambda: client.query(sql, job_config=config, job_id=job_id, location=location, timeout=call_timeout,
                             retry=_retry(call_timeout), job_retry=None),
        job_id, location, what, call_timeout, may_change_target=True,
    )
    _wait(job, what, job_timeout, call_timeout, changes_target=True)
    return job


def _reconcile(job, report: PushReport) -> None:
    """§8.4: I + U = N (more = duplicate target keys, a warning; fewer = error); X = 0 unless replace."""
    n = report.rows
    stats = job.dml_stats
    if stats is not None:
        report.inserted = stats.inserted_row_count or 0
        report.updated = stats.updated_row_count or 0
        report.deleted = stats.deleted_row_count or 0
        report.affected = report.inserted + report.updated + report.deleted
        matched = report.inserted + report.updated
        if matched < n:
            raise ReconciliationError(f"MERGE job {job.job_id} committed but inserted {report.inserted} + updated "
                                      f"{report.updated} = {matched} rows < {n} staged rows")
        if not report.replace and report.deleted:
            raise ReconciliationError(f"MERGE job {job.job_id} committed and deleted {report.deleted} rows "
                                      "without replace mode")
        if matched > n:
            report.warnings.append(f"inserted + updated = {matched} > {n} staged rows: the target held "
                                   f"{matched - n} duplicate-key rows (each was updated)")
        return
    report.affected = job.num_dml_affected_rows
    if report.affected is None:
        raise ReconciliationError(f"MERGE job {job.job_id} committed but reported no DML statistics")
    if report.affected < n:
        raise ReconciliationError(f"MERGE job {job.job_id} committed but affected {report.affected} rows < "
                                  f"{n} staged rows")
