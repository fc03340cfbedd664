"""A push whose server dies while a job runs says what happened (the connection was lost,
after how long) at once, instead of waiting out the job timeout and blaming the job."""

from __future__ import annotations

import re
import time

import pytest
from netfaults import Relay
from test_push import DATASET, DATES, TABLE, create_target, make_rows, write_run

from fsengine.errors import PushJobFailed
from fsengine.push import push


def _polls_a_job(data: bytes) -> bool:
    """The first poll of a running job (after its insert request went through)."""
    return data.startswith(b"GET ") and re.search(rb"/(jobs|queries)/[^ ?]+", data.split(b"\r\n", 1)[0]) is not None


def test_a_server_that_dies_while_a_job_runs_is_a_lost_connection(tmp_path, bq_emulator, bq_project):
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    direct = bq_emulator.bigquery_client(bq_project)
    direct.create_dataset(DATASET)
    target = f"{bq_project}.{DATASET}.{TABLE}"
    create_target(direct, target)

    armed = {"on": False}  # the emulator answers the load job done at once: the MERGE is the one waited for
    relay = Relay(
        int(bq_emulator.rest_url.rsplit(":", 1)[1]), kill_when=lambda data: armed["on"] and _polls_a_job(data)
    )
    client = bigquery.Client(
        project=bq_project,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=f"http://127.0.0.1:{relay.port}"),
    )

    def progress(message: str) -> None:
        if message.startswith("job 2/2"):
            armed["on"] = True

    began = time.monotonic()
    try:
        with pytest.raises(PushJobFailed) as failure:
            push(
                write_run(tmp_path, make_rows(dates=DATES[:1], per_date=10)),
                client,
                target,
                call_timeout=2,
                job_timeout=120,
                progress=progress,
            )
    finally:
        relay.kill()
    took = time.monotonic() - began
    message = str(failure.value)
    assert "exceeded the job timeout" not in message
    assert "lost the connection" in message and f"127.0.0.1:{relay.port}" in message
    assert re.search(r"after \d+\.\d s", message)
    assert took < 40, took  # not the job timeout of 120 s
    assert "MERGE" in message and "check job" in message  # whether it committed is unknown
