"""The push reads the target before writing (fsengine/push/target.py): the contract guard, the
diff and --only-stale, against the local-bigquery emulator with the real google clients.

Expected figures are taken independently: from the rows the test planted, or from the target
through the emulator's query API — never from the code under test.
"""

from __future__ import annotations

import datetime as dt
import struct

import pyarrow as pa
import pytest
from test_push import DATASET, TABLE, count_rows, create_target, job_ids, make_rows, seed_target, write_run

from fsengine.errors import PushRefused
from fsengine.push import push
from fsengine.push.target import date_restriction

SOURCES = [f"feature_{i}_source" for i in range(37)]


def _with_sources(rows, value="phase4"):
    for row in rows:
        for name in SOURCES:
            row[name] = value
    return rows


@pytest.fixture
def bq(bq_emulator, bq_project):
    client = bq_emulator.bigquery_client(bq_project)
    client.create_dataset(DATASET)
    target = f"{bq_project}.{DATASET}.{TABLE}"
    create_target(client, target)
    return client, bq_emulator.read_client(), target


def _query(client, sql, **params):
    from google.cloud import bigquery

    config = bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.ScalarQueryParameter(name, "DATE" if isinstance(v, dt.date) else "STRING", v)
            for name, v in params.items()
        ]
    )
    return [dict(r.items()) for r in client.query(sql, job_config=config).result()]


def test_row_restriction_is_built_from_dates_only():
    assert date_restriction([dt.date(2026, 2, 4), dt.date(2026, 2, 3)]) == (
        "game_date IN (CAST('2026-02-03' AS DATE), CAST('2026-02-04' AS DATE))"
    )
    for bad in ["2026-02-03", "2026-02-03') OR TRUE --", dt.datetime(2026, 2, 3)]:
        with pytest.raises(TypeError):
            date_restriction([bad])


def test_guard_refuses_a_mixed_contract_target_without_a_job(tmp_path, bq):
    client, reader, target = bq
    dates = [dt.date(2026, 2, 3), dt.date(2026, 2, 4)]
    stored = _with_sources(make_rows(dates=dates, per_date=20, seed=1))
    for row in stored[20:27]:  # 7 rows of the second date written by an older contract
        row["feature_version"], row["feature_count"] = "v2_33features", 33
    seed_target(client, target, stored)
    seeded_jobs = job_ids(client)
    # the run produces 15 keys per date: 5 stored keys per date are not produced any more
    run = _with_sources(make_rows(dates=dates, per_date=15, seed=2))
    out = write_run(tmp_path, run)
    with pytest.raises(PushRefused) as refusal:
        push(out, client, target, read_client=reader)
    text = str(refusal.value)
    assert "2026-02-04" in text and "2026-02-03" not in text
    assert "v2_33features/33: 7 rows" in text and "v2_37features/37: 13 rows" in text and "15 rows" in text
    assert job_ids(client) == seeded_jobs  # no job sent

    report = push(out, client, target, read_client=reader, replace_contract=True)
    assert report.replace_dates == [dt.date(2026, 2, 4)]
    # the clashing date is written whole: exactly the run's 15 keys, one contract
    second = _query(
        client,
        f"SELECT feature_version, feature_count, COUNT(*) AS n FROM `{target}` WHERE game_date = @d GROUP BY 1, 2",
        d=dt.date(2026, 2, 4),
    )
    assert second == [{"feature_version": "v2_37features", "feature_count": 37, "n": 15}]
    # the other date is upserted: its 5 keys the run no longer produces stay
    assert _query(client, f"SELECT COUNT(*) AS n FROM `{target}` WHERE game_date = @d", d=dt.date(2026, 2, 3)) == [
        {"n": 20}
    ]
    assert (report.inserted, report.updated, report.deleted) == (0, 30, 5)


def _bits(v):
    return None if v is None else struct.pack("<d", v)


def test_diff_counts_equal_counts_taken_from_the_target(tmp_path, bq):
    client, reader, target = bq
    dates = [dt.date(2026, 2, 3), dt.date(2026, 2, 4), dt.date(2026, 2, 5)]
    run = _with_sources(make_rows(dates=dates, per_date=30, seed=3))
    stored = [dict(r) for r in make_rows(dates=dates, per_date=25, seed=3, players_offset=0)]
    _with_sources(stored)
    # stored players 0..24 of each date; 10..24 carry the run's own hash and features, some lack sources
    by_key = {(r["player_lookup"], r["game_date"]): r for r in run}
    extra = []
    for i, row in enumerate(stored):
        p = int(row["player_lookup"][-4:])
        if p >= 10:
            row.update(
                data_hash=by_key[(row["player_lookup"], row["game_date"])]["data_hash"],
                features=list(by_key[(row["player_lookup"], row["game_date"])]["features"]),
            )
        if i % 4 == 0:
            for name in ("feature_0_source", "feature_5_source"):
                row[name] = None
    extra = _with_sources(make_rows(dates=dates[1:2], per_date=3, seed=9, players_offset=500))  # not in the run
    seed_target(client, target, stored + extra)
    out = write_run(tmp_path, run)
    seeded_jobs = job_ids(client)
    report = push(out, client, target, read_client=reader, replace=True, dry_run=True, diff_features=True)
    assert job_ids(client) == seeded_jobs

    # independently: the stored rows through the query API, compared with the run's rows here
    stored_now = _query(
        client,
        f"SELECT player_lookup, game_date, data_hash, features, "
        f"feature_0_source IS NULL OR feature_5_source IS NULL AS nosrc FROM `{target}`",
    )
    stored_by_key = {(r["player_lookup"], r["game_date"]): r for r in stored_now}
    width = 37
    feature_changes = [0] * width
    for date in dates:
        run_keys = {(r["player_lookup"], r["game_date"]) for r in run if r["game_date"] == date}
        stored_keys = {k for k in stored_by_key if k[1] == date}
        matched = run_keys & stored_keys
        # a NULL stored data_hash proves nothing about the content: counted as changed
        same = sum(
            1
            for k in matched
            if stored_by_key[k]["data_hash"] is not None and stored_by_key[k]["data_hash"] == by_key[k]["data_hash"]
        )
        d = report.diff.per_date[date]
        assert d.insert == len(run_keys - stored_keys)
        assert d.update_same == same and d.update_changed == len(matched) - same
        assert d.delete == len(stored_keys - run_keys)
        assert d.repaired == sum(1 for k in matched if stored_by_key[k]["nosrc"])
        for k in matched:
            for i in range(width):
                if _bits(stored_by_key[k]["features"][i]) != _bits(by_key[k]["features"][i]):
                    feature_changes[i] += 1
    assert report.diff.feature_changes == dict(enumerate(feature_changes))
    assert report.diff.total.delete == 3 and report.diff.total.insert == 15
    assert "target diff over 3 dates" in report.render()

    # the real push: the diff is printed before the jobs, and the MERGE's counts agree with it
    real = push(out, client, target, read_client=reader, replace=True)
    total = real.diff.total
    assert (real.inserted, real.updated, real.deleted) == (
        total.insert,
        total.update_changed + total.update_same,
        total.delete,
    )


def _stale_world():
    """120 dates over 2021, 2025 and 2026, 40 rows each; the target holds the run's own rows
    except on the planted dates: 3,594 rows without sources on exactly 100 dates, plus one date
    missing keys and one date whose stored rows differ (another data_hash)."""
    dates = (
        [dt.date(2021, 1, 1) + dt.timedelta(days=i) for i in range(40)]
        + [dt.date(2025, 3, 1) + dt.timedelta(days=i) for i in range(40)]
        + [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(40)]
    )
    run = _with_sources(make_rows(dates=dates, per_date=40, seed=5))
    for row in run:  # the engine always sets data_hash (a NULL stored hash would count as differing)
        row["data_hash"] = f"{row['player_lookup']}{row['game_date']:%Y%m%d}"
    stored = [dict(r) for r in run]
    sourceless_dates = dates[:34] + dates[40:73] + dates[80:113]  # 100 dates across the 3 years
    per_date = {d: 36 for d in sourceless_dates[:94]} | {d: 35 for d in sourceless_dates[94:]}
    assert sum(per_date.values()) == 3594
    seen: dict = {}
    for row in stored:
        d = row["game_date"]
        if seen.get(d, 0) < per_date.get(d, 0):
            seen[d] = seen.get(d, 0) + 1
            for name in SOURCES:
                row[name] = None
    missing_date, differing_date = dates[35], dates[115]
    stored = [r for r in stored if not (r["game_date"] == missing_date and r["player_lookup"] < "player0003")]
    for row in stored:
        if row["game_date"] == differing_date and row["player_lookup"] == "player0007":
            row["data_hash"] = "0000000000000000"
    return dates, run, stored, sourceless_dates, missing_date, differing_date


def test_only_stale_pushes_exactly_the_planted_stale_dates(tmp_path, bq):
    client, reader, target = bq
    dates, run, stored, sourceless, missing_date, differing_date = _stale_world()
    seed_target(client, target, stored)
    out = write_run(tmp_path, run)
    expected = sorted([*sourceless, missing_date, differing_date])

    plan = push(out, client, target, read_client=reader, only_stale=True, dry_run=True)
    assert [s.date for s in plan.stale] == expected
    assert plan.run_dates == expected and plan.rows == 40 * len(expected)
    reasons = {s.date: s.reasons for s in plan.stale}
    assert reasons[missing_date] == ["3 keys missing from the target"]
    assert reasons[differing_date] == ["1 rows differing from a fresh computation"]
    assert reasons[sourceless[0]] == ["36 stored rows without sources"]
    text = plan.render()
    assert f"stale dates: {len(expected)} of {len(dates)}" in text and str(differing_date) in text

    before_jobs = job_ids(client)
    report = push(out, client, target, read_client=reader, only_stale=True)
    assert len(job_ids(client) - before_jobs) == 2
    assert (report.inserted, report.updated) == (3, 40 * len(expected) - 3)
    # only the stale dates were touched (updated_at stamped); the other dates kept their rows
    touched = _query(
        client, f"SELECT DISTINCT game_date FROM `{target}` WHERE updated_at IS NOT NULL ORDER BY game_date"
    )
    assert [r["game_date"] for r in touched] == expected
    assert _query(client, f"SELECT COUNT(*) AS n FROM `{target}` WHERE feature_0_source IS NULL") == [{"n": 0}]
    assert count_rows(client, target) == 40 * len(dates)

    again = push(out, client, target, read_client=reader, only_stale=True)
    assert again.stale == [] and "no stale date" in again.render()


def test_an_unreachable_storage_endpoint_stops_the_push_before_any_job(tmp_path, bq_emulator, bq):
    """The stored rows are read with snapshot's call-timeout discipline: a Storage endpoint
    that does not answer ends the push within the call timeout, before any job."""
    import socket
    import time

    from fsengine.config import load_config
    from fsengine.errors import Unreachable
    from fsengine.push import push_with_config

    client, _, target = bq
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{probe.getsockname()[1]}"
    config = load_config(
        project=target.split(".")[0],
        api_endpoint=bq_emulator.rest_url,
        storage_endpoint=dead,
        anonymous=True,
        call_timeout=3,
        environ={},
        cwd=tmp_path,
    )
    out = write_run(tmp_path, _with_sources(make_rows(dates=[dt.date(2026, 2, 3)], per_date=5)))
    began = time.monotonic()
    with pytest.raises(Unreachable, match="Storage Read"):
        push_with_config(out, config)
    assert time.monotonic() - began < 15
    assert job_ids(client) == set() and count_rows(client, target) == 0


# --------------------------------------------------------------------------- a v2_54 target


def _v54_target(client, target):
    """The v2_54 table: the documented columns of tests/contract_table.py where they are shared,
    the v2_54-only columns from output_columns(v2_54features) with their documented types."""
    from bqemu import create_target_table
    from contract_table import bigquery_fields
    from google.cloud import bigquery

    from fsengine.contracts import load_contract
    from fsengine.output.schema import output_columns

    documented = {f.name: f for f in bigquery_fields()}
    fields = []
    for c in output_columns(load_contract("v2_54features")):
        if c.name in documented:
            fields.append(documented[c.name])
        else:
            repeated = c.bq_type.startswith("ARRAY<")
            base = c.bq_type[6:-1] if repeated else c.bq_type.split("(")[0]
            fields.append(
                bigquery.SchemaField(
                    c.name, base, mode="REPEATED" if repeated else ("REQUIRED" if c.required else "NULLABLE")
                )
            )
    create_target_table(client, target, fields)


def _v54_rows(dates, per_date, seed):
    import random

    from test_push import _value

    from fsengine.contracts import load_contract
    from fsengine.output.schema import output_columns

    contract = load_contract("v2_54features")
    rng = random.Random(seed)
    rows = []
    for date in dates:
        for p in range(per_date):
            row = {c.name: _value(rng, c.arrow_type, not c.required) for c in output_columns(contract)}
            row.update({f"feature_{i}_source": "phase4" for i in range(60)})
            row.update(
                player_lookup=f"player{p:04d}",
                game_date=date,
                game_id=f"{date:%Y%m%d}_LAL_GSW",
                features=[rng.uniform(-50, 150) for _ in range(60)],
                feature_names=list(contract.names),
                feature_count=60,
                feature_version="v2_54features",
                feature_quality_score=None,
                data_hash=f"{p:04d}{date:%m%d}",
                historical_completeness=None,
            )
            rows.append(row)
    return rows


def _v54_table(rows):
    from fsengine.contracts import load_contract
    from fsengine.output.schema import output_schema

    return pa.Table.from_pylist(rows, schema=output_schema(load_contract("v2_54features")))


def _load(client, target, table):
    import io

    import pyarrow.parquet as pq
    from google.cloud import bigquery

    config = bigquery.LoadJobConfig(
        schema=client.get_table(target).schema, source_format="PARQUET", write_disposition="WRITE_APPEND"
    )
    config.parquet_options = bigquery.ParquetOptions()
    config.parquet_options.enable_list_inference = True
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    buffer.seek(0)
    client.load_table_from_file(buffer, target, job_config=config).result()


def test_v2_54_target_every_source_column_counts_and_the_guard_names_a_v2_37_date(tmp_path, bq):
    from fsengine.contracts import load_contract
    from fsengine.output.schema import write_output

    client, reader, _ = bq
    target = bq[2].rsplit(".", 1)[0] + ".ml_feature_store_v2_54"
    _v54_target(client, target)
    a, b = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
    stored = _v54_rows([a], 12, seed=1)
    for row in stored[:4]:  # a source past the 37 of v2_37: only a read of all 60 sees it
        row["feature_45_source"] = None
    older = _v54_rows([b], 12, seed=1)
    for row in older:  # date b written by a v2_37 writer into the v2_54 table
        row.update(feature_version="v2_37features", feature_count=37, features=row["features"][:37])
    _load(client, target, _v54_table(stored + older))
    out = tmp_path / "out54"
    write_output(_v54_table(_v54_rows([a, b], 12, seed=1)), out, contract=load_contract("v2_54features"))

    before = job_ids(client)
    with pytest.raises(
        PushRefused, match="2026-03-02: stored v2_37features/37: 12 rows; the run writes v2_54features/60: 12 rows"
    ):
        push(out, client, target, read_client=reader)
    assert job_ids(client) == before

    plan = push(out, client, target, read_client=reader, only_stale=True, replace_contract=True, dry_run=True)
    assert [(s.date, s.reasons) for s in plan.stale] == [
        (a, ["4 stored rows without sources"]),
        (b, ["12 stored rows of another contract"]),
    ]
    assert plan.diff.per_date[a].repaired == 4 and plan.diff.per_date[a].update_same == 12

    push(out, client, target, read_client=reader, replace_contract=True)
    assert _query(
        client, f"SELECT game_date, feature_version, COUNT(*) AS n FROM `{target}` GROUP BY 1, 2 ORDER BY 1"
    ) == [
        {"game_date": a, "feature_version": "v2_54features", "n": 12},
        {"game_date": b, "feature_version": "v2_54features", "n": 12},
    ]
