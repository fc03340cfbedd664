"""`fsengine push` (docs/output.md §8): local checks, one load + one MERGE, reconciliation.

The BigQuery tests run against the local-bigquery emulator through the real google clients
(fixture `bq_emulator`); each test works in its own project so job listings are its own.
Rows are built here from the output schema with a seeded generator (values that stress the
write path: subnormals, 0.1+0.2, NULL vs 0.0, empty arrays, unicode, NULL struct fields).
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
import struct

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bqemu import create_target_table
from contract_table import NOT_EMITTED_SAMPLE, bigquery_fields

from fsengine.bigquery.tables import TableId
from fsengine.contracts import load_contract
from fsengine.errors import PushJobFailed, PushRefused, ReconciliationError
from fsengine.output.schema import KEY, OUTPUT_COLUMNS, OUTPUT_NAMES, OUTPUT_SCHEMA, output_dir, write_output
from fsengine.push import PushReport, push
from fsengine.push.checks import check_rows, check_target_schema
from fsengine.push.jobs import reconcile as _reconcile
from fsengine.push.jobs import redact
from fsengine.push.merge import render_merge

DATES = [dt.date(2026, 2, 3), dt.date(2026, 2, 4), dt.date(2026, 2, 5)]
OTHER_DATE = dt.date(2026, 1, 20)  # a target date the runs never touch
T_RUN = dt.datetime(2026, 11, 29, 6, 0, 0, 123456, tzinfo=dt.UTC)
T_OLD = dt.datetime(2026, 2, 6, 1, 2, 3, 4, tzinfo=dt.UTC)
PER_DATE = 100
TABLE = "ml_feature_store_v2"
DATASET = "nba_predictions"
# columns the target has and the engine never writes (docs/output.md §6)
EXTRA_COLUMNS = NOT_EMITTED_SAMPLE
NAMES = load_contract().names

# --------------------------------------------------------------------------- building rows

# No -0.0: the emulator's DuckDB storage conflates 0.0 and -0.0 within a column when it
# compresses a table on checkpoint (reproduced with duckdb 1.5.5 alone), so the sign of a zero
# cannot be checked offline.
_SPECIAL_FLOATS = [0.0, 5e-324, 0.1 + 0.2, 1e308, -2.5e-300, 0.35119999999999996, 17.11111111111111]


def _value(rng: random.Random, arrow_type: pa.DataType, nullable: bool):
    if pa.types.is_list(arrow_type):  # arrays are never NULL (docs/output.md §1), elements neither
        return [_value(rng, arrow_type.value_type, False) for _ in range(rng.choice([0, 0, 1, 3]))]
    if nullable and rng.random() < 0.15:
        return None
    if pa.types.is_struct(arrow_type):
        return {f.name: _value(rng, f.type, True) for f in arrow_type}
    if pa.types.is_string(arrow_type):
        return rng.choice(["phase4", "", "é漢字 ok", "a'b\"c`d", "x" * 40, "  padded  "])
    if pa.types.is_int64(arrow_type):
        return rng.choice([0, 1, -1, 37, 2**62, -(2**62)])
    if pa.types.is_float64(arrow_type):
        return rng.choice(_SPECIAL_FLOATS + [rng.uniform(-1e3, 1e3)])
    if pa.types.is_boolean(arrow_type):
        return rng.random() < 0.5
    if pa.types.is_date32(arrow_type):
        return dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(400))
    if pa.types.is_timestamp(arrow_type):
        return T_RUN - dt.timedelta(microseconds=rng.randrange(10**12))
    if pa.types.is_decimal(arrow_type):
        return decimal.Decimal(rng.randrange(0, 100_00)) / 100
    raise TypeError(arrow_type)


def make_rows(dates=DATES, per_date=PER_DATE, seed=7, players_offset=0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for date in dates:
        for p in range(per_date):
            row = {c.name: _value(rng, c.arrow_type, not c.required) for c in OUTPUT_COLUMNS}
            row.update(
                player_lookup=f"player{p + players_offset:04d}",
                game_date=date,
                game_id=f"{date:%Y%m%d}_LAL_GSW",
                features=[rng.choice(_SPECIAL_FLOATS + [rng.uniform(-50, 150)]) for _ in range(37)],
                feature_names=list(NAMES),
                feature_count=37,
                feature_version="v2_37features",
                feature_quality_score=None if p % 17 == 0 else decimal.Decimal(rng.randrange(0, 100_00)) / 100,
                created_at=T_RUN,
                updated_at=None,
                historical_completeness={
                    "games_found": rng.randrange(11),
                    "games_expected": 10,
                    "is_complete": rng.random() < 0.7,
                    "is_bootstrap": False,
                    "contributing_game_dates": [date - dt.timedelta(days=d) for d in range(rng.randrange(4))],
                },
            )
            rows.append(row)
    return rows


def to_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=OUTPUT_SCHEMA)


def write_run(tmp_path, rows, name="out"):
    out = tmp_path / name
    write_output(to_table(rows), out)
    return out


# --------------------------------------------------------------------------- the target


def target_schema(drop=(), retype=None):
    """The target's columns: the documented table written by hand from the spec (docs/output.md §2,
    tests/contract_table.py, not the code's schema), plus EXTRA_COLUMNS in the middle."""
    return bigquery_fields(drop=drop, retype=retype, extra_after={"opponent_team_abbr": EXTRA_COLUMNS})


@pytest.fixture
def bq(bq_emulator, bq_project):
    """(client, target id) with the dataset created and the target table empty."""

    client = bq_emulator.bigquery_client(bq_project)
    client.create_dataset(DATASET)
    return client, f"{bq_project}.{DATASET}.{TABLE}"


def create_target(client, target, **schema_changes):
    return create_target_table(client, target, target_schema(**schema_changes))


def seed_target(client, target, rows, extra_value="stored"):
    """Put rows into the target as an earlier writer would, with the non-emitted columns filled."""
    from google.cloud import bigquery

    extra = [{**r, "feature_generation_time_ms": 1234, "vegas_line_source": extra_value} for r in rows]
    config = bigquery.LoadJobConfig(
        schema=client.get_table(target).schema, source_format="PARQUET", write_disposition="WRITE_APPEND"
    )
    config.parquet_options = bigquery.ParquetOptions()
    config.parquet_options.enable_list_inference = True
    schema = OUTPUT_SCHEMA.append(pa.field("feature_generation_time_ms", pa.int64())).append(
        pa.field("vegas_line_source", pa.string())
    )
    import io

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(extra, schema=schema), buffer)
    buffer.seek(0)
    client.load_table_from_file(buffer, target, job_config=config).result()


def read_target(bq_emulator, client, target) -> dict:
    """Every stored row keyed by (player_lookup, game_date), read with Storage Read (exact Arrow values)."""
    from google.cloud.bigquery_storage_v1 import types

    project, dataset, table = target.split(".")
    reader = bq_emulator.read_client()
    session = reader.create_read_session(
        parent=f"projects/{project}",
        read_session=types.ReadSession(
            table=f"projects/{project}/datasets/{dataset}/tables/{table}", data_format=types.DataFormat.ARROW
        ),
        max_stream_count=1,
    )
    schema = pa.ipc.read_schema(pa.py_buffer(session.arrow_schema.serialized_schema))
    rows = []
    for stream in session.streams:
        for response in reader.read_rows(stream.name):
            batch = pa.ipc.read_record_batch(pa.py_buffer(response.arrow_record_batch.serialized_record_batch), schema)
            rows += batch.to_pylist()
    by_key: dict = {}
    for row in rows:
        by_key.setdefault((row["player_lookup"], row["game_date"]), []).append(row)
    return by_key


def count_rows(client, target) -> int:
    # tables.get().num_rows is stale after DML on the emulator
    return next(iter(client.query(f"SELECT COUNT(*) AS n FROM `{target}`").result())).n


def job_ids(client) -> set[str]:
    return {job.job_id for job in client.list_jobs(all_users=True)}


def staging_tables(client, target) -> list[str]:
    project, dataset, _ = target.split(".")
    return [t.table_id for t in client.list_tables(f"{project}.{dataset}") if "__fsengine_stage_" in t.table_id]


def _bits(value):
    """A comparable form of a value in which float64 bits, NULL vs 0.0 and Decimal scale do not blur."""
    if isinstance(value, float):
        return ("f", struct.pack("<d", value))
    if isinstance(value, decimal.Decimal):
        return ("d", value.normalize())
    if isinstance(value, list):
        return [_bits(v) for v in value]
    if isinstance(value, dict):
        return {k: _bits(v) for k, v in value.items()}
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return value


def assert_row_equal(stored: dict, expected: dict, skip=()):
    for name in OUTPUT_NAMES:
        if name in skip:
            continue
        assert _bits(stored[name]) == _bits(expected[name]), (name, stored["player_lookup"], stored["game_date"])


# --------------------------------------------------------------------------- end to end


def test_push_writes_rows_exactly_and_leaves_other_columns_and_dates_alone(tmp_path, bq_emulator, bq):
    client, target = bq
    create_target(client, target)
    rows = make_rows()
    # the target already holds: 20 keys of the run (older values) and one date the run does not touch
    old = make_rows(dates=DATES[:1], per_date=20, seed=99)
    for r in old:
        r["created_at"] = T_OLD
    untouched = make_rows(dates=[OTHER_DATE], per_date=15, seed=5)
    seed_target(client, target, old + untouched)
    out = write_run(tmp_path, rows)

    before = job_ids(client)
    report = push(out, client, target)
    sent = job_ids(client) - before

    assert sent == {report.load_job_id, report.merge_job_id}
    kinds = {client.get_job(j).job_type for j in sent}
    assert kinds == {"load", "query"}
    assert (report.rows, report.inserted, report.updated, report.deleted) == (len(rows), len(rows) - 20, 20, 0)
    assert report.run_dates == DATES and report.first_date == DATES[0] and report.last_date == DATES[-1]
    assert staging_tables(client, target) == []

    stored = read_target(bq_emulator, client, target)
    assert count_rows(client, target) == len(rows) + len(untouched)
    old_keys = {(r["player_lookup"], r["game_date"]) for r in old}
    for row in rows:
        (got,) = stored[(row["player_lookup"], row["game_date"])]
        key = (row["player_lookup"], row["game_date"])
        if key in old_keys:  # updated: creation time and the non-emitted columns survive
            assert_row_equal(got, row, skip={"created_at", "updated_at"})
            assert got["created_at"] == T_OLD
            assert got["updated_at"] is not None and got["updated_at"] > T_OLD
            assert (got["feature_generation_time_ms"], got["vegas_line_source"]) == (1234, "stored")
        else:  # inserted: the run's values, non-emitted columns NULL
            assert_row_equal(got, row)
            assert got["updated_at"] is None
            assert (got["feature_generation_time_ms"], got["vegas_line_source"]) == (None, None)
    for row in untouched:
        (got,) = stored[(row["player_lookup"], row["game_date"])]
        assert_row_equal(got, row)
        assert got["vegas_line_source"] == "stored"

    # same rows again: nothing changes but updated_at, no duplicates, still exactly two jobs
    before = job_ids(client)
    again = push(out, client, target)
    assert len(job_ids(client) - before) == 2
    assert (again.inserted, again.updated, again.deleted) == (0, len(rows), 0)
    assert count_rows(client, target) == len(rows) + len(untouched)
    restored = read_target(bq_emulator, client, target)
    for key, (got,) in stored.items():
        (now,) = restored[key]
        assert {k: _bits(v) for k, v in now.items() if k != "updated_at"} == {
            k: _bits(v) for k, v in got.items() if k != "updated_at"
        }
        if key[1] != OTHER_DATE:
            assert now["updated_at"] is not None
    text = again.render()
    assert "error" not in text
    assert f"pushed N={len(rows)} rows of {len(DATES)} game dates ({DATES[0]} .. {DATES[-1]})" in text
    assert f"inserted I=0, updated U={len(rows)}, deleted X=0" in text
    assert again.load_job_id in text and again.merge_job_id in text


def test_replace_deletes_keys_the_run_no_longer_produces_on_run_dates_only(tmp_path, bq_emulator, bq):
    client, target = bq
    create_target(client, target)
    untouched = make_rows(dates=[OTHER_DATE], per_date=10, seed=5)
    seed_target(client, target, untouched)
    rows = make_rows(per_date=40)
    push(write_run(tmp_path, rows), client, target)

    dropped = {
        (r["player_lookup"], r["game_date"])
        for r in rows
        if r["game_date"] == DATES[1] and r["player_lookup"] < "player0010"
    }
    kept = [r for r in rows if (r["player_lookup"], r["game_date"]) not in dropped]
    out = write_run(tmp_path, kept, name="out2")

    # without replace the stale rows stay
    plain = push(out, client, target)
    assert (plain.updated, plain.deleted) == (len(kept), 0)
    assert count_rows(client, target) == len(rows) + len(untouched)

    before = job_ids(client)
    report = push(out, client, target, replace=True)
    assert len(job_ids(client) - before) == 2
    assert (report.inserted, report.updated, report.deleted) == (0, len(kept), len(dropped))
    stored = read_target(bq_emulator, client, target)
    assert set(stored) == {(r["player_lookup"], r["game_date"]) for r in kept + untouched}
    for row in untouched:
        assert_row_equal(stored[(row["player_lookup"], row["game_date"])][0], row)

    # replace mode is idempotent
    again = push(out, client, target, replace=True)
    assert (again.inserted, again.updated, again.deleted) == (0, len(kept), 0)
    assert count_rows(client, target) == len(kept) + len(untouched)


def test_duplicate_keys_stored_in_the_target_are_a_warning(tmp_path, bq, bq_emulator):
    client, target = bq
    create_target(client, target)
    rows = make_rows(dates=DATES[:1], per_date=30)
    twice = [rows[3], rows[4]]
    seed_target(client, target, twice + twice)  # historical duplicates (docs/output.md §7)
    report = push(write_run(tmp_path, rows), client, target)
    assert (report.inserted, report.updated) == (28, 4)
    assert any("2 duplicate-key rows" in w for w in report.warnings)


def _duplicate_a_staged_key(client, target):
    # one target row, two source rows: the MERGE fails like on BigQuery
    (stage,) = staging_tables(client, target)
    project, dataset, _ = target.split(".")
    client.query(
        f"INSERT INTO `{project}.{dataset}.{stage}` SELECT * FROM `{project}.{dataset}.{stage}` LIMIT 1"
    ).result()


def _drop_a_target_column(client, target):
    # the target changed between the schema check and the MERGE
    client.query(f"ALTER TABLE `{target}` DROP COLUMN quality_alert_level").result()


@pytest.mark.parametrize("fault", [_duplicate_a_staged_key, _drop_a_target_column])
def test_failed_merge_leaves_target_unchanged_and_no_staging_table(tmp_path, bq_emulator, bq, fault):
    client, target = bq
    create_target(client, target)
    rows = make_rows(per_date=30)
    push(write_run(tmp_path, rows), client, target)
    before = read_target(bq_emulator, client, target)
    changed = [{**r, "quality_tier": "changed"} for r in rows[:50]] + make_rows(per_date=5, players_offset=500)
    out = write_run(tmp_path, changed, name="changed")

    def inject(message: str) -> None:
        if message.startswith("job 2/2"):
            fault(client, target)

    with pytest.raises(PushJobFailed) as failure:
        push(out, client, target, progress=inject)
    assert failure.value.exit_code == 3
    assert "MERGE" in str(failure.value) and "unchanged" in str(failure.value)
    after = read_target(bq_emulator, client, target)
    assert after.keys() == before.keys()
    for key, (row,) in after.items():
        assert _bits(row) == _bits({k: v for k, v in before[key][0].items() if k in row})
    assert staging_tables(client, target) == []


@pytest.mark.bigquery
def test_server_lost_before_the_merge(tmp_path):
    """The service disappears between the load and the MERGE: exit 3, the staging table is left
    to its expiration, and after a restart the target is as it was."""
    from bqemu import Emulator

    data = tmp_path / "emulator"
    project = "fse-lost-00001"
    emulator = Emulator.start(data_dir=data)
    try:
        client = emulator.bigquery_client(project)
        client.create_dataset(DATASET)
        target = f"{project}.{DATASET}.{TABLE}"
        create_target(client, target)
        rows = make_rows(dates=DATES[:1], per_date=20)
        push(write_run(tmp_path, rows), client, target)
        before = read_target(emulator, client, target)

        def stop(message: str) -> None:
            if message.startswith("job 2/2"):
                emulator.stop()

        changed = [{**r, "quality_tier": "changed"} for r in rows]
        with pytest.raises(PushJobFailed) as failure:
            push(write_run(tmp_path, changed, name="changed"), client, target, progress=stop, call_timeout=2)
    finally:
        emulator.stop()
    message = str(failure.value)
    assert failure.value.exit_code == 3
    assert "_merge" in message and "could not be looked up" in message
    assert "could not delete staging table" in message and "expiration" in message

    emulator = Emulator.start(data_dir=data)
    try:
        client = emulator.bigquery_client(project)
        after = read_target(emulator, client, target)
        assert after.keys() == before.keys()
        for key, (row,) in after.items():
            assert _bits(row) == _bits(before[key][0])
        (stage,) = staging_tables(client, target)
        expires = client.get_table(f"{project}.{DATASET}.{stage}").expires
        now = dt.datetime.now(dt.UTC)
        assert now < expires <= now + dt.timedelta(hours=24)
    finally:
        emulator.stop()


def test_refusals_happen_before_any_job(tmp_path, bq):
    client, target = bq
    create_target(client, target)
    rows = make_rows(dates=DATES[:2], per_date=20)

    def refused(bad_rows, name, **kwargs) -> str:
        out = write_run(tmp_path, bad_rows, name=name)
        before = job_ids(client)
        with pytest.raises(PushRefused) as refusal:
            push(out, client, kwargs.pop("to", target), **kwargs)
        assert refusal.value.exit_code == 2
        assert job_ids(client) == before
        assert staging_tables(client, target) == []
        return str(refusal.value)

    dup = rows + [dict(rows[5]), dict(rows[25])]
    message = refused(dup, "dup")
    assert f"({rows[5]['player_lookup']}, {rows[5]['game_date']})" in message
    assert f"({rows[25]['player_lookup']}, {rows[25]['game_date']})" in message

    nan = [dict(r) for r in rows]
    nan[3]["vegas_quality_pct"] = float("nan")
    nan[4]["features"] = nan[4]["features"][:36] + [float("inf")]
    nan[6]["features"] = nan[6]["features"][:36]
    nan[7]["quality_alerts"] = None
    nan[8]["historical_completeness"] = {**nan[8]["historical_completeness"], "contributing_game_dates": None}
    message = refused(nan, "nan")
    for needle in (
        "vegas_quality_pct is NaN",
        "features[] is NaN",
        "features does not have exactly 37",
        "quality_alerts is NULL",
        "contributing_game_dates is NULL",
        f"({rows[3]['player_lookup']}, {rows[3]['game_date']})",
    ):
        assert needle in message

    # the target's schema: a missing emitted column, an incompatible type
    project, dataset, _ = target.split(".")
    narrow = f"{project}.{dataset}.narrow"
    create_target(client, narrow, drop={"quality_tier", "feature_7_source"}, retype={"days_rest": "STRING"})
    narrow_before = client.get_table(narrow).schema
    assert [f.name for f in narrow_before] == [f.name for f in target_schema(drop={"quality_tier", "feature_7_source"})]
    assert {f.name: f.field_type for f in narrow_before}["days_rest"] == "STRING"
    message = refused(rows, "ok", to=narrow)
    assert "quality_tier" in message and "feature_7_source" in message and "days_rest" in message
    assert client.get_table(narrow).schema == narrow_before  # never altered

    small = f"{project}.{dataset}.small_score"
    create_target(client, small, retype={"feature_quality_score": "INT64"})
    assert "feature_quality_score" in refused(rows, "ok2", to=small)


def test_unreadable_rows_are_refused_naming_the_column(tmp_path, bq):
    client, target = bq
    create_target(client, target)
    rows = make_rows(dates=DATES[:1], per_date=5)
    loose = pa.schema([f.with_nullable(True) for f in OUTPUT_SCHEMA])
    folder = output_dir(tmp_path / "nulls")
    folder.mkdir(parents=True)
    bad = [dict(r) for r in rows]
    bad[2]["game_id"] = None
    pq.write_table(pa.Table.from_pylist(bad, schema=loose), folder / "part-00000.parquet")
    with pytest.raises(PushRefused, match="game_id is NULL"):
        push(tmp_path / "nulls", client, target)

    wide = pa.schema([pa.field(f.name, pa.decimal128(7, 3)) if f.name == "feature_quality_score" else f for f in loose])
    folder = output_dir(tmp_path / "score")
    folder.mkdir(parents=True)
    bad = [dict(r) for r in rows]
    bad[1]["feature_quality_score"] = decimal.Decimal("1234.567")
    pq.write_table(pa.Table.from_pylist(bad, schema=wide), folder / "part-00000.parquet")
    with pytest.raises(PushRefused, match="feature_quality_score does not fit NUMERIC"):
        push(tmp_path / "score", client, target)
    with pytest.raises(PushRefused, match="does not exist"):
        push(tmp_path / "nowhere", client, target)
    assert job_ids(client) == set()


@pytest.mark.parametrize("which", ["project", "dataset", "table"])
def test_unknown_target_is_named(tmp_path, bq, which):
    client, target = bq
    create_target(client, target)
    project, dataset, table = target.split(".")
    wrong = {
        "project": f"nosuch-{project}.{dataset}.{table}",
        "dataset": f"{project}.nosuch_ds.{table}",
        "table": f"{project}.{dataset}.nosuch_table",
    }[which]
    out = write_run(tmp_path, make_rows(dates=DATES[:1], per_date=3))
    with pytest.raises(PushRefused) as refusal:
        push(out, client, wrong)
    assert wrong.split(".")[["project", "dataset", "table"].index(which)] in str(refusal.value)
    assert job_ids(client) == set()


def test_dry_run_sends_no_job_and_creates_nothing(tmp_path, bq):
    client, target = bq
    create_target(client, target)
    rows = make_rows(per_date=10)
    before_tables = [t.table_id for t in client.list_tables(target.rsplit(".", 1)[0])]
    report = push(write_run(tmp_path, rows), client, target, dry_run=True, replace=True)
    assert job_ids(client) == set()
    assert [t.table_id for t in client.list_tables(target.rsplit(".", 1)[0])] == before_tables
    assert report.dry_run and report.rows == len(rows) and report.rows_per_date == {d: 10 for d in DATES}
    text = report.render()
    assert "MERGE" in text and "NOT MATCHED BY SOURCE" in text and "no job sent" in text
    assert all(str(d) in text for d in DATES)
    assert count_rows(client, target) == 0


def test_zero_rows_push_nothing(tmp_path, bq):
    client, target = bq
    out = tmp_path / "empty"
    write_output(OUTPUT_SCHEMA.empty_table(), out)
    report = push(out, client, target)  # the target does not even exist: nothing is looked up
    assert report.rows == 0 and report.notice and "nothing pushed" in report.notice
    assert job_ids(client) == set()


# --------------------------------------------------------------------------- without the emulator


def test_render_merge_names_every_emitted_column_and_only_them():
    target = TableId("my-project", "ds", "t")
    staging = TableId("my-project", "ds", "t__fsengine_stage_x")
    sql = render_merge(target, staging, replace=False)
    assert sql.startswith("MERGE `my-project`.`ds`.`t` AS T")
    insert = sql.split("INSERT (")[1].split(")")[0]
    assert [c.strip().strip("`") for c in insert.split(",")] == OUTPUT_NAMES
    values = sql.split("VALUES (")[1].split(")")[0]
    assert [c.strip() for c in values.split(",")] == [f"S.`{n}`" for n in OUTPUT_NAMES]
    update = sql.split("UPDATE SET")[1].split("WHEN NOT MATCHED")[0]
    assigned = [a.split("=")[0].strip().strip("`") for a in update.split(",")]
    assert assigned == [n for n in OUTPUT_NAMES if n not in {*KEY, "created_at", "updated_at"}] + ["updated_at"]
    assert "updated_at = CURRENT_TIMESTAMP()" in update
    assert "created_at" not in update
    assert "NOT MATCHED BY SOURCE" not in sql and "--" not in sql
    assert sql.count("IN UNNEST(@run_dates)") == 1
    replaced = render_merge(target, staging, replace=True)
    assert "WHEN NOT MATCHED BY SOURCE AND T.game_date IN UNNEST(@replace_dates) THEN DELETE" in replaced
    assert replaced.count("IN UNNEST(@run_dates)") == 1
    assert "2026" not in replaced  # no date is ever formatted in


@pytest.mark.parametrize("bad", ["p.d", "a.b.c.d", "my-project.d`x.t", "my-project.ds.t`;DROP", "UPPER-proj.d.t"])
def test_bad_target_names_are_refused(bad):
    with pytest.raises(PushRefused):
        TableId.parse(bad)


def test_check_rows_accepts_valid_rows_and_flags_each_problem():
    rows = make_rows(dates=DATES[:1], per_date=30)
    assert check_rows(to_table(rows)) == []
    bad = [dict(r) for r in rows]
    bad[0]["features"] = bad[0]["features"][:36] + [None]
    bad[1]["feature_3_quality"] = float("-inf")
    bad[2]["historical_completeness"] = None  # a NULL struct has no arrays: allowed
    problems = "\n".join(check_rows(to_table(bad)))
    assert "features has a NULL element" in problems and rows[0]["player_lookup"] in problems
    assert "feature_3_quality is NaN or ±Inf" in problems and rows[1]["player_lookup"] in problems
    assert "historical_completeness" not in problems


def test_target_schema_compatibility_rules():
    from google.cloud import bigquery

    fields, problems = check_target_schema(target_schema())
    assert problems == [] and list(fields) == OUTPUT_NAMES
    legacy = [
        bigquery.SchemaField(
            f.name,
            {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN"}.get(f.field_type, f.field_type),
            mode=f.mode,
            fields=f.fields,
            precision=f.precision,
            scale=f.scale,
        )
        for f in target_schema()
    ]
    assert check_target_schema(legacy)[1] == []
    for numeric, ok in (
        (dict(), True),
        (dict(precision=38, scale=9), True),
        (dict(precision=4, scale=2), False),
        (dict(precision=5, scale=1), False),
    ):
        schema = [
            bigquery.SchemaField(f.name, "NUMERIC", **numeric) if f.name == "feature_quality_score" else f
            for f in target_schema()
        ]
        assert (check_target_schema(schema)[1] == []) is ok, numeric
    scalar = [bigquery.SchemaField(f.name, "FLOAT64") if f.name == "features" else f for f in target_schema()]
    assert "features" in check_target_schema(scalar)[1][0]


def _merge_job(stats: dict | None, affected: int | None):
    from google.cloud import bigquery

    client = bigquery.Client(
        project="my-project",
        credentials=__import__("google.auth.credentials", fromlist=["AnonymousCredentials"]).AnonymousCredentials(),
    )
    query = {}
    if stats is not None:
        query["dmlStats"] = {k: str(v) for k, v in stats.items()}
    if affected is not None:
        query["numDmlAffectedRows"] = str(affected)
    resource = {
        "jobReference": {"projectId": "my-project", "jobId": "j"},
        "configuration": {"query": {"query": "MERGE"}},
        "statistics": {"query": query},
    }
    return bigquery.QueryJob.from_api_repr(resource, client)


@pytest.mark.parametrize(
    "stats, affected, replace, outcome",
    [
        ({"insertedRowCount": 6, "updatedRowCount": 4, "deletedRowCount": 0}, 10, False, "ok"),
        ({"insertedRowCount": 6, "updatedRowCount": 6, "deletedRowCount": 0}, 12, False, "warn"),
        ({"insertedRowCount": 6, "updatedRowCount": 3, "deletedRowCount": 0}, 9, False, "error"),
        ({"insertedRowCount": 6, "updatedRowCount": 4, "deletedRowCount": 2}, 12, False, "error"),
        ({"insertedRowCount": 6, "updatedRowCount": 4, "deletedRowCount": 2}, 12, True, "ok"),
        (None, 10, False, "ok"),
        (None, 9, False, "error"),
    ],
)
def test_reconciliation(stats, affected, replace, outcome):
    report = PushReport("p.d.t", "r", 10, DATES, {}, replace)
    job = _merge_job(stats, affected)
    if outcome == "error":
        with pytest.raises(ReconciliationError) as failure:
            _reconcile(job, report)
        assert failure.value.exit_code == 4
        return
    _reconcile(job, report)
    assert bool(report.warnings) is (outcome == "warn")
    if stats:
        assert (report.inserted, report.updated, report.deleted) == (
            6,
            stats["updatedRowCount"],
            stats["deletedRowCount"],
        )


def test_redact_removes_credentials():
    text = redact("401 GET https://x/y?access_token=ya29.abcDEF&alt=json Authorization: Bearer abc.def-ghi")
    assert "ya29" not in text and "abcDEF" not in text and "abc.def-ghi" not in text
    assert "https://x/y" in text


def test_push_with_config_targets_the_configured_table(tmp_path, bq_emulator, bq):
    from fsengine.config import load_config
    from fsengine.push import push_with_config

    client, target = bq
    create_target(client, target)
    # push reads the stored rows through the Storage Read API too: both endpoints
    config = load_config(
        project=target.split(".")[0],
        api_endpoint=bq_emulator.rest_url,
        storage_endpoint=bq_emulator.grpc_target,
        anonymous=True,
        environ={},
        cwd=tmp_path,
    )
    rows = make_rows(dates=DATES[:1], per_date=12)
    out = write_run(tmp_path, rows)
    report = push_with_config(out, config)  # default dataset/table: nba_predictions.ml_feature_store_v2
    assert report.target == target and (report.inserted, report.updated) == (12, 0)
    with pytest.raises(PushRefused, match="nosuch"):
        push_with_config(out, config, table="nosuch")
    assert count_rows(client, target) == 12
