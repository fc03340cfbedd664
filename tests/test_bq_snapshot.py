"""`fsengine snapshot` against the local-bigquery emulator (real REST + Storage Read clients)."""

from __future__ import annotations


def test_emulator_answers_rest_and_storage_read(bq_emulator, bq_project):
    from google.cloud import bigquery
    from google.cloud.bigquery_storage_v1 import types

    client = bq_emulator.bigquery_client(bq_project)
    client.create_dataset("harness")
    table = bigquery.Table(f"{bq_project}.harness.t", schema=[bigquery.SchemaField("n", "INT64")])
    client.create_table(table)
    client.query(f"INSERT INTO `{bq_project}.harness.t` (n) VALUES (1), (2), (3)").result()
    session = bq_emulator.read_client().create_read_session(
        parent=f"projects/{bq_project}",
        read_session=types.ReadSession(
            table=f"projects/{bq_project}/datasets/harness/tables/t", data_format=types.DataFormat.ARROW
        ),
        max_stream_count=1,
    )
    assert len(session.streams) == 1
