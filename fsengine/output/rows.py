"""Output rows (docs/output.md §1-§5; docs/v2_54/output.md): the assembled frame -> the output
columns of the profile's contract (143 for v2_37features, 251 for v2_54features).

`output_rows` scores the tags (fsengine.scoring.quality), zero-fills the stored feature array, computes
`data_hash` over the in-memory row, serialises `feature_sources_json`, stamps the run
timestamp and returns an Arrow table with exactly `fsengine.output.OUTPUT_SCHEMA`. It refuses
(ValueError naming the row key) input that would break the output invariants: a wrong-length
vector, ±Inf, an unknown tag, placeholder/tag mismatches, a NULL key.

>>> import datetime as dt
>>> frame = pl.DataFrame({
...     "player_lookup": ["lebronjames"], "universal_player_id": [None],
...     "game_date": [dt.date(2026, 10, 21)], "game_id": ["20261021_BOS_LAL"],
...     "opponent_team_abbr": ["BOS"], "is_home": [True], "days_rest": [None],
...     "feature_values": [[None] * 37], "feature_tags": [None], "is_placeholder": [True],
...     "composite_fallback": [False], "historical_completeness": [None]},
...     schema_overrides={"feature_values": pl.List(pl.Float64), "feature_tags": pl.List(pl.Utf8),
...                       "universal_player_id": pl.Utf8, "days_rest": pl.Int64})
>>> table = output_rows(frame, dt.datetime(2026, 10, 21, 12, tzinfo=dt.timezone.utc))
>>> table.schema == OUTPUT_SCHEMA, table.column("data_hash")[0].as_py()
(True, '0f1a53eeaed3be7a')
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import time
from functools import lru_cache
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from fsengine.contracts import contract_of
from fsengine.contracts.profile import REFERENCE, Profile
from fsengine.output.schema import SCORE_TYPE, output_schema
from fsengine.scoring import quality

ASSEMBLED_COLUMNS = {
    "player_lookup": pl.Utf8,
    "universal_player_id": pl.Utf8,
    "game_date": pl.Date,
    "game_id": pl.Utf8,
    "opponent_team_abbr": pl.Utf8,
    "is_home": pl.Boolean,
    "days_rest": pl.Int64,
    "feature_values": pl.List(pl.Float64),
    "feature_tags": pl.List(pl.Utf8),
    "is_placeholder": pl.Boolean,
    "composite_fallback": pl.Boolean,
    "historical_completeness": None,  # struct, passed through (docs/features.md §8)
}
NOT_NULL_INPUTS = ("player_lookup", "game_date", "game_id", "is_placeholder")
# Optional columns of the assembled frame: required exactly when the contract emits the output
# column of the same name (its `[output] extra_columns`; docs/v2_54/output.md §1 #190-191), and then
# non-NULL on scored rows (placeholders: NULL). Absent for v2_37features.
OPTIONAL_ASSEMBLED_COLUMNS = {
    "cache_miss_fallback_used": pl.Boolean,
    "vegas_line_source": pl.Utf8,
}

COMPOSITE_FALLBACK_REASON = "composite_factors_missing_matchup_data"  # docs/output.md §2.1 #21
EARLY_SEASON_REASON = "early_season_skip_first_14_days"  # docs/output.md §2.1 #15
PLACEHOLDER_COMPLETENESS = {
    "games_found": 0,
    "games_expected": 0,
    "is_complete": True,
    "is_bootstrap": True,
    "contributing_game_dates": [],
}

# docs/output.md §3 step 1: the fields data_hash covers.
HASH_FIELDS = (
    "player_lookup",
    "universal_player_id",
    "game_date",
    "game_id",
    "features",
    "feature_names",
    "feature_count",
    "feature_version",
    "feature_quality_score",
    "opponent_team_abbr",
    "is_home",
    "days_rest",
    "data_source",
    "early_season_flag",
    "insufficient_data_reason",
)
HASH_LENGTH = 16
STRIPPED_FIELDS = (
    "player_lookup",
    "universal_player_id",
    "game_id",
    "feature_version",
    "opponent_team_abbr",
    "data_source",
    "insufficient_data_reason",
)


@lru_cache(maxsize=1)
def python_whitespace() -> str:
    """The characters Python's str.strip() removes (str.isspace), for a bit-identical strip."""
    return "".join(ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isspace())


ASCII_WHITESPACE = "".join(ch for ch in map(chr, range(128)) if ch.isspace())


def _strip_set(fields: pl.DataFrame, names: list[str]) -> str:
    """The characters to strip from `names`: only the ASCII whitespace when every text is
    ASCII (no other whitespace can occur then, and scanning all of Unicode for the full set
    costs ~0.2 s), else the full set of `python_whitespace`."""
    non_ascii = fields.select(
        pl.any_horizontal(pl.col(n).cast(pl.Utf8).str.contains(r"[^\x00-\x7f]").any() for n in names)
    ).item()
    return python_whitespace() if non_ascii else ASCII_WHITESPACE


def python_float_texts(values: pl.Series, null_text: str | None = None) -> pl.Series:
    """Python repr() of every float64 (null stays null, or becomes `null_text` when given), vectorised.

    Where both print fixed notation (Python: 1e-4 <= |x| < 1e16), Polars prints the same
    shortest round-trip digits as Python (tests compare them on random bit patterns). Outside
    [1e-4, 1e15) the layouts differ (`1e-7` vs `1e-07`, `0.00001` vs `1e-05`), so those rare
    values are rendered by Python's own repr. Polars prints ±Inf as Python does (`inf`, `-inf`)
    but NaN as `NaN`: NaN (common: the in-memory vector keeps it) becomes Python's `nan`.
    The exceptions are found in one pass and scattered in (cheaper than a fill or a
    when/then over the whole text column).
    """
    values = values.cast(pl.Float64)
    text = values.cast(pl.Utf8)
    value, magnitude = pl.col("v"), pl.col("v").abs()
    own_repr = value.is_finite() & ((magnitude >= 1e15) | ((magnitude > 0) & (magnitude < 1e-4)))
    found = values.to_frame("v").select(
        value.is_nan().fill_null(False).alias("nan"),
        own_repr.fill_null(False).alias("own_repr"),
        value.is_null().alias("null"),
    )
    nans = np.flatnonzero(found.get_column("nan").to_numpy())
    if len(nans):
        text = text.scatter(nans, repr(np.nan))
    rows = np.flatnonzero(found.get_column("own_repr").to_numpy())
    if len(rows):
        text = text.scatter(rows, [repr(v) for v in values.gather(rows).to_list()])
    if null_text is not None and values.has_nulls():
        text = text.scatter(np.flatnonzero(found.get_column("null").to_numpy()), null_text)
    return text


def _joined_rows(texts: pl.Series, width: int, separator: str) -> pa.Array:
    """Row i = separator.join(texts[i*width:(i+1)*width]) (texts has no nulls)."""
    rows = texts.len() // width
    offsets = pa.array(np.arange(0, rows * width + 1, width, dtype=np.int64))
    flat = texts.to_arrow()
    flat = flat.combine_chunks() if isinstance(flat, pa.ChunkedArray) else flat
    return pc.binary_join(
        pa.LargeListArray.from_arrays(offsets, flat.cast(pa.large_string())), pa.scalar(separator, pa.large_string())
    )


def _text_or_null(expr: Any) -> Any:
    return expr.fill_null(pl.lit("NULL"))


def _rendered_fields(fields: pl.DataFrame, width: int, feature_names: list[str] | None = None) -> dict[str, Any]:
    """The text of each of the 15 fields of docs/output.md §3, as a Polars expression over
    `fields` (feature_names a literal: it is one value for every row). `feature_names`, when
    given, is the names of every row, and `fields` need not hold them."""
    missing = [
        f for f in HASH_FIELDS if f not in fields.columns and not (f == "feature_names" and feature_names is not None)
    ]
    if missing:
        raise ValueError(f"data_hash needs the fields {missing}")
    if feature_names is None:
        names = fields.get_column("feature_names")
        feature_names = list(names[0]) if names.len() else []
        if names.len() and not pl.select((pl.lit(names) == pl.lit(feature_names, dtype=names.dtype)).all()).item():
            raise ValueError("data_hash: feature_names differ between rows")
    names_text = repr(list(feature_names))
    features = fields.get_column("features")
    flat_texts = python_float_texts(features.explode(), null_text="None")
    vector = (
        flat_texts.reshape((features.len(), width)).arr.join(", ") if features.len() else pl.Series([], dtype=pl.Utf8)
    )
    whitespace = _strip_set(fields, [n for n in STRIPPED_FIELDS if n in fields.columns])

    def stripped(name: str) -> pl.Expr:
        return _text_or_null(pl.col(name).cast(pl.Utf8).str.strip_chars(whitespace))

    def boolean(name: str) -> pl.Expr:
        return _text_or_null(pl.when(pl.col(name)).then(pl.lit("True")).when(~pl.col(name)).then(pl.lit("False")))

    def integer(name: str) -> pl.Expr:
        return _text_or_null(pl.col(name).cast(pl.Int64).cast(pl.Utf8))

    rendered = {
        "player_lookup": stripped("player_lookup"),
        "universal_player_id": stripped("universal_player_id"),
        "game_date": _text_or_null(pl.col("game_date").dt.to_string("%Y-%m-%d")),
        "game_id": stripped("game_id"),
        "features": pl.concat_str(pl.lit("["), vector, pl.lit("]")),
        "feature_names": pl.lit(names_text),
        "feature_count": integer("feature_count"),
        "feature_version": stripped("feature_version"),
        "feature_quality_score": _text_or_null(
            pl.Series(python_float_texts(fields.get_column("feature_quality_score")))
        ),
        "opponent_team_abbr": stripped("opponent_team_abbr"),
        "is_home": boolean("is_home"),
        "days_rest": integer("days_rest"),
        "data_source": stripped("data_source"),
        "early_season_flag": boolean("early_season_flag"),
        "insufficient_data_reason": stripped("insufficient_data_reason"),
    }
    return rendered


HASH_ORDER = sorted(HASH_FIELDS)
# With no field name a prefix of another, sorting "<field>:<text>" strings is sorting by
# field name, so one fixed order serves every row.
assert not any(a != b and b.startswith(a) for a in HASH_ORDER for b in HASH_ORDER)
# The fields before `features` in that order (data_source .. feature_version, feature_names
# among them) take few distinct values in a run; their text is the head of the hashed text.
HEAD_FIELDS = HASH_ORDER[: HASH_ORDER.index("features")]


def _labelled(names: list[str], rendered: dict[str, Any]) -> Any:
    """`<field>:<text>` of `names` (consecutive fields of HASH_ORDER) joined by `|`, with the
    `|` before the first one unless it is the first field of all."""
    parts = []
    for name in names:
        parts += [pl.lit(("|" if HASH_ORDER.index(name) else "") + name + ":"), rendered[name]]
    return pl.concat_str(parts)


def hash_texts(fields: pl.DataFrame, width: int) -> pl.Series:
    """The text docs/output.md §3 hashes, per row, from the 15 fields in their in-memory form:
    `features` = List[Float64] with null = none and NaN kept (exactly `width` elements),
    `feature_names` = List[Utf8] (one value for every row is enough: it is a constant),
    `feature_quality_score` = the rounded float."""
    rendered = _rendered_fields(fields, width)
    return fields.select(_labelled(HASH_ORDER, rendered).alias("hash_text")).to_series()


def data_hashes(fields: pl.DataFrame, width: int, feature_names: list[str] | None = None) -> pl.Series:
    """data_hash (docs/output.md §3) of every row: first 16 hex digits of SHA-256 of `hash_texts`.
    `feature_names`, when given, is the feature_names of every row (then `fields` need not
    hold that column: output_rows passes the contract's names instead of a column of copies).

    The text is hashed in two pieces: the head (the fields before `features`, the long
    feature_names among them) is hashed once per distinct head, and each row's hash continues
    from a copy of that state with the rest of its text. SHA-256 of head + rest is the same
    either way; the long constant is neither copied into nor hashed for every row."""
    rendered = _rendered_fields(fields, width, feature_names)
    keys = [name for name in HEAD_FIELDS if name != "feature_names"]  # feature_names: one value
    pieces = fields.select(
        *(rendered[name].alias(name) for name in keys),
        _labelled(HASH_ORDER[len(HEAD_FIELDS) :], rendered).alias("_rest"),
    ).with_row_index("_row")
    groups = pieces.group_by(keys, maintain_order=True).agg(pl.col("_row"))
    heads = groups.select(_labelled(HEAD_FIELDS, {**rendered, **{k: pl.col(k) for k in keys}})).to_series()
    # the head of each row, as an index into `heads`
    head_of_row = np.empty(pieces.height, dtype=np.int64)
    head_of_row[groups.get_column("_row").explode().to_numpy()] = np.repeat(
        np.arange(groups.height), groups.get_column("_row").list.len().to_numpy()
    )
    rests = pieces.get_column("_rest").to_arrow()
    rests = (rests.combine_chunks() if isinstance(rests, pa.ChunkedArray) else rests).cast(pa.large_string())
    # hash straight from the UTF-8 buffer: no Python str per row
    _, offsets, data = rests.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64)[rests.offset : rests.offset + len(rests) + 1].tolist()
    utf8 = memoryview(data) if data is not None else memoryview(b"")
    states = [hashlib.sha256(head.encode("utf-8")).copy for head in heads.to_list()]
    digests: list[bytes] = []
    keep = digests.append
    for head, a, b in zip(head_of_row.tolist(), bounds, bounds[1:]):
        row = states[head]()
        row.update(utf8[a:b])
        keep(row.digest())
    # the first HASH_LENGTH hex digits = the first HASH_LENGTH / 2 bytes of each digest, in hex
    leading = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 32)[:, : HASH_LENGTH // 2]
    texts = pa.Array.from_buffers(
        pa.string(),
        len(digests),
        [
            None,
            pa.py_buffer(np.arange(0, (len(digests) + 1) * HASH_LENGTH, HASH_LENGTH, dtype=np.int32)),
            pa.py_buffer(leading.tobytes().hex().encode("ascii")),
        ],
    )
    return pl.Series("data_hash", texts, dtype=pl.Utf8)


def _key(frame: pl.DataFrame, mask: pl.Series) -> str:
    rows = frame.filter(mask)
    first = rows.row(0, named=True)
    more = f" (and {rows.height - 1} more row(s))" if rows.height > 1 else ""
    return f"player_lookup={first['player_lookup']!r}, game_date={first['game_date']}{more}"


def _refuse_if(frame: pl.DataFrame, mask: pl.Series, problem: str) -> None:
    mask = mask.fill_null(False)
    if mask.any():
        raise ValueError(f"{problem}: {_key(frame, mask)}")


def _checked_input(
    assembled: pl.DataFrame, width: int, extra: tuple[str, ...] = (), composite_flag: bool = True
) -> pl.DataFrame:
    wanted: dict[str, Any] = dict(ASSEMBLED_COLUMNS)
    if not composite_flag and "composite_fallback" not in assembled.columns:
        # a contract that writes no fallback reason needs no composite flag
        assembled = assembled.with_columns(pl.lit(False).alias("composite_fallback"))
    for name in extra:
        wanted[name] = OPTIONAL_ASSEMBLED_COLUMNS[name]
    missing = [c for c in wanted if c not in assembled.columns]
    if missing:
        raise ValueError(f"assembled frame lacks the columns {missing}")
    frame = assembled.select(pl.col(c).cast(t) if t is not None else pl.col(c) for c, t in wanted.items())
    for column in NOT_NULL_INPUTS:
        _refuse_if(frame, frame.get_column(column).is_null(), f"NULL {column}")
    placeholder = frame.get_column("is_placeholder")
    tags = frame.get_column("feature_tags")
    values = frame.get_column("feature_values")
    scored = ~placeholder
    _refuse_if(frame, scored & tags.is_null(), "scored row without feature_tags")
    _refuse_if(frame, placeholder & tags.is_not_null(), "placeholder row with feature_tags")
    _refuse_if(frame, scored & (tags.list.len() != width), f"feature_tags without exactly {width} tags")
    _refuse_if(frame, scored & values.is_null(), "scored row without feature_values")
    _refuse_if(
        frame, values.is_not_null() & (values.list.len() != width), f"feature_values without exactly {width} values"
    )
    _refuse_if(
        frame,
        placeholder & values.is_not_null() & (values.list.eval(pl.element().is_not_null()).list.any()),
        "placeholder row with feature values",
    )
    if values.explode().is_infinite().any():  # the per-row search only to name the rows
        _refuse_if(frame, values.list.eval(pl.element().is_infinite()).list.any(), "±Inf in feature_values")
    _refuse_if(frame, scored & frame.get_column("composite_fallback").is_null(), "NULL composite_fallback")
    _refuse_if(frame, scored & frame.get_column("historical_completeness").is_null(), "NULL historical_completeness")
    for name in extra:
        _refuse_if(frame, scored & frame.get_column(name).is_null(), f"NULL {name} on a scored row")
    return frame


def _sources_json(tags: pl.Series, rules: quality.ScorerRules, width: int, codes: np.ndarray) -> pa.Array:
    """feature_sources_json (docs/output.md §4), NULL without tags: `"<i>": "<tag>"` fragments
    (each serialised by json.dumps) joined per distinct tag pattern, then spread to the rows."""
    labels = list(rules.tags)
    has_tags = tags.is_not_null().to_numpy()
    if not has_tags.any():
        return pa.nulls(len(has_tags), pa.string())
    rows = np.ascontiguousarray(codes[has_tags])
    patterns, which = np.unique(rows.view(np.dtype((np.void, width))), return_inverse=True)
    pattern_codes = np.frombuffer(patterns.tobytes(), dtype=codes.dtype).reshape(-1, width).astype(np.int64)
    fragments = pa.array(
        [f"{json.dumps(str(i))}: {json.dumps(label)}" for i in range(width) for label in labels], pa.large_string()
    )
    cells = pattern_codes + (np.arange(width, dtype=np.int64) * len(labels))[None, :]
    joined = _joined_rows(pl.Series(fragments.take(pa.array(cells.ravel()))), width, ", ")
    texts = ["{" + text + "}" for text in joined.to_pylist()]
    # spread to the rows from buffers: Arrow's take of long texts costs ~0.1 s per 25k rows
    encoded = [text.encode("utf-8") for text in texts]
    which = which.ravel()
    lengths = np.zeros(len(has_tags), dtype=np.int64)
    lengths[has_tags] = np.array([len(b) for b in encoded], dtype=np.int64)[which]
    offsets = np.zeros(len(has_tags) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = pa.py_buffer(b"".join([encoded[k] for k in which.tolist()]))
    validity = None if has_tags.all() else pa.array(has_tags, pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(
        pa.large_string(), len(has_tags), [validity, pa.py_buffer(offsets), data], null_count=int((~has_tags).sum())
    )


def _constant(value, placeholder_value, arrow_type: pa.DataType, placeholder: np.ndarray) -> pa.Array:
    """A column holding `value` on scored rows and `placeholder_value` on placeholder rows."""
    if not placeholder.any():
        # the usual part of a run: one value throughout, built once per (value, type) and
        # shared, sliced to length, by every such part (Arrow arrays are immutable)
        return _uniform_column(_frozen(value), arrow_type, len(placeholder))
    return _mixed_column(value, placeholder_value, arrow_type, placeholder)


def _frozen(value):
    """A hashable key for a cell value (bool True and int 1 kept apart)."""
    return ("list", tuple(value)) if isinstance(value, list) else (type(value).__name__, value)


# (frozen value, Arrow type) -> the longest uniform column built so far, oldest first
_UNIFORM_COLUMNS: dict[tuple, pa.Array] = {}
_UNIFORM_LIMIT = 64


def _uniform_column(frozen, arrow_type: pa.DataType, rows: int) -> pa.Array:
    """`rows` rows of one value: a zero-copy slice of the longest such column built so far, so
    the parts of a run (of differing lengths) build each constant once, not once per length."""
    key = (frozen, arrow_type)
    built = _UNIFORM_COLUMNS.get(key)
    if built is None or len(built) < rows:
        kind, value = frozen
        value = list(value) if kind == "list" else value  # the other kinds hold the value itself
        built = _mixed_column(value, value, arrow_type, np.zeros(rows, dtype=bool))
        _UNIFORM_COLUMNS.pop(key, None)
        while len(_UNIFORM_COLUMNS) >= _UNIFORM_LIMIT:
            del _UNIFORM_COLUMNS[next(iter(_UNIFORM_COLUMNS))]
        _UNIFORM_COLUMNS[key] = built
    return built.slice(0, rows)


def _mixed_column(value, placeholder_value, arrow_type: pa.DataType, placeholder: np.ndarray) -> pa.Array:
    if pa.types.is_string(arrow_type) and _repeatable(value, placeholder_value, str):
        return _repeated_texts(value, placeholder_value, placeholder)
    if (
        pa.types.is_list(arrow_type)
        and pa.types.is_string(arrow_type.value_type)
        and _repeatable(value, placeholder_value, list)
    ):
        per_row = np.where(placeholder, len(placeholder_value), len(value))
        offsets = np.zeros(len(placeholder) + 1, dtype=np.int32)
        np.cumsum(per_row, out=offsets[1:])
        if value == placeholder_value:
            items, times = value, len(placeholder)
        else:
            items = value or placeholder_value
            times = int((~placeholder if value else placeholder).sum())
        texts = _tiled_texts(items, times) if items else pa.array([], pa.string())
        return pa.ListArray.from_arrays(pa.array(offsets), texts, type=arrow_type)
    return pa.array([value, placeholder_value], arrow_type).take(pa.array(placeholder.astype(np.int8)))


def _repeatable(value, placeholder_value, kind: type) -> bool:
    """True when the two cell values are of `kind` (or NULL) and at most one of them has
    content, so the column's data is one text repeated (built from buffers, not per row)."""
    if not all(v is None or isinstance(v, kind) for v in (value, placeholder_value)):
        return False
    if kind is list and (value is None or placeholder_value is None):
        return False
    return not value or not placeholder_value or value == placeholder_value


def _tiled_texts(items: list[str], times: int) -> pa.Array:
    """A string array of `items` repeated `times` times, from its buffers."""
    encoded = [t.encode("utf-8") for t in items]
    lengths = np.tile(np.array([len(b) for b in encoded], dtype=np.int64), times)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = pa.py_buffer(b"".join(encoded) * times)
    if offsets[-1] < 2**31:
        return pa.Array.from_buffers(pa.string(), len(lengths), [None, pa.py_buffer(offsets.astype(np.int32)), data])
    return pa.Array.from_buffers(pa.large_string(), len(lengths), [None, pa.py_buffer(offsets), data])


def _repeated_texts(value: str | None, placeholder_value: str | None, placeholder: np.ndarray) -> pa.Array:
    """`value` on scored rows, `placeholder_value` on placeholder rows (None = NULL), when
    they are equal or one of them is NULL or empty."""
    rows = len(placeholder)
    if value is not None and value == placeholder_value:
        return _tiled_texts([value], rows)
    present = np.where(placeholder, placeholder_value is not None, value is not None)
    text = value if value else (placeholder_value or "")
    encoded = text.encode("utf-8")
    holds_text = ~placeholder if value else placeholder
    lengths = np.where(holds_text & present, len(encoded), 0).astype(np.int64)
    offsets = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = pa.py_buffer(encoded * int((holds_text & present).sum()))
    validity = None if present.all() else pa.array(present, pa.bool_()).buffers()[1]
    nulls = int((~present).sum())
    if offsets[-1] < 2**31:
        return pa.Array.from_buffers(
            pa.string(), rows, [validity, pa.py_buffer(offsets.astype(np.int32)), data], null_count=nulls
        )
    return pa.Array.from_buffers(pa.large_string(), rows, [validity, pa.py_buffer(offsets), data], null_count=nulls)


def _score_decimal(scores: pl.Series) -> pa.Array:
    """NUMERIC(5,2) from the rounded float scores, exactly: the unscaled integer is the
    nearest integer to 100 x score (score is the float nearest to a 2-decimal value)."""
    cents = np.rint(scores.to_numpy() * 100.0).astype(np.int64)
    if len(cents) and (cents.min() < -99999 or cents.max() > 99999):
        raise ValueError("feature_quality_score does not fit NUMERIC(5,2)")
    words = np.empty((len(cents), 2), dtype=np.int64)  # little-endian 128-bit two's complement
    words[:, 0] = cents
    words[:, 1] = cents >> 63
    return pa.Array.from_buffers(SCORE_TYPE, len(cents), [None, pa.py_buffer(words.tobytes())])


def _flag_lists(flags: pl.Series, item: str) -> pa.Array:
    """[item] where the flag is set, [] elsewhere."""
    mask = flags.fill_null(False).to_numpy().astype(bool)
    offsets = np.zeros(len(mask) + 1, dtype=np.int64)
    np.cumsum(mask, out=offsets[1:])
    return pa.LargeListArray.from_arrays(pa.array(offsets), pa.array([item] * int(mask.sum()), pa.large_string()))


def _scored_only(column: pl.Series, placeholder: np.ndarray) -> pa.Array:
    """The column on scored rows, NULL on placeholder rows."""
    values = column.to_arrow()
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if not placeholder.any():
        return values
    return pc.if_else(pa.array(placeholder), pa.nulls(len(values), values.type), values)


def _value_columns(
    grid: np.ndarray, absent: np.ndarray, codes: np.ndarray, rules: quality.ScorerRules, placeholder: np.ndarray
) -> dict[str, pa.Array]:
    """feature_N_value (docs/v2_54/output.md §1 #192-251): the in-memory value of feature N when
    its raw tag is not a defaulted one (default / missing / fallback), else NULL; NULL on
    placeholder rows. `grid`: the rows x width in-memory values, `absent`: where they are NULL."""
    width = grid.shape[1]
    defaulted = np.array([r.defaulted for r in quality._code_rules(rules)])[codes]
    # one contiguous row of the transposed grids per output column
    hidden = np.ascontiguousarray((defaulted | absent | placeholder[:, None]).T)
    # 0.0 under the NULLs (they would hold NaN): `_refuse_non_finite` then finds every column
    # finite from its data buffer alone
    by_feature = np.where(hidden, 0.0, grid.T)
    # each column straight from its row of the grids: the values as they are, the validity
    # bitmap of each row packed in one call (a row of packbits starts on a byte)
    valid = np.packbits(~hidden, axis=1, bitorder="little")
    nulls = hidden.sum(axis=1).tolist()
    return {
        f"feature_{i}_value": pa.Array.from_buffers(
            pa.float64(),
            len(placeholder),
            [pa.py_buffer(valid[i]) if nulls[i] else None, pa.py_buffer(by_feature[i])],
            null_count=nulls[i],
        )
        for i in range(width)
    }


def _finite_data(column: pa.ChunkedArray, arrow_type: pa.DataType) -> bool:
    """True when the float64 data buffers of a float64 column (or of a list of float64) hold
    only finite numbers (NULL slots included, so False may be a false alarm, never a miss)."""
    for chunk in column.chunks:
        if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
            chunk = chunk.values
        if chunk.type != pa.float64():
            return False
        data = chunk.buffers()[1]
        if data is not None and len(chunk):
            values = np.frombuffer(data, dtype=np.float64)[chunk.offset : chunk.offset + len(chunk)]
            if not np.isfinite(values).all():
                return False
    return True


def _refuse_non_finite(table: pa.Table, keys: pl.DataFrame) -> None:
    """docs/output.md §1: no NaN or ±Inf in any column or array element."""
    for field in table.schema:
        column = table.column(field.name)
        if _finite_data(column, field.type):
            continue  # every value finite, the slots under NULLs too: nothing to refuse
        if pa.types.is_list(field.type) and pa.types.is_floating(field.type.value_type):
            flat = pc.list_flatten(column)
            parents = pc.list_parent_indices(column)
            bad_flat = pc.invert(pc.is_finite(flat)).fill_null(False) if len(flat) else pa.array([], pa.bool_())
            bad = np.zeros(table.num_rows, dtype=bool)
            bad[np.asarray(parents)[np.asarray(bad_flat, dtype=bool)]] = True
        elif pa.types.is_floating(field.type):
            bad = np.asarray(pc.invert(pc.is_finite(column)).fill_null(False), dtype=bool)
        else:
            continue
        if bad.any():
            raise ValueError(f"NaN or ±Inf would reach output column {field.name}: {_key(keys, pl.Series(bad))}")


def output_rows(
    assembled: pl.DataFrame, run_ts: dt.datetime, profile: Profile = REFERENCE, timings: dict | None = None
) -> pa.Table:
    """The output rows of a run (docs/output.md §2), with exactly the output schema of the profile's
    contract (OUTPUT_SCHEMA for the reference contract).

    `run_ts` is the run's one UTC instant (aware): created_at and quality_computed_at.
    Placeholder rows (is_placeholder) get the placeholder fill of docs/output.md §2 / docs/quality.md §8;
    their feature values and tags must be absent (null).
    `timings`, when given, gains the seconds spent in quality.score ("score") and in the rest
    of this function ("rows": checks, data_hash, columns), added to any value already there.
    """
    began = time.perf_counter()
    contract = contract_of(profile)
    width = contract.feature_count
    schema = output_schema(contract)
    rules = quality.scorer_rules(profile)
    run_ts = quality.utc_instant(run_ts)
    frame = _checked_input(assembled, width, contract.output_extra_columns, profile.emit_fallback_reasons)
    placeholder = frame.get_column("is_placeholder")
    is_placeholder = placeholder.to_numpy().astype(bool)
    rows = frame.height

    scoring_began = time.perf_counter()
    codes = quality.tag_codes(frame.get_column("feature_tags"), rules, width)
    # a label outside the tag table or a NULL tag has a code past the table's (tag_codes); a
    # placeholder's NULL list is all absent codes and no error
    _refuse_if(
        frame,
        pl.Series(~is_placeholder & (codes >= len(rules.tags)).any(axis=1)),
        f"feature_tags outside {list(rules.tags)}",
    )
    scored = quality.score(
        frame.get_column("feature_tags"), profile, computed_at=run_ts, codes=codes, per_feature=False
    )
    per_feature = quality.per_feature_columns(codes, rules, ~is_placeholder)
    scoring_seconds = time.perf_counter() - scoring_began
    in_memory = (
        pl.select(
            pl.when(placeholder)
            .then(pl.lit([None] * width, dtype=pl.List(pl.Float64)))
            .otherwise(frame.get_column("feature_values"))
        ).to_series()
        if is_placeholder.any()
        else frame.get_column("feature_values")
    )
    flat_values = in_memory.explode() if rows else pl.Series([], dtype=pl.Float64)
    # the rows x width in-memory values (NULL read as NaN) and where they are NULL
    grid = flat_values.to_numpy().astype(np.float64, copy=False).reshape(rows, width)
    absent = flat_values.is_null().to_numpy().reshape(rows, width)
    # the stored array: NaN and NULL as 0.0
    stored = pa.LargeListArray.from_arrays(
        pa.array(np.arange(0, rows * width + 1, width, dtype=np.int64)),
        pa.array(np.where(np.isnan(grid), 0.0, grid).ravel(), pa.float64()),
    )

    identity = frame.select(
        "player_lookup", "universal_player_id", "game_date", "game_id", "opponent_team_abbr", "is_home", "days_rest"
    ).with_columns(
        in_memory.alias("features"),
        pl.lit(width, pl.Int64).alias("feature_count"),
        pl.lit(contract.feature_version).alias("feature_version"),
        scored.get_column("feature_quality_score"),
        scored.get_column("data_source"),
        placeholder.alias("early_season_flag"),
        pl.when(placeholder)
        .then(pl.lit(EARLY_SEASON_REASON))
        .otherwise(pl.lit(None, pl.Utf8))
        .alias("insufficient_data_reason"),
    )
    hashes = data_hashes(identity, width, contract.names)

    completeness_type = schema.field("historical_completeness").type
    completeness = frame.get_column("historical_completeness").to_arrow()
    completeness = completeness.combine_chunks() if isinstance(completeness, pa.ChunkedArray) else completeness
    completeness = completeness.cast(completeness_type)
    completeness = (
        pc.if_else(
            pa.array(placeholder.to_numpy().astype(bool)),
            pa.scalar(PLACEHOLDER_COMPLETENESS, completeness_type),
            completeness,
        )
        if rows
        else completeness
    )

    constants: dict[str, tuple[Any, Any]] = {
        name: (value, [] if pa.types.is_list(schema.field(name).type) else None)
        for name, value in quality.run_constants(profile, run_ts).items()
    }
    constants.update(
        feature_names=(contract.names, contract.names),
        feature_count=(width, width),
        feature_version=(contract.feature_version, contract.feature_version),
        created_at=(run_ts, run_ts),
        updated_at=(None, None),
    )
    columns = identity.with_columns(hashes)
    computed = {
        "features": stored,
        "feature_quality_score": _score_decimal(scored.get_column("feature_quality_score")),
        "historical_completeness": completeness,
        "feature_sources_json": _sources_json(frame.get_column("feature_tags"), rules, width, codes),
        "fallback_reasons": _flag_lists(
            frame.get_column("composite_fallback") & ~placeholder & profile.emit_fallback_reasons,
            COMPOSITE_FALLBACK_REASON,
        ),
        **per_feature,
        **{name: _scored_only(frame.get_column(name), is_placeholder) for name in contract.output_extra_columns},
        **(_value_columns(grid, absent, codes, rules, is_placeholder) if contract.feature_value_columns else {}),
    }
    arrays = {}
    for name in schema.names:
        arrow_type = schema.field(name).type
        if name in computed:
            arrays[name] = computed[name].cast(arrow_type)
        elif name in constants:
            arrays[name] = _constant(*constants[name], arrow_type, is_placeholder)
        else:
            source = columns if name in columns.columns else scored
            arrays[name] = source.get_column(name).to_arrow().cast(arrow_type)
    table = pa.Table.from_arrays([arrays[n] for n in schema.names], schema=schema)
    _refuse_non_finite(table, frame.select("player_lookup", "game_date"))
    if timings is not None:
        timings["score"] = timings.get("score", 0.0) + scoring_seconds
        timings["rows"] = timings.get("rows", 0.0) + time.perf_counter() - began - scoring_seconds
    return table
