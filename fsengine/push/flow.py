"""`fsengine push`: write a run's rows into the BigQuery target (spec output.md §8), as a story.

    report = push("out/", client, "nba-props-platform.nba_predictions.ml_feature_store_v2")
    report = push(["out/chunk-0001-of-0002", "out/chunk-0002-of-0002"], client, target)  # or push("out/", ...)

1. read the run's rows: one run folder, or several (the chunks of a plan) as one run - refused when
   they overlap or hold different contracts (checks.read_run_rows); check them locally (checks.py) - bad rows are refused before anything is asked;
2. read the target's schema with a metadata call and check it can take the rows (checks.py);
3. render the MERGE (merge.py); a dry run stops here and shows what would be sent;
4. create a staging table that expires by itself, load every row into it (job 1), MERGE it
   into the target (job 2), and always delete the staging table (jobs.py);
5. reconcile the MERGE's DML statistics with the run (jobs.py).

Exactly two jobs per push whatever the number of dates or run folders. Exit codes come from the raised error:
PushRefused (2, nothing sent), PushJobFailed (3, target unchanged), ReconciliationError (4, the
MERGE committed but its counts do not match).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from fsengine.bigquery.tables import TableId, validate_dataset
from fsengine.errors import PushRefused
from fsengine.output.schema import output_dir
from fsengine.push import checks, jobs
from fsengine.push.jobs import DEFAULT_CALL_TIMEOUT, DEFAULT_JOB_TIMEOUT, DEFAULT_STAGING_EXPIRATION_HOURS, Progress
from fsengine.push.merge import render_merge
from fsengine.push.report import PushReport

log = logging.getLogger(__name__)


def push(
    out_dir: str | Path | Sequence[str | Path],
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

    `out_dir` may also be several run folders, or a folder of chunk folders (chunk-I-of-N/, see
    checks.run_folders): their rows are pushed together with the same single load and MERGE.

    `client` is a google.cloud.bigquery.Client (its endpoint and credentials decide where the
    push goes). Every API call is bounded by `call_timeout` seconds and every job by
    `job_timeout` (a job exceeding it is cancelled and the push fails). Raises PushRefused,
    PushJobFailed or ReconciliationError; returns the report otherwise.
    """
    note = progress or (lambda message: None)
    target_id = TableId.parse(target, "target")
    _check_options(staging_dataset, staging_expiration_hours, call_timeout, job_timeout)
    run_id = run_id or jobs.new_run_id()

    # 1. the run's rows: nothing about the target is needed to refuse bad rows
    folders = checks.run_folders(out_dir)
    where = str(output_dir(folders[0])) if len(folders) == 1 else f"{len(folders)} run folders ({folders[0]} .. {folders[-1]})"
    note(f"checking the run's rows in {where}")
    table = checks.read_run_rows(folders)
    columns = checks.rows_columns(table)
    checks.refuse_bad_rows(table, columns)
    per_date = table.select(["game_date"]).group_by("game_date").aggregate([([], "count_all")])
    rows_per_date = dict(sorted(zip(per_date["game_date"].to_pylist(), per_date["count_all"].to_pylist())))
    run_dates = list(rows_per_date)
    stage = jobs.staging_id(target_id, run_id, staging_dataset)
    report = PushReport(str(target_id), run_id, table.num_rows, run_dates, rows_per_date, replace, dry_run,
                        staging_table=str(stage))
    if table.num_rows == 0:
        report.notice = f"the run in {where} has no rows: nothing pushed, no job sent"
        report.staging_table = None
        return report

    # 2. the target's schema: a metadata call, never a job; the engine never alters it
    note(f"reading the schema of {target_id}")
    target_table = jobs.read_target(client, target_id, call_timeout)
    target_fields = checks.refuse_incompatible_target(target_table.schema, table, target_id, columns)
    location = target_table.location
    if staging_dataset is not None and staging_dataset != target_id.dataset:
        jobs.check_staging_dataset(client, target_id, staging_dataset, location, call_timeout)

    # 3. the statements
    schema = jobs.staging_schema(target_fields, columns)
    merge_sql = render_merge(target_id, stage, replace, columns=columns)
    if dry_run:
        report.statements = jobs.dry_run_statements(report, stage, schema, merge_sql, staging_expiration_hours)
        return report

    # 4. staging table, job 1 (load), job 2 (MERGE); the staging table is deleted whatever happens
    note(f"creating staging table {stage}")
    jobs.create_staging(client, stage, schema, staging_expiration_hours,
                        f"fsengine push {run_id} into {target_id}; safe to delete", call_timeout, report)
    failure: BaseException | None = None
    try:
        jobs.load(client, table, stage, schema, location, run_id, call_timeout, job_timeout, report, note)
        merge_job = jobs.merge(client, merge_sql, run_dates, location, run_id, call_timeout, job_timeout, report,
                               note)
    except BaseException as exc:
        failure = exc
        raise
    finally:
        note(f"deleting staging table {stage}")
        jobs.delete_staging(client, stage, call_timeout, report, failure)

    # 5. reconciliation of the MERGE's counts with the run
    jobs.reconcile(merge_job, report)
    for warning in report.warnings:
        log.warning("%s", warning)
    return report


def _check_options(staging_dataset, staging_expiration_hours, call_timeout, job_timeout) -> None:
    if staging_dataset is not None:
        validate_dataset(staging_dataset, "staging dataset")
    if not 0 < staging_expiration_hours <= 24 * 365:
        raise PushRefused(f"staging expiration {staging_expiration_hours!r} h: expected (0, 8760] hours")
    for name, value in (("call timeout", call_timeout), ("job timeout", job_timeout)):
        if not 0 < value <= 86_400:
            raise PushRefused(f"{name} {value!r} s: expected (0, 86400] seconds")


def push_with_config(
    out_dir: str | Path | Sequence[str | Path],
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
    from fsengine.bigquery.clients import bigquery_client

    target = f"{config.project}.{dataset or config.target.dataset}.{table or config.target.table}"
    TableId.parse(target, "target")  # refuse a bad name before any client is built
    return push(
        out_dir, bigquery_client(config), target, replace=replace, dry_run=dry_run,
        staging_dataset=staging_dataset, staging_expiration_hours=staging_expiration_hours,
        call_timeout=config.call_timeout, job_timeout=config.job_timeout, progress=progress,
    )
