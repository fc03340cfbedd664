"""`fsengine run` end to end on the wire: the bundled fixture world served by the BigQuery
emulator, read back through the Storage Read API, computed, and merged into the target,
through the command line exactly as a user runs it."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
from bqemu import create_target_table
from contract_table import NOT_EMITTED_SAMPLE, bigquery_fields
from test_bq_snapshot import load_world
from test_push import DATASET, TABLE, job_ids
from typer.testing import CliRunner

from fsengine.cli import app
from fsengine.output.schema import read_output
from fsengine.pipeline import BUNDLED_SNAPSHOT, backfill
from fsengine.snapshot.format import Snapshot
from fsengine.snapshot.sources import TABLES

START, END = dt.date(2025, 11, 10), dt.date(2025, 11, 16)


def test_run_snapshots_computes_and_merges_the_range(bq_emulator, tmp_path):
    project = "fse-run-e2e"
    client = bq_emulator.bigquery_client(project)
    fixture = Snapshot.open(BUNDLED_SNAPSHOT)
    world = {}
    for key, held in fixture.tables.items():
        required = {c.name for c in TABLES[key].columns if not c.nullable}
        fields = [(name, bq_type, name in required, None, None) for name, bq_type in held.column_types.items()]
        world[key] = (pa.concat_tables([pq.read_table(f) for f in held.files]), fields)
    load_world(client, project, world)
    client.create_dataset(f"{project}.{DATASET}", exists_ok=True)
    target = f"{project}.{DATASET}.{TABLE}"
    # the target as documented (docs/output.md §2, written out in tests/contract_table.py), with
    # columns the engine does not emit, not as the code's own schema describes it
    create_target_table(client, target, bigquery_fields(extra_after={"opponent_team_abbr": NOT_EMITTED_SAMPLE}))
    jobs_before = job_ids(client)

    wire = [
        "--project",
        project,
        "--api-endpoint",
        bq_emulator.rest_url,
        "--storage-endpoint",
        bq_emulator.grpc_target,
        "--anonymous",
    ]
    # the target is the v2_37features table of docs/output.md §2: the run computes that contract
    args = [
        "run",
        "--start",
        START.isoformat(),
        "--end",
        END.isoformat(),
        "--mode",
        "backfill",
        "--snapshot",
        str(tmp_path / "snap"),
        "--out",
        str(tmp_path / "out"),
        "--contract",
        "v2_37features",
        *wire,
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(job_ids(client) - jobs_before) == 2  # one load, one MERGE; snapshot reads are not jobs

    # The rows in BigQuery are exactly the rows a local backfill of the bundled fixture gives.
    local = backfill(tmp_path / "local", BUNDLED_SNAPSHOT, START, END, mode="backfill", contract="v2_37features")
    expected = read_output(tmp_path / "local")
    assert local.rows == expected.num_rows > 0
    stored = (
        client.query(f"SELECT player_lookup, game_date, data_hash, feature_quality_score FROM `{target}`")
        .result()
        .to_arrow(create_bqstorage_client=False)
    )
    key = lambda t: sorted(zip(*(t.column(c).to_pylist() for c in ("player_lookup", "game_date", "data_hash"))))
    assert key(stored) == key(expected)

    # Running again reuses the snapshot and changes no row.
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "reus" in again.output.lower()
    stored_again = (
        client.query(f"SELECT player_lookup, game_date, data_hash FROM `{target}`")
        .result()
        .to_arrow(create_bqstorage_client=False)
    )
    assert key(stored_again) == key(expected)

    # --only-stale: plant rows without sources on two dates; the plan names exactly those dates
    # and the push rewrites only their rows (counts taken from the local backfill, not the code)
    per_date = {}
    for d in expected.column("game_date").to_pylist():
        per_date[d] = per_date.get(d, 0) + 1
    planted = sorted(per_date)[1:3]
    from google.cloud import bigquery

    client.query(
        f"UPDATE `{target}` SET feature_0_source = NULL WHERE game_date IN UNNEST(@d)",
        job_config=bigquery.QueryJobConfig(query_parameters=[bigquery.ArrayQueryParameter("d", "DATE", planted)]),
    ).result()
    jobs_before = job_ids(client)
    plan = CliRunner().invoke(app, [*args, "--only-stale", "--dry-run"])
    assert plan.exit_code == 0, plan.output
    assert f"stale dates: 2 of {len(per_date)}" in plan.output
    listed = [line.split(":")[0].strip() for line in plan.output.splitlines() if "stored rows without sources" in line]
    assert listed == [str(d) for d in planted]
    assert job_ids(client) == jobs_before  # a dry run sends no job
    only_plan = CliRunner().invoke(app, ["stale", *args[1:]])  # the same plan, nothing else
    assert only_plan.exit_code == 0, only_plan.output
    assert [
        line.split(":")[0].strip() for line in only_plan.output.splitlines() if "stored rows without sources" in line
    ] == [str(d) for d in planted]
    assert "MERGE" not in only_plan.output and job_ids(client) == jobs_before
    # `plan --stale` is the same plan under the name the chunk planner has
    same_plan = CliRunner().invoke(app, ["plan", "--stale", *args[1:]])
    assert same_plan.exit_code == 0, same_plan.output
    assert same_plan.output == only_plan.output and job_ids(client) == jobs_before
    fixed = CliRunner().invoke(app, [*args, "--only-stale"])
    assert fixed.exit_code == 0, fixed.output
    assert len(job_ids(client) - jobs_before) == 2
    # the plan is printed before the jobs, the reconciled counts after them
    assert fixed.output.index("stale dates: 2") < fixed.output.index("inserted I=0")
    assert f"inserted I=0, updated U={sum(per_date[d] for d in planted)}, deleted X=0" in fixed.output
    nulls = client.query(f"SELECT COUNT(*) AS n FROM `{target}` WHERE feature_0_source IS NULL").result()
    assert next(iter(nulls)).n == 0
