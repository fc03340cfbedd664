"""The BigQuery side of a push (docs/output.md §8.2-§8.4): the target's metadata, the staging
table's life (created with an expiration, always deleted), the two jobs (load, MERGE) started
with fixed ids, waited for with a timeout and cancelled past it, and the reconciliation of the
MERGE's DML statistics.

Every API call is bounded by `call_timeout` and retried only within it; a failed job is never
resubmitted. Errors are raised as PushRefused (before any job), PushJobFailed (target
unchanged) or ReconciliationError (the MERGE committed but its counts do not match), with
anything that looks like a credential removed from the message.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import re
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from fsengine.bigquery.tables import TableId
from fsengine.bigquery.types import describe_field
from fsengine.errors import PushJobFailed, PushRefused, ReconciliationError
from fsengine.output.schema import OUTPUT_COLUMNS, OutputColumn
from fsengine.push.merge import REPLACE_DATES_PARAMETER, RUN_DATES_PARAMETER
from fsengine.push.report import PushReport

STAGING_INFIX = "__fsengine_stage_"
DEFAULT_CALL_TIMEOUT = 60.0
DEFAULT_JOB_TIMEOUT = 900.0
DEFAULT_STAGING_EXPIRATION_HOURS = 24.0

Progress = Callable[[str], None]


# --------------------------------------------------------------------------- errors and retries

_SECRET_PATTERNS = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1<redacted>"),
    (
        re.compile(r"(?i)\b(access_token|id_token|refresh_token|token|key|sig|signature|client_secret)=[^&\s\"']+"),
        r"\1=<redacted>",
    ),
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


# --------------------------------------------------------------------------- names


def new_run_id(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dt%H%M%S}_{secrets.token_hex(4)}"


def staging_id(target: TableId, run_id: str, staging_dataset: str | None = None) -> TableId:
    return TableId(
        target.project, staging_dataset or target.dataset, f"{target.table}{STAGING_INFIX}{run_id}", "staging"
    )


# --------------------------------------------------------------------------- metadata calls (no job)


def read_target(client, target: TableId, call_timeout: float):
    """The target table (schema and location), by a metadata call; PushRefused when unreadable."""
    from google.api_core import exceptions

    try:
        return client.get_table(str(target), retry=_retry(call_timeout), timeout=call_timeout)
    except exceptions.NotFound as exc:
        raise PushRefused(_explain_missing_target(client, target, exc, call_timeout)) from None
    except Exception as exc:  # noqa: BLE001 - any failure here happens before any job
        raise PushRefused(f"cannot read the schema of target {target}: {_error_text(exc)}") from None


def _explain_missing_target(client, target: TableId, exc: Exception, call_timeout: float) -> str:
    from google.api_core import exceptions

    try:
        client.get_dataset(f"{target.project}.{target.dataset}", retry=_retry(call_timeout), timeout=call_timeout)
    except exceptions.NotFound:
        return (
            f"target dataset {target.project}.{target.dataset} not found (unknown project {target.project!r} "
            f"or dataset {target.dataset!r}), so table {target} cannot be pushed to"
        )
    except Exception:  # noqa: BLE001 - the first error is the one to report
        pass
    return f"target table {target} not found ({_error_text(exc)})"


def check_staging_dataset(client, target: TableId, staging_dataset: str, location, call_timeout: float) -> None:
    """A staging dataset other than the target's must exist and share its location."""
    try:
        ds = client.get_dataset(f"{target.project}.{staging_dataset}", retry=_retry(call_timeout), timeout=call_timeout)
    except Exception as exc:  # noqa: BLE001
        raise PushRefused(
            f"cannot read staging dataset {target.project}.{staging_dataset}: {_error_text(exc)}"
        ) from None
    if (ds.location or "").lower() != (location or "").lower():
        raise PushRefused(
            f"staging dataset {target.project}.{staging_dataset} is in {ds.location}, "
            f"the target in {location}: they must share a location"
        )


# --------------------------------------------------------------------------- the staging table


def staging_schema(target_fields: dict, columns: tuple[OutputColumn, ...] = OUTPUT_COLUMNS) -> list:
    """Exactly the emitted columns in output order, each with the target's type and mode."""
    from google.cloud import bigquery

    def copy(f) -> bigquery.SchemaField:
        return bigquery.SchemaField(
            f.name,
            f.field_type,
            mode=f.mode,
            fields=[copy(c) for c in f.fields],
            precision=f.precision,
            scale=f.scale,
            max_length=f.max_length,
        )

    return [copy(target_fields[c.name]) for c in columns]


def describe_staging(stage: TableId, schema: list, hours: float) -> str:
    columns = ",\n".join(f"  {f.name} {describe_field(f)}{' NOT NULL' if f.mode == 'REQUIRED' else ''}" for f in schema)
    return f"CREATE TABLE {stage.sql()} (\n{columns}\n) -- expiration {hours:g} h; types copied from the target"


def dry_run_statements(report: PushReport, stage: TableId, schema: list, merge_sql: str, hours: float) -> dict:
    """What a push would send, in order, for `--dry-run`."""
    return {
        "staging table (metadata call)": describe_staging(stage, schema, hours),
        "job 1: load": (
            f"LOAD {report.rows} rows as PARQUET into {stage} (WRITE_TRUNCATE, explicit schema, no autodetect)"
        ),
        "job 2: merge": merge_sql.rstrip()
        + f"\n-- @{RUN_DATES_PARAMETER} ARRAY<DATE> = [{', '.join(str(d) for d in report.run_dates)}]"
        + (
            f"\n-- @{REPLACE_DATES_PARAMETER} ARRAY<DATE> = [{', '.join(str(d) for d in report.replace_dates)}]"
            if report.replace_dates
            else ""
        ),
        "then": f"delete staging table {stage} (metadata call)",
    }


def create_staging(
    client, stage: TableId, schema: list, hours: float, description: str, call_timeout: float, report: PushReport
) -> None:
    """The staging table, expiring by itself after `hours` (a metadata call, no job)."""
    from google.cloud import bigquery

    staging_table = bigquery.Table(str(stage), schema=schema)
    staging_table.expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)
    staging_table.description = description
    try:
        client.create_table(staging_table, retry=_retry(call_timeout), timeout=call_timeout)
    except Exception as exc:  # noqa: BLE001 - no job sent yet
        refusal = PushRefused(f"cannot create staging table {stage} (no job sent): {_error_text(exc)}")
        delete_staging(client, stage, call_timeout, report, refusal)  # a create may succeed despite an error
        raise refusal from None


def delete_staging(client, stage: TableId, call_timeout: float, report: PushReport, failure) -> None:
    try:
        client.delete_table(str(stage), not_found_ok=True, retry=_retry(call_timeout), timeout=call_timeout)
    except Exception as exc:  # noqa: BLE001 - a failed delete must not hide the push's own outcome
        warning = f"could not delete staging table {stage} ({_error_text(exc)}); its expiration removes it anyway"
        if failure is not None and hasattr(failure, "args") and failure.args:
            failure.args = (f"{failure.args[0]}\n(also: {warning})", *failure.args[1:])
        report.warnings.append(warning)


# --------------------------------------------------------------------------- jobs


def _connection_lost(exc: BaseException) -> bool:
    """The server could not be reached (refused, reset, timed out), as opposed to a job error."""
    from google.api_core import exceptions

    if isinstance(exc, exceptions.RetryError):
        return exc.cause is None or _connection_lost(exc.cause)
    return isinstance(
        exc, (OSError, exceptions.ServiceUnavailable, exceptions.DeadlineExceeded, concurrent.futures.TimeoutError)
    )


def _endpoint_of(job) -> str:
    from fsengine.config import redact_url

    base = getattr(getattr(getattr(job, "_client", None), "_connection", None), "API_BASE_URL", None)
    return f"the BigQuery API endpoint {redact_url(base)}" if base else "the BigQuery API endpoint"


def _lost(job, what: str, exc: BaseException, elapsed: float, doing: str, changes_target: bool) -> PushJobFailed:
    outcome = (
        f"whether the MERGE committed is unknown: check job {job.job_id} and the target before rerunning"
        if changes_target
        else "the target is unchanged"
    )
    return PushJobFailed(
        f"{what} (job {job.job_id}): lost the connection to {_endpoint_of(job)} after {elapsed:.1f} s, {doing}; "
        f"the server is unreachable ({_error_text(exc)}); {outcome}"
    )


def wait(job, what: str, job_timeout: float, call_timeout: float, changes_target: bool) -> None:
    """Wait for a job, polling its state (each poll within call_timeout); cancel it when it
    exceeds job_timeout. A server that stops answering is reported as such at once, not as a
    job that ran too long. Raises PushJobFailed."""
    import time

    began = time.monotonic()
    pause = 0.2
    while True:
        try:
            if job.done(retry=_retry(call_timeout), timeout=call_timeout):
                break
        except Exception as exc:  # noqa: BLE001
            if not _connection_lost(exc):
                raise PushJobFailed(
                    f"{what} (job {job.job_id}) failed; the target is unchanged: {_error_text(exc)}"
                ) from None
            raise _lost(job, what, exc, time.monotonic() - began, "waiting for the job", changes_target) from None
        remaining = job_timeout - (time.monotonic() - began)
        if remaining <= 0:
            _cancel_after_timeout(job, what, job_timeout, call_timeout, changes_target)
            return
        time.sleep(min(pause, remaining))
        pause = min(pause * 1.5, 2.0)
    try:
        job.result(timeout=call_timeout, retry=_retry(call_timeout))
    except Exception as exc:  # noqa: BLE001
        if _connection_lost(exc):
            raise _lost(job, what, exc, time.monotonic() - began, "reading the job's result", changes_target) from None
        raise PushJobFailed(f"{what} (job {job.job_id}) failed; the target is unchanged: {_error_text(exc)}") from None


def _cancel_after_timeout(job, what: str, job_timeout: float, call_timeout: float, changes_target: bool) -> None:
    exceeded = f"{what} (job {job.job_id}) exceeded the job timeout of {job_timeout:g} s"
    try:
        job.cancel(retry=_retry(call_timeout), timeout=call_timeout)
    except Exception as exc:  # noqa: BLE001
        raise PushJobFailed(
            f"{exceeded} and could not be cancelled ({_error_text(exc)}); check job {job.job_id} before rerunning"
        ) from None
    if not changes_target:  # a load only touches staging, which is deleted next
        raise PushJobFailed(f"{exceeded} and was cancelled; the target is unchanged")
    # a cancel is a request: the MERGE may still commit, so wait for its final state
    try:
        job.result(timeout=call_timeout, retry=_retry(call_timeout))
    except concurrent.futures.TimeoutError:
        raise PushJobFailed(
            f"{exceeded}; a cancel was requested but the job had not stopped after "
            f"{call_timeout:g} s more: check job {job.job_id} and the target before rerunning"
        ) from None
    except Exception:  # noqa: BLE001 - the job ended in error: cancelled, nothing committed
        raise PushJobFailed(f"{exceeded} and was cancelled; the target is unchanged") from None
    raise ReconciliationError(
        f"{exceeded}; the cancel came too late and the MERGE committed: the target WAS "
        "changed; check it before rerunning"
    )


def _start_job(
    client, start: Callable[[], object], job_id: str, location, what: str, call_timeout: float, may_change_target: bool
):
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
        raise PushJobFailed(
            f"{what} could not be started (job {job_id} was not created); the target is unchanged: {first}"
        ) from None
    except Exception as exc:  # noqa: BLE001
        consequence = (
            "the target is unchanged unless that job ran: check it before rerunning"
            if may_change_target
            else "the target is unchanged"
        )
        raise PushJobFailed(
            f"{what}: the request to start job {job_id} failed ({first}) and the job could not be "
            f"looked up ({_error_text(exc)}); {consequence}"
        ) from None
    return job  # the request failed but the job exists: follow it


def load(
    client,
    table: pa.Table,
    stage: TableId,
    schema,
    location,
    run_id,
    call_timeout,
    job_timeout,
    report: PushReport,
    note: Progress,
) -> None:
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
                lambda: client.load_table_from_file(
                    handle, str(stage), job_config=config, job_id=job_id, location=location, timeout=call_timeout
                ),
                job_id,
                location,
                what,
                call_timeout,
                may_change_target=False,
            )
    wait(job, what, job_timeout, call_timeout, changes_target=False)
    loaded = job.output_rows
    if loaded is None:
        loaded = client.get_table(str(stage), retry=_retry(call_timeout), timeout=call_timeout).num_rows
    if loaded != table.num_rows:
        raise PushJobFailed(
            f"load job {job.job_id} put {loaded} rows into staging {stage}, the run has "
            f"{table.num_rows}; the target is unchanged"
        )


def merge(
    client,
    sql: str,
    run_dates,
    replace_dates,
    location,
    run_id,
    call_timeout,
    job_timeout,
    report: PushReport,
    note: Progress,
):
    from google.cloud import bigquery

    config = bigquery.QueryJobConfig(
        query_parameters=[bigquery.ArrayQueryParameter(RUN_DATES_PARAMETER, "DATE", run_dates)]
        + ([bigquery.ArrayQueryParameter(REPLACE_DATES_PARAMETER, "DATE", replace_dates)] if replace_dates else []),
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
        lambda: client.query(
            sql,
            job_config=config,
            job_id=job_id,
            location=location,
            timeout=call_timeout,
            retry=_retry(call_timeout),
            job_retry=None,
        ),
        job_id,
        location,
        what,
        call_timeout,
        may_change_target=True,
    )
    wait(job, what, job_timeout, call_timeout, changes_target=True)
    return job


def reconcile(job, report: PushReport) -> None:
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
            raise ReconciliationError(
                f"MERGE job {job.job_id} committed but inserted {report.inserted} + updated "
                f"{report.updated} = {matched} rows < {n} staged rows"
            )
        if not (report.replace or report.replace_dates) and report.deleted:
            raise ReconciliationError(
                f"MERGE job {job.job_id} committed and deleted {report.deleted} rows without replace mode"
            )
        if matched > n:
            report.warnings.append(
                f"inserted + updated = {matched} > {n} staged rows: the target held "
                f"{matched - n} duplicate-key rows (each was updated)"
            )
        return
    report.affected = job.num_dml_affected_rows
    if report.affected is None:
        raise ReconciliationError(f"MERGE job {job.job_id} committed but reported no DML statistics")
    if report.affected < n:
        raise ReconciliationError(
            f"MERGE job {job.job_id} committed but affected {report.affected} rows < {n} staged rows"
        )
