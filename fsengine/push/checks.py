"""The local checks of a push (docs/output.md §1, §8.1), made before any job is sent: the
run's rows (keys, NULLs, NaN/Inf, array shapes, the score's NUMERIC(5,2)) and whether the
target's schema can take them. Each problem is one line naming the column and example keys.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fsengine.bigquery.types import bigquery_type, describe_field, normalise_type
from fsengine.contracts import load_contract
from fsengine.errors import PushRefused
from fsengine.output.schema import (
    KEY,
    OUTPUT_COLUMNS,
    OutputColumn,
    contract_of_columns,
    output_columns,
    output_dir,
    read_output,
)

MAX_LISTED = 10  # offending keys/columns named in one refusal line

_SCORE_COLUMN = "feature_quality_score"
_SCORE_LIMIT = decimal.Decimal("1000")  # NUMERIC(5,2): at most 3 integer digits
_CENT = decimal.Decimal("0.01")


# --------------------------------------------------------------------------- the run's rows


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
    return sorted(
        zip(dup["player_lookup"].to_pylist(), dup["game_date"].to_pylist(), dup["count_all"].to_pylist()),
        key=lambda k: (k[1], k[0]),
    )


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


def rows_columns(table: pa.Table) -> tuple[OutputColumn, ...]:
    """The emitted columns of the run's rows: those of the bundled contract whose columns the
    rows hold (v2_37features: the 143 of docs/output.md §2; v2_54features: the 251 of
    docs/v2_54/output.md §1); the reference contract's when none matches (the checks then name the
    differing columns)."""
    contract = contract_of_columns(table.schema.names)
    return output_columns(contract) if contract is not None else OUTPUT_COLUMNS


def refuse_other_contract(table: pa.Table, contract, out_dir) -> None:
    # out_dir: how the rows' folder(s) are named in messages (the output folder itself)
    """PushRefused unless the run's rows are rows of `contract` (`push --contract`: a name, a
    contract file or a Contract): a run of
    the other contract would otherwise be merged into a table that holds this one."""
    from fsengine.contracts import resolve_contract

    try:
        wanted = resolve_contract(contract)
    except ValueError as exc:
        raise PushRefused(str(exc)) from None
    if [c.name for c in output_columns(wanted)] == table.schema.names:
        return
    held = contract_of_columns(table.schema.names)
    what = f"rows of contract {held.name}" if held is not None else "rows of no bundled contract"
    raise PushRefused(
        f"{out_dir} holds {what} ({table.num_columns} columns), not of contract {wanted.name} "
        f"({len(output_columns(wanted))} columns) as --contract asks; nothing was sent. Push the output of a "
        f"`fsengine backfill --contract {wanted.name}` run, or push this one with --contract {held.name if held else '...'}"
    )


def _feature_count(columns: tuple[OutputColumn, ...]) -> int:
    return sum(1 for c in columns if c.name.startswith("feature_") and c.name.endswith("_quality"))


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
                lines.append(
                    f"{path.name}: {_SCORE_COLUMN} does not fit NUMERIC(5,2) in {len(bad)} rows, e.g. {bad[:3]}"
                )
    return "\n  ".join(lines)


_CHUNK_FOLDER = re.compile(r"chunk-(\d+)-of-(\d+)")


def run_folders(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    """The run folders (each holding ml_feature_store_v2/) that `paths` name, in order.

    A path holding ml_feature_store_v2/ is one run. A path holding none but holding run folders
    that are chunks (`backfill --chunk I/N` records I/N in its run record; else a chunk-I-of-N
    name, as `fsengine plan` lays them out) stands for all of them; they must then be the
    complete set 1..N of one run, so that pushing a parent folder never silently pushes part of
    a run (name chunk folders one by one to push a subset)."""
    given = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if not given:
        raise PushRefused("no run folder given: pass OUT (holding ml_feature_store_v2/) or a folder of chunk folders")
    folders: list[Path] = []
    for path in given:
        if output_dir(path).is_dir() or not path.is_dir():
            folders.append(path)  # a missing folder is refused by read_output, naming it
            continue
        chunks = sorted((c for c in path.iterdir() if output_dir(c).is_dir()), key=lambda c: c.name)
        if not chunks:
            raise PushRefused(
                f"{path} holds neither {output_dir(path).name}/ nor chunk folders holding it: "
                f"run `fsengine backfill --out {path}` (or the commands of `fsengine plan`) first"
            )
        parts = {c: _chunk_of(c) for c in chunks}
        counts = {part[1] for part in parts.values() if part}
        if len(counts) != 1 or not all(parts.values()):
            raise PushRefused(
                f"{path} holds run folders that are not the chunks of one plan "
                f"({', '.join(c.name for c in chunks[:MAX_LISTED])}): name the folders to push one by one"
            )
        plans = {_plan_of(c) for c in chunks} - {None}
        if len(plans) > 1:
            raise PushRefused(
                f"the chunk folders in {path} come from different runs (their run records differ in "
                "mode, --as-of or contract): name the folders to push one by one"
            )
        count = counts.pop()
        present = {part[0] for part in parts.values() if part is not None}
        missing = sorted(set(range(1, count + 1)) - present)
        if missing:
            raise PushRefused(
                f"{path} holds {len(present)} of the {count} chunks of its run; chunk(s) "
                f"{', '.join(map(str, missing[:MAX_LISTED]))} missing (no job sent): run them first, "
                "or name the chunk folders to push one by one"
            )
        folders.extend(chunks)
    seen: dict[Path, Path] = {}
    for folder in folders:
        resolved = folder.resolve()
        if resolved in seen:
            raise PushRefused(f"run folder {folder} is given twice (as {seen[resolved]} and {folder})")
        seen[resolved] = folder
    return folders


def _chunk_of(folder: Path) -> tuple[int, int] | None:
    """(I, N) of a chunk folder: from its run record (`backfill --chunk` writes "I/N" there,
    whatever the folder is called), else from a chunk-I-of-N name."""
    from fsengine.pipeline import read_run_record

    record = read_run_record(folder) or {}
    label = record.get("chunk")
    if isinstance(label, str) and re.fullmatch(r"\d+/\d+", label):
        index, count = map(int, label.split("/"))
        return index, count
    match = _CHUNK_FOLDER.fullmatch(folder.name)
    return (int(match[1]), int(match[2])) if match else None


def _plan_of(folder: Path) -> tuple | None:
    from fsengine.pipeline import read_run_record

    record = read_run_record(folder)
    if not record:
        return None
    # a chunk records its own dates, and machines may mount the snapshot elsewhere: the run's
    # identity across its parts is its mode, its --as-of and its contract
    return tuple(record.get(k) for k in ("mode", "as_of", "contract"))


def _read_one(out_dir: Path) -> pa.Table:
    try:
        return read_output(out_dir)
    except FileNotFoundError as exc:
        raise PushRefused(str(exc)) from None
    except (ValueError, pa.ArrowException) as exc:
        raise PushRefused(_diagnose_unreadable(Path(out_dir), exc)) from None


def run_contract(table: pa.Table) -> tuple[str, int]:
    """(feature_version, feature_count) of the run's rows; PushRefused if they carry several."""
    pairs = (
        table.select(["feature_version", "feature_count"])
        .group_by(["feature_version", "feature_count"])
        .aggregate([])
        .to_pylist()
    )
    if len(pairs) != 1:
        raise PushRefused(
            f"the run's rows carry {len(pairs)} contracts "
            f"{sorted((p['feature_version'], p['feature_count']) for p in pairs)}; expected one"
        )
    return pairs[0]["feature_version"], pairs[0]["feature_count"]


def read_run_rows(out_dirs: str | Path | Sequence[str | Path]) -> pa.Table:
    """The rows of one run, or of several run folders (e.g. the chunks of a plan) as one table.

    Several folders must hold rows of one contract and no key (player_lookup, game_date) in
    more than one folder; PushRefused names the folders otherwise."""
    folders = run_folders(out_dirs)
    if len(folders) == 1:
        return _read_one(folders[0])
    tables = [_read_one(folder) for folder in folders]
    by_contract: dict[str, list[Path]] = {}
    for folder, table in zip(folders, tables):
        contract = contract_of_columns(table.schema.names)
        by_contract.setdefault(contract.name if contract else "an unknown contract", []).append(folder)
    if len(by_contract) > 1:
        lines = [f"{name}: {', '.join(map(str, held))}" for name, held in by_contract.items()]
        raise PushRefused(
            "the run folders hold rows of different contracts (one push writes one contract; "
            "no job sent):\n  " + "\n  ".join(lines)
        )
    _refuse_overlaps(folders, tables)
    return pa.concat_tables(tables)


def _refuse_overlaps(folders: list[Path], tables: list[pa.Table]) -> None:
    """PushRefused when a key is in more than one folder: which folder's row should win is not
    the push's to decide (keys repeated inside one folder are check_rows' duplicate keys)."""
    keys = pa.concat_tables(
        [
            t.select(list(KEY)).append_column("folder", pa.array([i] * t.num_rows, pa.int32()))
            for i, t in enumerate(tables)
        ]
    )
    per_key = keys.group_by(list(KEY)).aggregate([("folder", "count_distinct"), ("folder", "distinct")])
    shared = per_key.filter(pc.greater(per_key["folder_count_distinct"], 1))
    if shared.num_rows == 0:
        return
    shown = sorted(
        zip(shared["game_date"].to_pylist(), shared["player_lookup"].to_pylist(), shared["folder_distinct"].to_pylist())
    )
    examples = ", ".join(
        f"({player}, {date}) in {' and '.join(str(folders[i]) for i in sorted(held))}"
        for date, player, held in shown[:MAX_LISTED]
    )
    more = f" and {len(shown) - MAX_LISTED} more" if len(shown) > MAX_LISTED else ""
    raise PushRefused(
        f"the run folders overlap: {len(shown)} keys (player_lookup, game_date) are in more than one "
        f"folder (no job sent): {examples}{more}"
    )


def refuse_bad_rows(table: pa.Table, columns: tuple[OutputColumn, ...] | None = None) -> None:
    """Raise PushRefused naming every problem of the run's rows."""
    problems = check_rows(table, columns)
    if problems:
        raise PushRefused("the run's rows cannot be pushed (no job sent):\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------- the target's schema


def _incompatibility(schema_field, arrow_type: pa.DataType) -> str | None:
    repeated, base, sub = bigquery_type(arrow_type)
    found = normalise_type(schema_field.field_type)
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
            problems.append(
                f"column {column.name}: target type {describe_field(target_field)}, {problem} "
                f"(engine emits {column.bq_type})"
            )
            continue
        if table is None:
            continue
        values = table[column.name]
        if target_field.mode == "REQUIRED" and values.null_count:
            problems.append(
                f"column {column.name} is REQUIRED in the target but NULL in {_keys_where(table, values.is_null())}"
            )
        if target_field.max_length is not None and pa.types.is_string(column.arrow_type):
            too_long = pc.greater(pc.utf8_length(values), target_field.max_length)
            if pc.any(pc.fill_null(too_long, False)).as_py():
                problems.append(
                    f"column {column.name} is STRING({target_field.max_length}) in the target; "
                    f"longer values in {_keys_where(table, too_long)}"
                )
    if missing:
        problems.insert(0, f"the target lacks {len(missing)} emitted columns: {', '.join(missing)}")
    return fields, problems


def refuse_incompatible_target(
    target_schema, table: pa.Table, target, columns: tuple[OutputColumn, ...] | None = None
) -> dict:
    """Emitted column -> target SchemaField; PushRefused naming every column the target cannot take."""
    fields, problems = check_target_schema(target_schema, table, columns)
    if problems:
        raise PushRefused(
            f"target {target} cannot take the run's rows (the engine never alters the target "
            "schema; no job sent):\n  " + "\n  ".join(problems)
        )
    return fields
