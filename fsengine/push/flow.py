"""`fsengine push`: write a run's rows into the BigQuery target (docs/output.md §8), as a story.

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
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from fsengine.bigquery.tables import TableId, validate_dataset
from fsengine.contracts import Contract
from fsengine.errors import PushRefused
from fsengine.output.schema import output_dir
from fsengine.push import checks, jobs
from fsengine.push import target as target_rows
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
    contract: str | Contract | None = None,
    read_client=None,
    replace_contract: bool = False,
    diff_features: bool = False,
    only_stale: bool = False,
    read_timeout: float = 1800.0,
    storage_endpoint: str = "Storage Read endpoint",
    show: Progress | None = None,
) -> PushReport:
    """Push the rows of `out_dir` (OUT/ml_feature_store_v2/) into `target` ("project.dataset.table").

    `out_dir` may also be several run folders, or a folder of chunk folders (chunk-I-of-N/, see
    checks.run_folders): their rows are pushed together with the same single load and MERGE.

    `client` is a google.cloud.bigquery.Client (its endpoint and credentials decide where the
    push goes). Every API call is bounded by `call_timeout` seconds and every job by
    `job_timeout` (a job exceeding it is cancelled and the push fails). Raises PushRefused,
    PushJobFailed or ReconciliationError; returns the report otherwise. With `contract` (a
    bundled contract's name or a contract file), rows of another contract are refused.

    `read_client` (a BigQueryReadClient on the same project) reads the stored rows of the run's
    dates before any job (target.py): the contract guard refuses dates holding another
    contract unless `replace_contract` (then those dates are written in replace mode), and the
    report carries the diff (per feature with `diff_features`). `only_stale` pushes only the
    dates whose stored rows are missing, without sources, of another contract (with
    `replace_contract`) or differ from the run's rows. Without `read_client` the target's rows
    are not read (no guard, no diff, `only_stale` refused). `show` gets the stale plan and the
    diff as text before the first job of a real push (the report then leaves them out).
    """
    note = progress or (lambda message: None)
    target_id = TableId.parse(target, "target")
    _check_options(staging_dataset, staging_expiration_hours, call_timeout, job_timeout)
    run_id = run_id or jobs.new_run_id()

    # 1. the run's rows: nothing about the target is needed to refuse bad rows
    folders = checks.run_folders(out_dir)
    where = (
        str(output_dir(folders[0]))
        if len(folders) == 1
        else f"{len(folders)} run folders ({folders[0]} .. {folders[-1]})"
    )
    note(f"checking the run's rows in {where}")
    table = checks.read_run_rows(folders)
    if contract is not None:
        checks.refuse_other_contract(table, contract, where)
    columns = checks.rows_columns(table)
    checks.refuse_bad_rows(table, columns)
    per_date = table.select(["game_date"]).group_by("game_date").aggregate([([], "count_all")])
    rows_per_date = dict(sorted(zip(per_date["game_date"].to_pylist(), per_date["count_all"].to_pylist())))
    run_dates = list(rows_per_date)
    stage = jobs.staging_id(target_id, run_id, staging_dataset)
    report = PushReport(
        str(target_id), run_id, table.num_rows, run_dates, rows_per_date, replace, dry_run, staging_table=str(stage)
    )
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

    # 2b. the stored rows of the run's dates: a Storage Read session, never a job
    replace_dates = list(run_dates) if replace else []
    report.replace_dates = replace_dates
    if read_client is not None:
        note(f"reading the stored rows of {len(run_dates)} dates of {target_id}")
        run_contract = checks.run_contract(table)
        stored = target_rows.read_stored(
            read_client,
            target_id,
            run_dates,
            [f.name for f in target_table.schema],
            feature_count=run_contract[1],
            with_features=diff_features,
            call_timeout=call_timeout,
            read_timeout=read_timeout,
            endpoint=storage_endpoint,
        )
        clashes = target_rows.contract_clashes(stored, run_contract, rows_per_date)
        if not replace_contract:
            target_rows.refuse_clashes(clashes, run_contract, target_id)
        if only_stale:
            report.stale_checked = list(run_dates)
            report.stale = target_rows.stale_dates(table, stored, run_contract, replace_contract)
            keep = [s.date for s in report.stale]
            table = table.filter(pc.is_in(table["game_date"], value_set=pa.array(keep, pa.date32())))
            stored = stored.filter(pc.is_in(stored["game_date"], value_set=pa.array(keep, pa.date32())))
            rows_per_date = {d: n for d, n in rows_per_date.items() if d in set(keep)}
            run_dates = list(rows_per_date)
            replace_dates = [d for d in replace_dates if d in set(keep)]
            report.rows, report.run_dates, report.rows_per_date = table.num_rows, run_dates, rows_per_date
            if not run_dates:
                report.notice = (
                    f"no stale date among the run's {len(report.stale_checked)} dates: nothing pushed, no job sent"
                )
                report.staging_table = None
                return report
        report.replace_dates = sorted(set(replace_dates) | {c.date for c in clashes if c.date in set(run_dates)})
        replace_dates = report.replace_dates
        report.diff = target_rows.diff(table, stored, replace_dates, with_features=diff_features)
    elif only_stale:
        raise PushRefused("--only-stale needs the target's stored rows: no Storage Read client was given")
    if not dry_run and show is not None and report.diff is not None:
        show(report.plan_text())
        report.shown_before_jobs = True

    # 3. the statements
    schema = jobs.staging_schema(target_fields, columns)
    merge_sql = render_merge(target_id, stage, bool(replace_dates), columns=columns)
    if dry_run:
        report.statements = jobs.dry_run_statements(report, stage, schema, merge_sql, staging_expiration_hours)
        return report

    # 4. staging table, job 1 (load), job 2 (MERGE); the staging table is deleted whatever happens
    note(f"creating staging table {stage}")
    jobs.create_staging(
        client,
        stage,
        schema,
        staging_expiration_hours,
        f"fsengine push {run_id} into {target_id}; safe to delete",
        call_timeout,
        report,
    )
    failure: BaseException | None = None
    try:
        jobs.load(client, table, stage, schema, location, run_id, call_timeout, job_timeout, report, note)
        merge_job = jobs.merge(
            client, merge_sql, run_dates, replace_dates, location, run_id, call_timeout, job_timeout, report, note
        )
    except BaseException as exc:
        failure = exc
        raise
    finally:
        note(f"deleting staging table {stage}")
        jobs.delete_staging(client, stage, call_timeout, report, failure)

    # 5. reconciliation of the MERGE's counts with the run
    jobs.reconcile(merge_job, report)
    _compare_with_diff(report)
    for warning in report.warnings:
        log.warning("%s", warning)
    return report


def _compare_with_diff(report: PushReport) -> None:
    """A MERGE whose counts differ from the diff read before it: someone else wrote the target
    between the read and the MERGE (the MERGE is still whole and reconciled; a warning)."""
    if report.diff is None or report.inserted is None:
        return
    total = report.diff.total
    expected = (total.insert, total.update_changed + total.update_same, total.delete)
    if (report.inserted, report.updated, report.deleted) != expected:
        report.warnings.append(
            f"the MERGE inserted/updated/deleted {report.inserted}/{report.updated}/{report.deleted} rows, the target "
            f"read before it predicted {expected[0]}/{expected[1]}/{expected[2]}: the target changed in between"
        )


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
    contract: str | Contract | None = None,
    replace_contract: bool = False,
    diff_features: bool = False,
    only_stale: bool = False,
    show: Progress | None = None,
) -> PushReport:
    """`fsengine push`: target = config.project + (dataset or the configured target's dataset) +
    (table or the configured target's table); client, endpoints, credentials and timeouts from
    `config` (fsengine.config.Config, see load_config)."""
    from fsengine.bigquery.clients import read_client

    target = f"{config.project}.{dataset or config.target.dataset}.{table or config.target.table}"
    TableId.parse(target, "target")  # refuse a bad name before any client is built
    reader = read_client(config)
    try:
        return _push_with(
            out_dir,
            config,
            target,
            reader,
            replace,
            dry_run,
            staging_dataset,
            staging_expiration_hours,
            progress,
            replace_contract,
            diff_features,
            only_stale,
            show,
            contract,
        )
    finally:
        reader.transport.close()


def _push_with(
    out_dir,
    config,
    target,
    reader,
    replace,
    dry_run,
    staging_dataset,
    staging_expiration_hours,
    progress,
    replace_contract,
    diff_features,
    only_stale,
    show,
    contract=None,
) -> PushReport:
    from fsengine.bigquery.clients import bigquery_client
    from fsengine.snapshot.read import storage_endpoint_text

    return push(
        out_dir,
        bigquery_client(config),
        target,
        replace=replace,
        dry_run=dry_run,
        staging_dataset=staging_dataset,
        staging_expiration_hours=staging_expiration_hours,
        call_timeout=config.call_timeout,
        job_timeout=config.job_timeout,
        progress=progress,
        read_client=reader,
        replace_contract=replace_contract,
        diff_features=diff_features,
        only_stale=only_stale,
        read_timeout=config.read_timeout,
        storage_endpoint=storage_endpoint_text(config),
        show=show,
        contract=contract,
    )
