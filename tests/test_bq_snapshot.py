"""`fsengine snapshot` against the local-bigquery emulator, with the real REST and Storage Read
clients (tests/bqemu.py). A small hand-built world is loaded into the emulator under the
production dataset and table names; the snapshot must equal that world on the bounds of
docs/sources.md §4 and docs/v2_54/sources.md §1 (by default a snapshot serves both contracts, so
each table over the union of their windows), filtered as §3.2 says — both computed here
independently of fsengine.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import threading
from contextlib import suppress
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.cloud.bigquery_storage_v1.types import DataFormat

from fsengine.bigquery.clients import read_client as make_read_client
from fsengine.config import load_config
from fsengine.errors import InputError, SnapshotError
from fsengine.snapshot.format import Snapshot
from fsengine.snapshot.read import take_snapshot
from fsengine.snapshot.sources import SOURCE_TABLES, TABLES, columns_for

RUN_START = dt.date(2025, 11, 3)
RUN_END = dt.date(2025, 11, 9)
ODDS = "nba_raw.odds_api_player_points_props"
BETTINGPROS = "nba_raw.bettingpros_player_points_props"
PGS = "nba_analytics.player_game_summary"
INJURY = "nba_raw.nbac_injury_report"
ACCURACY = "nba_predictions.prediction_accuracy"
V37, V54 = "v2_37features", "v2_54features"
ODDS_ROWS_IN_RANGE = 120_000  # > 100k: the emulator then serves the table in two streams

# Independent statement of §4 for RUN_START .. RUN_END, contract v2_37features (not computed by fsengine).
EXPECTED_BOUNDS_V37 = {
    PGS: (dt.date(2024, 11, 2), RUN_END),
    "nba_analytics.upcoming_player_game_context": (RUN_START, RUN_END),
    "nba_precompute.player_daily_cache": (dt.date(2025, 10, 20), RUN_END),
    "nba_precompute.player_composite_factors": (dt.date(2025, 10, 20), RUN_END),
    "nba_precompute.player_shot_zone_analysis": (dt.date(2025, 10, 20), RUN_END),
    "nba_precompute.team_defense_zone_analysis": (dt.date(2025, 10, 20), RUN_END),
    "nba_analytics.team_offense_game_summary": (dt.date(2025, 10, 1), RUN_END),
    ODDS: (RUN_START, RUN_END),
    BETTINGPROS: (RUN_START, RUN_END),
}
# ... and for both contracts (docs/v2_54/sources.md §1): team offense back to the earlier of Oct 1 and
# start - 60 days, Odds API 14 days, prediction accuracy 60 days, injury report the run only.
EXPECTED_BOUNDS = {
    **EXPECTED_BOUNDS_V37,
    "nba_analytics.team_offense_game_summary": (dt.date(2025, 9, 4), RUN_END),
    ODDS: (dt.date(2025, 10, 20), RUN_END),
    INJURY: (RUN_START, RUN_END),
    ACCURACY: (dt.date(2025, 9, 4), RUN_END),
}
DATE_COLUMNS = {
    PGS: "game_date",
    "nba_precompute.player_daily_cache": "cache_date",
    "nba_precompute.player_shot_zone_analysis": "analysis_date",
    "nba_precompute.team_defense_zone_analysis": "analysis_date",
    INJURY: "report_date",
}
# Columns the engine does not read, placed amid the read ones so selection and order matter.
EXTRA_COLUMNS = {
    PGS: ("fg_makes", "INT64", 3),
    BETTINGPROS: ("bet_side", "STRING", 2),
    ODDS: ("home_team_abbr", "STRING", 1),
    ACCURACY: ("predicted_points", "FLOAT64", 2),
}
REQUIRE_PARTITION_FILTER = {"nba_analytics.team_offense_game_summary", BETTINGPROS, ACCURACY}
ARROW = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "FLOAT64": pa.float64(),
    "NUMERIC": pa.decimal128(38, 9),
    "BOOL": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
}


# --------------------------------------------------------------------------- the world


def _values(bq_type: str, n: int, rng: np.random.Generator, nullable: bool, column: str) -> pa.Array:
    mask = (rng.random(n) < 0.1) if nullable else np.zeros(n, dtype=bool)
    if bq_type == "STRING":
        data = [f"{column[:3]}-{v}" for v in rng.integers(0, 400, n)]
    elif bq_type == "INT64":
        data = rng.integers(-5, 60, n).tolist()
    elif bq_type == "FLOAT64":
        data = (rng.integers(0, 80, n) / 2).tolist()
    elif bq_type == "NUMERIC":  # up to 9 decimals, exactly representable only as decimals
        data = [decimal.Decimal(int(v)).scaleb(-9) for v in rng.integers(-(10**11), 10**11, n)]
    elif bq_type == "BOOL":
        data = (rng.random(n) < 0.5).tolist()
    elif bq_type == "DATE":  # a second date column (the injury report's game_date)
        data = [dt.date(2025, 10, 1) + dt.timedelta(days=int(v)) for v in rng.integers(0, 60, n)]
    elif bq_type == "TIMESTAMP":
        base = dt.datetime(2025, 10, 1, tzinfo=dt.UTC)
        data = [base + dt.timedelta(microseconds=int(v)) for v in rng.integers(0, 10**13, n)]
    else:
        raise AssertionError(bq_type)
    return pa.array([None if m else v for v, m in zip(data, mask)], type=ARROW[bq_type])


def _dates(first: dt.date, last: dt.date, n: int, rng: np.random.Generator) -> pa.Array:
    span = (last - first).days + 1
    return pa.array([first + dt.timedelta(days=int(d)) for d in rng.integers(0, span, n)], pa.date32())


def build_world(seed: int = 7, odds_rows: int = ODDS_ROWS_IN_RANGE, minutes_type: str = "NUMERIC"):
    """{key: (arrow table as stored in BigQuery, [(name, bq_type, required, precision, scale)])}.

    Every table has rows before, inside and after its bounds, including on both edge dates."""
    rng = np.random.default_rng(seed)
    world = {}
    for spec in SOURCE_TABLES:
        lo, hi = EXPECTED_BOUNDS[spec.key]
        first, last = lo - dt.timedelta(days=30), hi + dt.timedelta(days=5)
        n = 900 if spec.key == PGS else 300
        date_values = _dates(first, last, n - 4, rng)
        edges = pa.array([lo, hi, lo - dt.timedelta(days=1), hi + dt.timedelta(days=1)], pa.date32())
        date_values = pa.concat_arrays([date_values, edges])
        if spec.key == ODDS:  # the big table: odds_rows inside the run, a few outside
            inside = _dates(lo, hi, odds_rows, rng)
            date_values = pa.concat_arrays([date_values, inside])
            n = len(date_values)
        columns, fields = {}, []
        for col in spec.all_columns:
            bq_type = minutes_type if col.name == "minutes_played" else col.bq_type
            if col.name == spec.date_column:
                array = date_values
            elif col.name == "market_type":
                array = pa.array(rng.choice(["points", "rebounds", "assists"], n).tolist())
            elif col.name == "minutes_played" and bq_type == "NUMERIC":  # live NUMERIC(5,1)
                array = pa.array(
                    [None if v < 0 else decimal.Decimal(int(v)).scaleb(-1) for v in rng.integers(-40, 480, n)],
                    pa.decimal128(38, 9),
                )
            else:
                array = _values(bq_type, n, rng, col.nullable, col.name)
            columns[col.name] = array
            precision = (5, 1) if col.name == "minutes_played" and bq_type == "NUMERIC" else (None, None)
            fields.append((col.name, bq_type, not col.nullable, *precision))
        if spec.key in EXTRA_COLUMNS:
            name, bq_type, position = EXTRA_COLUMNS[spec.key]
            fields.insert(position, (name, bq_type, False, None, None))
            columns[name] = _values(bq_type, n, rng, False, name)
        if spec.key == "nba_precompute.player_daily_cache":
            fields.reverse()  # the live column order differs from the engine's
        table = pa.table({f[0]: columns[f[0]] for f in fields})
        world[spec.key] = (table, fields)
    return world


def load_world(client, project: str, world, skip: tuple[str, ...] = ()) -> None:
    """Create datasets and partitioned tables with the production names; load Parquet via load jobs."""
    from google.cloud import bigquery

    for dataset in sorted({key.split(".")[0] for key in world}):
        client.create_dataset(f"{project}.{dataset}", exists_ok=True)
    for key, (table, fields) in world.items():
        if key in skip:
            continue
        schema = [
            bigquery.SchemaField(
                name, bq_type, mode="REQUIRED" if required else "NULLABLE", precision=precision, scale=scale
            )
            for name, bq_type, required, precision, scale in fields
        ]
        target = bigquery.Table(f"{project}.{key}", schema=schema)
        target.time_partitioning = bigquery.TimePartitioning(field=TABLES[key].date_column)
        target.require_partition_filter = key in REQUIRE_PARTITION_FILTER
        client.create_table(target)
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        buffer.seek(0)
        job = client.load_table_from_file(
            buffer,
            f"{project}.{key}",
            job_config=bigquery.LoadJobConfig(
                source_format="PARQUET", schema=schema, write_disposition="WRITE_TRUNCATE"
            ),
        )
        job.result(timeout=120)


def expected_rows(world, key: str, bounds=None, contracts=(V37, V54)) -> pa.Table:
    """The world's rows a snapshot must hold for key: §3.2 filter, engine columns, engine order."""
    table, _ = world[key]
    spec = TABLES[key]
    lo, hi = bounds or EXPECTED_BOUNDS[key]
    dates = table.column(spec.date_column).to_pylist()
    keep = [lo <= d <= hi for d in dates]
    if key == BETTINGPROS:
        keep = [k and m == "points" for k, m in zip(keep, table.column("market_type").to_pylist())]
    return table.filter(pa.array(keep)).select(columns_for(spec, contracts))


def assert_same_rows(got: pa.Table, want: pa.Table, key: str) -> None:
    assert got.column_names == want.column_names, key
    want = want.cast(got.schema)
    order = [(name, "ascending") for name in got.column_names]
    assert got.num_rows == want.num_rows, key
    assert got.sort_by(order).equals(want.sort_by(order)), f"{key}: rows differ"


def read_snapshot_table(folder: Path, key: str) -> pa.Table:
    entry = json.loads((folder / "manifest.json").read_text())["tables"][key]
    return pa.concat_tables([pq.read_table(folder / f["path"]) for f in entry["files"]])


# --------------------------------------------------------------------------- gRPC observer


class StorageTraffic:
    """A gRPC client interceptor on the real channel: records every Storage Read request and
    can end chosen ReadRows calls with a gRPC error (default UNAVAILABLE) after a number of messages."""

    def __init__(
        self,
        fail_after: int | None = None,
        failures: int = 0,
        table_contains: str = "/tables/odds_api_player_points_props",
        code: str = "UNAVAILABLE",
        details: str = "injected: connection reset by test",
    ):
        import grpc

        self.grpc = grpc
        self.code = getattr(grpc.StatusCode, code)
        self.details_text = details
        self.sessions: list = []
        self.read_rows: list[tuple[str, int]] = []
        self.fail_after = fail_after
        self.failures_left = failures
        self.table_contains = table_contains
        self.failed_streams: dict[str, int] = {}  # stream -> rows delivered before the failure
        self.watched: set[str] = set()
        self.lock = threading.Lock()
        outer = self

        class Interceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
            def intercept_unary_unary(self, continuation, details, request):
                response = continuation(details, request)
                if details.method.endswith("CreateReadSession"):
                    outer.sessions.append(request)
                    if outer.table_contains in request.read_session.table:
                        outer.watched.update(s.name for s in response.result().streams)
                return response

            def intercept_unary_stream(self, continuation, details, request):
                call = continuation(details, request)
                if not details.method.endswith("ReadRows"):
                    return call
                with outer.lock:
                    outer.read_rows.append((request.read_stream, request.offset))
                    inject = (
                        outer.fail_after is not None
                        and outer.failures_left > 0
                        and request.read_stream in outer.watched
                    )
                    if inject:
                        outer.failures_left -= 1
                return _FailingCall(call, outer, request.read_stream, request.offset) if inject else call

        self.interceptor = Interceptor()

    def error(self):
        grpc = self.grpc
        code, text = self.code, self.details_text

        class Injected(grpc.RpcError, grpc.Call):
            def code(self):
                return code

            def details(self):
                return text

            def initial_metadata(self):
                return ()

            def trailing_metadata(self):
                return ()

            def is_active(self):
                return False

            def time_remaining(self):
                return None

            def cancel(self):
                return False

            def add_callback(self, callback):
                return False

        return Injected()


class _FailingCall:
    """Passes `fail_after` messages of the real call through, then raises the chosen gRPC error."""

    def __init__(self, call, traffic: StorageTraffic, stream: str, offset: int):
        self._call = call
        self._traffic = traffic
        self._stream = stream
        self._rows = offset
        self._sent = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self._sent >= self._traffic.fail_after:
            # Take (and drop) one more message first: the emulator records the rows of a message as
            # produced only when its server generator resumes for the next one, so a call cancelled
            # right after message N can leave "offset N not allocated" for ever (BigQuery has no
            # such gap). The dropped message makes the resumed offset one the server has produced.
            with suppress(StopIteration, self._traffic.grpc.RpcError):
                next(self._call)
            self._call.cancel()
            self._traffic.failed_streams[self._stream] = self._rows
            raise self._traffic.error()
        message = next(self._call)
        self._sent += 1
        self._rows += message.row_count
        return message

    def __getattr__(self, name):
        return getattr(self._call, name)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def world():
    return build_world()


@pytest.fixture(scope="module")
def loaded(bq_emulator, world):
    """The world loaded once into its own project; returns the snapshot Config for it."""
    project = "fse-world-snapshot"
    load_world(bq_emulator.bigquery_client(project), project, world)
    return emulator_config(bq_emulator, project)


def emulator_config(emu, project: str, **overrides):
    return load_config(
        project=project,
        api_endpoint=emu.rest_url,
        storage_endpoint=emu.grpc_target,
        anonymous=True,
        environ={},
        cwd="/nonexistent",
        **{"read_timeout": 120.0, **overrides},  # a stream the emulator never finishes fails the test, not CI
    )


# --------------------------------------------------------------------------- tests


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


def test_snapshot_equals_the_world_on_its_bounds(loaded, world, tmp_path):
    out = tmp_path / "snap"
    events, notes = [], []
    traffic = StorageTraffic()
    client = make_read_client(loaded, interceptors=[traffic.interceptor])
    report = take_snapshot(
        loaded, RUN_START, RUN_END, out, max_streams=4, progress=events.append, log=notes.append, read_client=client
    )

    assert not report.reused
    snapshot = Snapshot.open(out)  # validates files, row counts, checksums
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["tables"]) == set(EXPECTED_BOUNDS)
    pinned = {entry["snapshot_time"] for entry in manifest["tables"].values()}
    assert len(pinned) == 1
    for key, (lo, hi) in EXPECTED_BOUNDS.items():
        entry = manifest["tables"][key]
        spec = TABLES[key]
        date_column = DATE_COLUMNS.get(key, "game_date")
        restriction = f"{date_column} BETWEEN CAST('{lo}' AS DATE) AND CAST('{hi}' AS DATE)"
        if key == BETTINGPROS:
            restriction += " AND market_type = 'points'"
        assert entry["row_restriction"] == restriction
        assert (entry["start"], entry["end"]) == (lo.isoformat(), hi.isoformat())
        assert entry["source"] == f"fse-world-snapshot.{key}"
        assert entry["columns"] == [{"name": c.name, "type": c.bq_type} for c in spec.all_columns]
        got = read_snapshot_table(out, key)
        assert got.schema.equals(pa.schema([(c.name, ARROW[c.bq_type]) for c in spec.all_columns]))
        assert_same_rows(got, expected_rows(world, key), key)
        assert snapshot.tables[key].rows == got.num_rows == report.tables[key].rows
        assert entry["bytes"] == sum((out / f["path"]).stat().st_size for f in entry["files"])

    # every session asked exactly what §3.2 prescribes, pinned to the manifest's instant
    instant = dt.datetime.fromisoformat(pinned.pop().replace("Z", "+00:00"))
    assert manifest["format"] == 2 and manifest["contracts"] == [V37, V54]
    assert len(traffic.sessions) == 11
    for request in traffic.sessions:
        key = ".".join(request.read_session.table.split("/")[3::2])
        assert list(request.read_session.read_options.selected_fields) == TABLES[key].all_column_names
        assert request.read_session.read_options.row_restriction == manifest["tables"][key]["row_restriction"]
        assert request.read_session.data_format == DataFormat.ARROW
        assert request.read_session.table_modifiers.snapshot_time == instant
    # the big table came in several streams, one file per stream
    odds = manifest["tables"][ODDS]
    assert len(odds["files"]) >= 2 and report.tables[ODDS].streams >= 2
    assert odds["rows"] > 100_000
    # progress: monotone per table, ends with every stream done and all rows counted
    last = {}
    for event in events:
        previous = last.get(event.key)
        assert previous is None or event.rows >= previous.rows
        last[event.key] = event
    assert last[ODDS].finished and last[ODDS].rows == odds["rows"]


def test_reuse_reads_nothing_refresh_reads_again_and_extension_says_why(loaded, world, tmp_path):
    out = tmp_path / "snap"
    first = take_snapshot(loaded, RUN_START, RUN_END, out)
    manifest_before = (out / "manifest.json").read_bytes()

    traffic = StorageTraffic()
    again = take_snapshot(
        loaded,
        RUN_START + dt.timedelta(days=1),
        RUN_END,
        out,
        read_client=make_read_client(loaded, interceptors=[traffic.interceptor]),
    )
    assert again.reused
    assert traffic.sessions == [] and traffic.read_rows == []
    assert (out / "manifest.json").read_bytes() == manifest_before
    assert "read nothing" in " ".join(again.messages)
    assert again.rows == first.rows

    refreshed = take_snapshot(loaded, RUN_START, RUN_END, out, refresh=True)
    assert not refreshed.reused and refreshed.snapshot_time >= first.snapshot_time
    assert "--refresh" in refreshed.messages[0]
    Snapshot.open(out)
    for key in (PGS, BETTINGPROS):
        assert_same_rows(read_snapshot_table(out, key), expected_rows(world, key), key)

    later_end = RUN_END + dt.timedelta(days=2)
    extended = take_snapshot(loaded, RUN_START, later_end, out)
    assert not extended.reused
    text = "\n".join(extended.messages)
    assert "re-reading all 11 tables" in text
    odds_lo = EXPECTED_BOUNDS[ODDS][0]
    assert f"{ODDS} covers {odds_lo} .. {RUN_END}, the request needs {odds_lo} .. {later_end}" in text
    snapshot = Snapshot.open(out)
    snapshot.check_coverage(RUN_START, later_end)
    snapshot.check_coverage(RUN_START, RUN_END)
    lo, _ = EXPECTED_BOUNDS[ODDS]
    assert_same_rows(read_snapshot_table(out, ODDS), expected_rows(world, ODDS, (lo, later_end)), ODDS)

    # a range that does not touch the held one replaces it (and says so)
    far_start, far_end = RUN_START + dt.timedelta(days=40), RUN_END + dt.timedelta(days=40)
    moved = take_snapshot(loaded, far_start, far_end, out)
    assert "does not touch" in moved.messages[0]
    snapshot = Snapshot.open(out)
    assert (snapshot.tables[ODDS].start, snapshot.tables[ODDS].end) == (far_start - dt.timedelta(days=14), far_end)
    assert snapshot.tables[ODDS].rows == 0
    assert (snapshot.tables[PGS].start, snapshot.tables[PGS].end) == (far_start - dt.timedelta(days=366), far_end)


def test_a_dropped_stream_resumes_at_its_offset(loaded, world, tmp_path):
    out = tmp_path / "snap"
    traffic = StorageTraffic(fail_after=1, failures=1)
    notes = []
    report = take_snapshot(
        loaded,
        RUN_START,
        RUN_END,
        out,
        log=notes.append,
        read_client=make_read_client(loaded, interceptors=[traffic.interceptor]),
    )
    assert len(traffic.failed_streams) == 1
    ((stream, delivered),) = traffic.failed_streams.items()
    assert delivered > 0
    # the reader asked the same stream again from exactly the rows it had, not from 0 (more than
    # once when the server answered "offset ... has not been allocated yet": the emulator, like
    # BigQuery while a stream is being produced, may not have reached that row yet)
    offsets = [offset for name, offset in traffic.read_rows if name == stream]
    assert offsets[0] == 0 and len(offsets) >= 2 and set(offsets[1:]) == {delivered}
    assert report.tables[ODDS].resumes == 1
    assert any("resuming" in n and ODDS in n for n in notes)
    assert_same_rows(read_snapshot_table(out, ODDS), expected_rows(world, ODDS), ODDS)
    Snapshot.open(out)


@pytest.mark.parametrize(
    ("code", "details", "resumed"),
    [
        ("DEADLINE_EXCEEDED", "Deadline Exceeded", True),
        ("RESOURCE_EXHAUSTED", "quota: too many concurrent streams", True),
        ("INTERNAL", "Received RST_STREAM with error code 2", True),
        ("INTERNAL", "division by zero in the reader", False),
        ("PERMISSION_DENIED", "caller lacks bigquery.readsessions.getData", False),
    ],
)
def test_which_stream_errors_are_resumed(loaded, world, tmp_path, code, details, resumed):
    out = tmp_path / "snap"
    traffic = StorageTraffic(fail_after=0, failures=1, code=code, details=details)
    client = make_read_client(loaded, interceptors=[traffic.interceptor])
    if resumed:
        report = take_snapshot(loaded, RUN_START, RUN_END, out, read_client=client)
        assert report.tables[ODDS].resumes == 1
        assert_same_rows(read_snapshot_table(out, ODDS), expected_rows(world, ODDS), ODDS)
    else:
        with pytest.raises(SnapshotError, match="not transient") as raised:
            take_snapshot(loaded, RUN_START, RUN_END, out, read_client=client)
        assert details in str(raised.value)
        assert not out.exists()


def test_an_offset_not_allocated_yet_is_asked_again_within_the_read_timeout(loaded, world, tmp_path):
    out = tmp_path / "snap"
    traffic = StorageTraffic(
        fail_after=1, failures=3, code="FAILED_PRECONDITION", details="offset 2048 has not been allocated yet"
    )
    notes = []
    report = take_snapshot(
        loaded,
        RUN_START,
        RUN_END,
        out,
        log=notes.append,
        read_client=make_read_client(loaded, interceptors=[traffic.interceptor]),
    )
    assert traffic.failures_left == 0  # the error came three times and the read went on
    assert report.tables[ODDS].resumes == 0  # waiting for the server is not a dropped stream
    assert_same_rows(read_snapshot_table(out, ODDS), expected_rows(world, ODDS), ODDS)


def test_an_offset_that_never_gets_allocated_fails_at_the_read_timeout(loaded, tmp_path):
    import time

    from fsengine.config import with_overrides

    config = with_overrides(loaded, read_timeout=2.0)
    traffic = StorageTraffic(
        fail_after=0, failures=10_000, code="FAILED_PRECONDITION", details="offset 0 has not been allocated yet"
    )
    began = time.monotonic()
    with pytest.raises(SnapshotError, match="read timeout of 2 s"):
        take_snapshot(
            config,
            RUN_START,
            RUN_END,
            tmp_path / "snap",
            read_client=make_read_client(config, interceptors=[traffic.interceptor]),
        )
    assert time.monotonic() - began < 2 + 10
    assert list(tmp_path.iterdir()) == []


def test_a_stream_that_keeps_failing_leaves_no_snapshot(loaded, tmp_path):
    out = tmp_path / "snap"
    traffic = StorageTraffic(fail_after=0, failures=100)
    with pytest.raises(SnapshotError) as raised:
        take_snapshot(
            loaded,
            RUN_START,
            RUN_END,
            out,
            max_resumes=2,
            read_client=make_read_client(loaded, interceptors=[traffic.interceptor]),
        )
    assert "gave up after 2 resumes" in str(raised.value)
    assert "fse-world-snapshot.nba_raw.odds_api_player_points_props" in str(raised.value)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no staging folder left behind


def test_live_int64_minutes_are_recorded_and_kept(bq_emulator, loaded, tmp_path):
    project = "fse-world-int-minutes"
    small = build_world(seed=11, odds_rows=50, minutes_type="INT64")
    bettingpros, fields = small[BETTINGPROS]  # no points lines at all: an empty read
    market = bettingpros.schema.get_field_index("market_type")
    small[BETTINGPROS] = (
        bettingpros.set_column(market, "market_type", pa.array(["rebounds"] * len(bettingpros))),
        fields,
    )
    load_world(bq_emulator.bigquery_client(project), project, small)
    config = emulator_config(bq_emulator, project)
    out = tmp_path / "snap"
    report = take_snapshot(config, RUN_START, RUN_END, out, max_streams=1)
    snapshot = Snapshot.open(out)
    assert snapshot.minutes_type == "INT64"
    assert report.tables[PGS].column_types["minutes_played"] == "INT64"
    got = read_snapshot_table(out, PGS)
    assert got.schema.field("minutes_played").type == pa.int64()
    assert_same_rows(got, expected_rows(small, PGS), PGS)
    # an empty read still gets one file with the full schema
    entry = json.loads((out / "manifest.json").read_text())["tables"][BETTINGPROS]
    assert entry["rows"] == 0 and len(entry["files"]) == 1 and entry["files"][0]["rows"] == 0
    empty = read_snapshot_table(out, BETTINGPROS)
    assert empty.num_rows == 0 and empty.column_names == TABLES[BETTINGPROS].all_column_names
    assert_same_rows(read_snapshot_table(out, ODDS), expected_rows(small, ODDS), ODDS)

    # the same folder asked of another project whose PGS has NUMERIC minutes: re-read, and why
    switched = take_snapshot(loaded, RUN_START, RUN_END, out)
    text = "\n".join(switched.messages)
    assert not switched.reused
    assert f"{PGS} was read from {project}.{PGS}, this run reads fse-world-snapshot.{PGS}" in text
    assert f"{PGS}: column types changed in BigQuery (minutes_played INT64 -> NUMERIC)" in text
    assert Snapshot.open(out).minutes_type == "NUMERIC"


def test_missing_project_dataset_and_table_and_wrong_types_are_named(bq_emulator, tmp_path):
    from google.cloud import bigquery

    config = emulator_config(bq_emulator, "fse-no-such-project")
    with pytest.raises(SnapshotError, match="dataset fse-no-such-project.nba_analytics not found"):
        take_snapshot(config, RUN_START, RUN_END, tmp_path / "a")

    project = "fse-world-partial"
    small = build_world(seed=3, odds_rows=10)
    client = bq_emulator.bigquery_client(project)
    load_world(client, project, small, skip=(BETTINGPROS,))
    config = emulator_config(bq_emulator, project)
    with pytest.raises(SnapshotError, match=f"table {project}.{BETTINGPROS} not found"):
        take_snapshot(config, RUN_START, RUN_END, tmp_path / "b")

    wrong = [
        bigquery.SchemaField(c.name, "STRING" if c.name == "points_line" else c.bq_type)
        for c in TABLES[BETTINGPROS].columns
    ]
    client.create_table(bigquery.Table(f"{project}.{BETTINGPROS}", schema=wrong))
    with pytest.raises(SnapshotError, match=f"{project}.{BETTINGPROS}.points_line is STRING"):
        take_snapshot(config, RUN_START, RUN_END, tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_refuses_to_replace_a_folder_that_is_not_a_snapshot(loaded, tmp_path):
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete")
    with pytest.raises(InputError, match="refusing"):
        take_snapshot(loaded, RUN_START, RUN_END, precious)
    (precious / "manifest.json").write_text("{}")  # a manifest does not make the rest ours
    with pytest.raises(InputError, match="refusing"):
        take_snapshot(loaded, RUN_START, RUN_END, precious)
    assert (precious / "thesis.txt").read_text() == "do not delete"


def test_no_credentials_in_messages(loaded, tmp_path):
    notes = []
    report = take_snapshot(loaded, RUN_START, RUN_END, tmp_path / "snap", log=notes.append)
    text = report.render() + "\n".join(notes) + repr(loaded) + loaded.describe()
    for marker in ("token", "Bearer", "private_key", "Authorization"):
        assert marker.lower() not in text.lower()


def test_the_bundled_fixture_world_round_trips(bq_emulator, tmp_path):
    """fixtures/small loaded into BigQuery (emulated) and snapshotted back on a sub-range."""
    fixture = Snapshot.open(Path(__file__).resolve().parent.parent / "fixtures" / "small")
    project = "fse-fixture-small"
    client = bq_emulator.bigquery_client(project)
    tables = {}
    for key, held in fixture.tables.items():
        data = pa.concat_tables([pq.read_table(f) for f in held.files])
        required = {c.name for c in TABLES[key].all_columns if not c.nullable}
        fields = [(name, bq_type, name in required, None, None) for name, bq_type in held.column_types.items()]
        tables[key] = (data, fields)
    load_world(client, project, tables)
    start, end = dt.date(2025, 11, 5), dt.date(2025, 11, 20)
    out = tmp_path / "snap"
    take_snapshot(emulator_config(bq_emulator, project), start, end, out, max_streams=2)
    snapshot = Snapshot.open(out)
    snapshot.check_coverage(start, end)
    # the union of both contracts' windows for [11-05, 11-20] (docs/sources.md §4, docs/v2_54/sources.md §1)
    firsts = {
        PGS: dt.date(2024, 11, 4),
        "nba_analytics.team_offense_game_summary": dt.date(2025, 9, 6),
        ODDS: dt.date(2025, 10, 22),
        ACCURACY: dt.date(2025, 9, 6),
    }
    for key in (
        "nba_precompute.player_daily_cache",
        "nba_precompute.player_composite_factors",
        "nba_precompute.player_shot_zone_analysis",
        "nba_precompute.team_defense_zone_analysis",
    ):
        firsts[key] = dt.date(2025, 10, 22)
    assert set(fixture.tables) == set(snapshot.tables) and len(snapshot.tables) == 11
    for key, held in fixture.tables.items():
        lo = firsts.get(key, start)
        assert (snapshot.tables[key].start, snapshot.tables[key].end) == (lo, end)
        assert snapshot.tables[key].column_types == held.column_types
        assert snapshot.tables[key].rows > 0
        assert_same_rows(read_snapshot_table(out, key), expected_rows(tables, key, (lo, end)), key)


def test_a_v2_37_snapshot_reads_only_its_tables_columns_and_windows(loaded, world, tmp_path):
    out = tmp_path / "snap"
    traffic = StorageTraffic()
    take_snapshot(
        loaded,
        RUN_START,
        RUN_END,
        out,
        contracts=[V37],
        read_client=make_read_client(loaded, interceptors=[traffic.interceptor]),
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == 2 and manifest["contracts"] == [V37]
    assert set(manifest["tables"]) == set(EXPECTED_BOUNDS_V37)
    assert len(traffic.sessions) == 9
    for request in traffic.sessions:
        key = ".".join(request.read_session.table.split("/")[3::2])
        assert list(request.read_session.read_options.selected_fields) == TABLES[key].column_names  # S37 columns
    for key, (lo, hi) in EXPECTED_BOUNDS_V37.items():
        assert (manifest["tables"][key]["start"], manifest["tables"][key]["end"]) == (lo.isoformat(), hi.isoformat())
        assert_same_rows(read_snapshot_table(out, key), expected_rows(world, key, (lo, hi), [V37]), key)
    with pytest.raises(SnapshotError, match=f"taken for contracts \\[{V37}\\]; contract {V54} also needs"):
        Snapshot.open(out, contract=V54)
    Snapshot.open(out, contract=V37).check_coverage(RUN_START, RUN_END)

    # the same folder asked for both contracts: read anew, and why
    both = take_snapshot(loaded, RUN_START, RUN_END, out)
    assert not both.reused
    assert f"was taken for contracts [{V37}], this request is for [{V37}, {V54}]" in "\n".join(both.messages)
    snapshot = Snapshot.open(out, contract=V54)
    snapshot.check_coverage(RUN_START, RUN_END)
    assert_same_rows(read_snapshot_table(out, INJURY), expected_rows(world, INJURY), INJURY)
    # ... and asked again for v2_37 only: the both-contract snapshot serves it, nothing is read
    again = take_snapshot(loaded, RUN_START, RUN_END, out, contracts=[V37])
    assert again.reused and again.contracts == (V37, V54)


def test_a_v2_54_snapshot_takes_v2_54_windows(loaded, world, tmp_path):
    out = tmp_path / "snap"
    take_snapshot(loaded, RUN_START, RUN_END, out, contracts=[V54])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["contracts"] == [V54]
    cache = manifest["tables"]["nba_precompute.player_daily_cache"]
    assert (cache["start"], cache["end"]) == (RUN_START.isoformat(), RUN_END.isoformat())  # exact date only
    offense = manifest["tables"]["nba_analytics.team_offense_game_summary"]
    assert offense["start"] == "2025-09-04"
    accuracy = manifest["tables"][ACCURACY]
    assert accuracy["row_restriction"] == "game_date BETWEEN CAST('2025-09-04' AS DATE) AND CAST('2025-11-09' AS DATE)"
    injury = manifest["tables"][INJURY]
    assert injury["row_restriction"] == "report_date BETWEEN CAST('2025-11-03' AS DATE) AND CAST('2025-11-09' AS DATE)"
    assert_same_rows(read_snapshot_table(out, ACCURACY), expected_rows(world, ACCURACY, contracts=[V54]), ACCURACY)
    with pytest.raises(SnapshotError, match=f"--contract {V37}"):
        Snapshot.open(out, contract=V37)


def test_an_unknown_contract_is_refused_before_reading(loaded, tmp_path):
    with pytest.raises(InputError, match="v9_99features"):
        take_snapshot(loaded, RUN_START, RUN_END, tmp_path / "snap", contracts=["v9_99features"])
    assert not (tmp_path / "snap").exists()
