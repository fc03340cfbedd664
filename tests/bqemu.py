"""The `local-bigquery` emulator as a test harness (see shared/bigquery-emulator.md).

The emulator needs Python >= 3.13 and pins its own duckdb, so it runs as a separate server
process from its own venv, built once under `<repo>/.venv-bqemu/` and reused. The project
and its tests stay on their own interpreter and talk to it over loopback with the real
google client libraries.

    with Emulator.start() as emu:
        client = emu.bigquery_client()
        read_client = emu.read_client()

Environment knobs (all optional):
    FSENGINE_BQEMU_PYTHON   interpreter (>= 3.13) to build the venv with
    FSENGINE_BQEMU_VENV     venv folder (default <repo>/.venv-bqemu/venv)
    FSENGINE_BQEMU_TIMEOUT  seconds to wait for the server to answer (default 90)
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO_ROOT / ".venv-bqemu"
EXTENSIONS = ("ducklake", "icu", "spatial")
PROJECT = "test-project"
READY_STAMP = ".fsengine-ready"


class EmulatorError(RuntimeError):
    """The emulator could not be built or started; the message says what to look at."""


# --------------------------------------------------------------------------- the venv


def requirements_file() -> Path:
    """The pinned freeze of the emulator venv: the committed copy, else the shared one."""
    candidates = [
        REPO_ROOT / "tests" / "emulator-requirements.txt",
        REPO_ROOT.parent / "shared" / "emulator-requirements.txt",
    ]
    for path in candidates:
        if path.is_file():
            return path
    raise EmulatorError(f"no emulator requirements file; looked at {[str(p) for p in candidates]}")


def _python_at_least_313(executable: str) -> bool:
    try:
        done = subprocess.run(
            [executable, "-c", "import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def find_python313() -> str:
    """An interpreter >= 3.13: $FSENGINE_BQEMU_PYTHON, PATH, then pyenv's versions folder."""
    candidates: list[str] = []
    if os.environ.get("FSENGINE_BQEMU_PYTHON"):
        candidates.append(os.environ["FSENGINE_BQEMU_PYTHON"])
    for name in ("python3.13", "python3.14", "python3"):
        found = shutil.which(name)
        if found:
            candidates.append(found)
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.1[3-9]*/bin/python3"))
    candidates += ["/usr/local/bin/python3.13", "/usr/bin/python3.13"]
    for candidate in candidates:
        if _python_at_least_313(candidate):
            return candidate
    raise EmulatorError(
        "the BigQuery emulator needs Python >= 3.13 and none was found "
        f"(tried {candidates}); set FSENGINE_BQEMU_PYTHON to one"
    )


def venv_dir() -> Path:
    return Path(os.environ.get("FSENGINE_BQEMU_VENV", CACHE_DIR / "venv"))


def _run(cmd: list[str], what: str, timeout: float = 900, env: dict | None = None) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise EmulatorError(f"{what} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def ensure_venv() -> Path:
    """Build the emulator venv if it is missing or built from other pins; return its folder.

    A file lock keeps two pytest processes from building it at once; a stamp holding the
    hash of the requirements marks a finished build, so a half-built venv is rebuilt.
    """
    reqs = requirements_file()
    digest = hashlib.sha256(reqs.read_bytes()).hexdigest()
    venv = venv_dir()
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = venv / READY_STAMP
        if not (stamp.is_file() and stamp.read_text().strip() == digest):
            shutil.rmtree(venv, ignore_errors=True)
            python = find_python313()
            _run([python, "-m", "venv", str(venv)], f"creating the emulator venv with {python}")
            _run(
                [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "-r",
                    str(reqs),
                ],
                f"installing {reqs} into {venv}",
            )
            stamp.write_text(digest + "\n")
        _ensure_extensions(venv)
    return venv


_EXTENSION_SCRIPT = """
import os, sys, duckdb, duckdb_extensions
platform = duckdb.sql("pragma platform").fetchone()[0]
folder = os.path.join(os.path.expanduser("~"), ".duckdb", "extensions", "v" + duckdb.__version__, platform)
for name in sys.argv[1:]:
    # not duckdb_extensions(): it reports icu as built in, yet the server cannot autoload it
    if not os.path.isfile(os.path.join(folder, name + ".duckdb_extension")):
        duckdb_extensions.import_extension(name)
"""


def _ensure_extensions(venv: Path) -> None:
    """Copy the DuckDB extensions from their wheels into DuckDB's folder under this $HOME.

    The emulator would otherwise download them at first use, which fails offline. The
    folder is per user, so this is checked on every start (it is quick when done).
    """
    _run(
        [str(venv / "bin" / "python"), "-c", _EXTENSION_SCRIPT, *EXTENSIONS],
        f"installing DuckDB extensions {EXTENSIONS} for the emulator",
        timeout=300,
    )


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers_http(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:  # any HTTP status means the server is up
        return True
    except (urllib.error.URLError, OSError):
        return False


def _accepts_tcp(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        return True
    return False


@dataclass
class Emulator:
    """A running emulator; `start()` it, `stop()` it (or use it as a context manager)."""

    rest_port: int
    grpc_port: int
    data_dir: Path
    process: subprocess.Popen
    log_path: Path
    project: str = PROJECT
    _owned_dir: bool = field(default=False, repr=False)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @classmethod
    def start(cls, data_dir: Path | None = None, timeout: float | None = None) -> Emulator:
        venv = ensure_venv()
        owned = data_dir is None
        data_dir = Path(data_dir or tempfile.mkdtemp(prefix="fsengine-bqemu-"))
        data_dir.mkdir(parents=True, exist_ok=True)
        rest_port, grpc_port = free_port(), free_port()
        while grpc_port == rest_port:
            grpc_port = free_port()
        log_path = data_dir / "server.log"
        cmd = [
            str(venv / "bin" / "local-bigquery"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(rest_port),
            "--grpc-port",
            str(grpc_port),
            "--project",
            PROJECT,
            "--data-dir",
            str(data_dir / "data"),
        ]
        (data_dir / "data").mkdir(exist_ok=True)
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        emu = cls(rest_port, grpc_port, data_dir, process, log_path, PROJECT, owned)
        try:
            emu._wait_ready(timeout or float(os.environ.get("FSENGINE_BQEMU_TIMEOUT", "90")))
        except BaseException:
            emu.stop()
            raise
        return emu

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "<no log>"

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        probe = f"{self.rest_url}/bigquery/v2/projects/{self.project}/datasets"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmulatorError(
                    f"the emulator exited with code {self.process.returncode} before answering; "
                    f"its log ({self.log_path}):\n{self.log_tail()}"
                )
            if _answers_http(probe) and _accepts_tcp(self.grpc_port):
                return
            time.sleep(0.2)
        raise EmulatorError(
            f"the emulator did not answer on {self.rest_url} and gRPC port {self.grpc_port} within "
            f"{timeout:.0f} s; its log ({self.log_path}):\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self._owned_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- clients built the way production code builds them against a custom endpoint
    def bigquery_client(self, project: str | None = None):
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(
            project=project or self.project,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=self.rest_url),
        )

    def read_client(self, interceptors: list | None = None):
        """A BigQueryReadClient on an insecure channel (optionally with gRPC interceptors)."""
        import grpc
        from google.cloud.bigquery_storage_v1 import BigQueryReadClient
        from google.cloud.bigquery_storage_v1.services.big_query_read.transports import BigQueryReadGrpcTransport

        channel = grpc.insecure_channel(
            self.grpc_target,
            options=[("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)],
        )
        if interceptors:
            channel = grpc.intercept_channel(channel, *interceptors)
        return BigQueryReadClient(transport=BigQueryReadGrpcTransport(channel=channel))


# --------------------------------------------------------------------------- the push target


def create_target_table(client, table_id: str, fields: list):
    """Create the feature-store target with the declared layout of docs/output.md §7 (partitioned by
    game_date, clustered by player_lookup, feature_version, game_date) and the given columns —
    callers pass the documented table (tests/contract_table.py), never the code's schema.
    No require_partition_filter: the emulator rejects every MERGE into such a table."""
    from contract_table import CLUSTERING_FIELDS, PARTITION_FIELD
    from google.cloud import bigquery

    table = bigquery.Table(table_id, schema=fields)
    table.time_partitioning = bigquery.TimePartitioning(field=PARTITION_FIELD)
    table.clustering_fields = list(CLUSTERING_FIELDS)
    return client.create_table(table)


if __name__ == "__main__":  # manual check: build, start, list datasets, stop
    with Emulator.start() as running:
        print("REST", running.rest_url, "gRPC", running.grpc_target, file=sys.stderr)
        print(list(running.bigquery_client().list_datasets()))
