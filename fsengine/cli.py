"""The `fsengine` command line: options in, one library call (fsengine.pipeline & co.), rich
output. Errors are handled in one place (`_Cli`), never per command:

- an FsengineError prints one red line and exits with its exit_code (2 bad input, 3 job failed, ...);
- a usage error (bad option value, missing option) prints one line and exits 2;
- Ctrl-C (even inside a DuckDB query) prints one line and exits 130; SIGTERM likewise, 143;
- anything unexpected prints one line naming a file with the full traceback, and exits 1.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from fsengine import __version__
from fsengine.contracts import DEFAULT_RUN_CONTRACT
from fsengine.errors import FsengineError, InputError
from fsengine.pipeline import Mode


def _usage_error_class() -> type[Exception]:
    """The base class of command-line usage errors: typer >= 0.2x vendors click and raises its
    own TyperException; older typer raises click's ClickException."""
    try:
        from typer import TyperException

        return TyperException
    except ImportError:  # pragma: no cover - older typer on top of click
        from click import ClickException

        return ClickException


_UsageError = _usage_error_class()

console = Console()
# soft_wrap: an error stays one line however narrow the terminal
err_console = Console(stderr=True, soft_wrap=True)


# --------------------------------------------------------------------------- the error handler


# Seconds a stop signal gives the command to unwind (DuckDB and the output writers clean up on
# the way out) before the process leaves anyway: DuckDB looks at signals only between its tasks,
# and one task of a long query can run for minutes.
STOP_GRACE_SECONDS = 5.0


class _Stop:
    """Which stop signal arrived, if any, and whether its line has been printed. DuckDB turns a
    signal during a query into its own RuntimeError("Query interrupted"), so the signal is
    recorded rather than read off the exception that comes out."""

    signum: int | None = None
    said = False
    lock = threading.Lock()


def _on_signal(signum, frame):
    _Stop.signum = signum
    raise KeyboardInterrupt


def _say_stopped(signum: int | None) -> int:
    """Print the one line for a stop (once, whichever thread gets there first); its exit code."""
    with _Stop.lock:
        if not _Stop.said:
            _Stop.said = True
            if signum == signal.SIGTERM:
                _say("terminated (SIGTERM); stopped before finishing")
            else:
                _say("interrupted (Ctrl-C); stopped before finishing")
    return 128 + (signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)


def _watch(read_fd: int, finished: threading.Event) -> None:
    """Leave STOP_GRACE_SECONDS after a stop signal if the command has not unwound by then."""
    try:
        data = os.read(read_fd, 1)  # the signal number, written by the C-level handler at once
    except OSError:
        return
    if not data or data[0] not in (signal.SIGINT, signal.SIGTERM) or finished.wait(STOP_GRACE_SECONDS):
        return
    code = _say_stopped(data[0])
    sys.stderr.flush()
    # outputs are written to temporary names and renamed when complete, so leaving now leaves
    # no partial output behind (only temporary folders/tables that are ignored or expire)
    os._exit(code)


@contextmanager
def _stop_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt (recorded) for the duration of a command, and
    a watcher thread makes sure the process stops soon even if DuckDB keeps the main thread."""
    _Stop.signum, _Stop.said = None, False
    if threading.current_thread() is not threading.main_thread():  # signals go to the main thread only
        yield
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    finished = threading.Event()
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    watcher = threading.Thread(target=_watch, args=(read_fd, finished), name="fsengine-stop", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
        signal.set_wakeup_fd(previous_fd)
        for s, handler in previous.items():
            signal.signal(s, handler)
        os.close(write_fd)  # the watcher's read returns empty and it ends
        watcher.join(timeout=1)
        os.close(read_fd)


def _say(text: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(text)}", highlight=False)


def _crash_report(exc: BaseException) -> str:
    """Write the traceback of an unexpected exception to a file; return where (or why not)."""
    try:
        fd, path = tempfile.mkstemp(prefix="fsengine-crash-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"fsengine {__version__}, Python {sys.version.split()[0]}\nargv: {sys.argv!r}\n\n")
            handle.write("".join(traceback.format_exception(exc)))
        return f"the full traceback is in {path}"
    except OSError as write_error:
        return f"the traceback could not be written ({write_error.strerror})"


def _exit_code_for(exc: BaseException) -> int:
    """Print the one line for an exception raised by a command; return the exit code."""
    if _Stop.signum is not None or isinstance(exc, KeyboardInterrupt):
        return _say_stopped(_Stop.signum)
    if isinstance(exc, FsengineError):
        _say(str(exc))
        return exc.exit_code
    if isinstance(exc, BrokenPipeError):
        return _reader_gone()
    first_line = (str(exc).strip().splitlines() or [""])[0][:300]
    _say(f"unexpected {type(exc).__name__}: {first_line} — this is a bug; {_crash_report(exc)}")
    return 1


def _reader_gone() -> int:
    """stdout's reader closed the pipe (`fsengine ... | head`): stop quietly, as a shell tool does.
    stdout is pointed at /dev/null so that the interpreter's final flush does not fail again."""
    with suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 128 + signal.SIGPIPE


def _rejected_value(exc):
    """The value a parameter refused, when the validator recorded it (typer validates with pydantic)."""
    errors = getattr(exc.__cause__, "errors", None)
    try:
        return errors()[0].get("input") if callable(errors) else None
    except (IndexError, AttributeError, TypeError):
        return None


def _usage_line(exc) -> str:
    """One line for a usage error, naming the option first: `--repeats 0: input should be ...`."""
    param = getattr(exc, "param", None)
    if type(exc) is typer.BadParameter and param is not None:
        name = param.opts[0] if getattr(param, "opts", None) else param.name
        message = exc.message.removeprefix("Value error, ")  # pydantic's prefix for a validator's own text
        rejected = _rejected_value(exc)
        if rejected is None or repr(rejected) in message:
            message = f"{name} {message}"
        else:
            message = f"{name} {rejected}: {message[:1].lower()}{message[1:]}"
    else:
        message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    return f"{message} (see `{ctx.command_path} --help`)" if ctx is not None else message


class _Cli(TyperGroup):
    """The one place where errors become exit codes and one-line messages."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (_UsageError, typer.Exit, typer.Abort, SystemExit):
            raise  # usage errors, --help and explicit exits: click's own flow, handled in main()
        except BaseException as exc:  # noqa: BLE001 - this IS the handler
            raise typer.Exit(_exit_code_for(exc)) from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:  # an embedding caller wants the exceptions
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        with _stop_signals():
            try:
                code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            except _UsageError as exc:
                if type(exc).__name__ != "NoArgsIsHelpError":  # that one has printed the help already
                    _say(_usage_line(exc))
                code = exc.exit_code
            except typer.Abort:
                _say("aborted")
                code = 1
            except BrokenPipeError:
                code = _reader_gone()
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="fsengine",
    cls=_Cli,
    help=(
        "Recompute the NBA feature store ml_feature_store_v2 locally, for many game dates in one pass.\n\n"
        "Flow: snapshot (BigQuery -> Parquet) -> backfill (DuckDB extractions + Polars scoring -> Parquet) "
        "-> push (one load + one MERGE). Start with `fsengine backfill --out out/` on the bundled fixture."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
fixtures_app = typer.Typer(help="Synthetic NBA worlds (snapshots) for tests and benchmarks.", no_args_is_help=True)
app.add_typer(fixtures_app, name="fixtures")


# --------------------------------------------------------------------------- option types


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date in YYYY-MM-DD form") from None


def _needed_date(value: str | None, option: str) -> dt.date:
    """A date option the command cannot do without."""
    day = _date(value, option)
    if day is None:
        raise InputError(f"{option} is required (YYYY-MM-DD)")
    return day


def _path(value) -> Path:
    """A path option; refuses '' (which Path would silently turn into '.')."""
    if isinstance(value, str) and not value.strip():
        raise typer.BadParameter("is empty: give a path")
    return Path(value)


def _version(value: bool) -> None:
    if value:
        console.print(f"fsengine {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """fsengine command line."""


# --------------------------------------------------------------------------- backfill


@app.command()
def backfill(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            parser=_path,
            help="Output folder; rows go to OUT/ml_feature_store_v2/*.parquet (replaced atomically).",
        ),
    ] = Path("out"),
    snapshot: Annotated[
        Path | None,
        typer.Option("--snapshot", "-s", help="Snapshot folder (format 1 or 2). Default: the bundled fixtures/small."),
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First game date (YYYY-MM-DD). Default: first date the snapshot can serve.")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Last game date (YYYY-MM-DD). Default: last date the snapshot can serve.")
    ] = None,
    mode: Annotated[
        Mode, typer.Option(help="auto: backfill spine before --as-of, production from it; backfill; production.")
    ] = Mode.AUTO,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="The 'today' that splits backfill from production (default: today in America/New_York)."
        ),
    ] = None,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Skip SHA-256 verification of the snapshot files.")
    ] = False,
    chunk_dates: Annotated[
        str,
        typer.Option(
            "--chunk-dates",
            help="Game dates per chunk, or auto (sized from the rows per date so memory stays bounded). The rows do not depend on it.",
        ),
    ] = "auto",
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-j",
            min=1,
            help="Processes computing chunks at once (default: one per CPU). The rows do not depend on it.",
        ),
    ] = None,
    chunk: Annotated[
        str | None,
        typer.Option(
            "--chunk",
            help="Compute only part I of N of the range (I counts from 1), for runs spread over N machines; env or env/N takes I (from 0) and N from CLOUD_RUN_TASK_INDEX/COUNT, BATCH_TASK_INDEX/COUNT or JOB_COMPLETION_INDEX. See `fsengine plan`.",
        ),
    ] = None,
    contract: Annotated[
        str,
        typer.Option(
            "--contract",
            help="Feature contract: v2_54features (profile head-2026-07, what the live table holds) or v2_37features (profile reference), or a contract .toml file; the profile follows from it.",
        ),
    ] = DEFAULT_RUN_CONTRACT,
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="Write an empty output when the run produces no row (otherwise an error, exit 2, and the previous output is kept).",
        ),
    ] = False,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="Memory the engine (DuckDB) may use, e.g. 4GB or 75%. Default: 75% of the cgroup / RLIMIT_AS limit when one is set.",
        ),
    ] = None,
) -> None:
    """Compute every feature row of a date range in one pass and write it as Parquet.

    The range is computed in chunks of consecutive game dates (memory is bounded by a chunk,
    not by the range), by several processes at once; the rows are the same for any chunking.

    Examples:

      fsengine backfill --out out/                       # bundled fixture, whole range

      fsengine backfill -s snap/ --start 2025-11-04 --end 2026-02-06 -o out/

      fsengine backfill -s snap/ --contract v2_37features -o out37/

      fsengine backfill -s snap/ --chunk 2/8 -o out/chunk-2   # part 2 of 8 (see fsengine plan)
    """
    from fsengine.engine.chunks import parse_chunk_dates, parse_chunk_selector
    from fsengine.pipeline import backfill as run_backfill

    start_d, end_d, as_of_d = _date(start, "--start"), _date(end, "--end"), _date(as_of, "--as-of")
    dates_per_chunk = parse_chunk_dates(chunk_dates)
    selected = parse_chunk_selector(chunk) if chunk is not None else None
    with console.status("computing…") as status:
        report = run_backfill(
            out,
            snapshot,
            start_d,
            end_d,
            mode=mode,
            as_of=as_of_d,
            verify_checksums=not no_verify,
            progress=lambda message: status.update(message),
            chunk_dates=dates_per_chunk,
            workers=workers,
            chunk=selected,
            contract=contract,
            allow_empty=allow_empty,
            memory_limit=memory_limit,
        )
    timing = Table(title="time per stage (whole range)", show_edge=False)
    timing.add_column("stage")
    timing.add_column("seconds", justify="right")
    for name, seconds in report.timings.items():
        timing.add_row(name, f"{seconds:.3f}")
    console.print(timing)
    console.print(_rows_per_date_table(report.rows_per_date))
    per_date = list(report.rows_per_date.values())
    console.print(
        f"[bold]{report.rows}[/] rows for [bold]{len(per_date)}[/] game dates "
        f"({report.start} .. {report.end}; {min(per_date, default=0)}–{max(per_date, default=0)} rows per date) "
        f"in {report.wall_seconds:.2f} s -> {report.out}"
    )


@app.command()
def plan(
    chunks: Annotated[
        int | None,
        typer.Option("--chunks", "-n", min=1, help="Number of independent parts (one per machine or task)."),
    ] = None,
    snapshot: Annotated[
        Path | None, typer.Option("--snapshot", "-s", help="Snapshot folder. Default: the bundled fixtures/small.")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First game date (YYYY-MM-DD). Default: first date the snapshot can serve.")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Last game date (YYYY-MM-DD). Default: last date the snapshot can serve.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Parent folder; part I writes OUT/chunk-I-of-N.")] = Path(
        "out"
    ),
    mode: Annotated[Mode, typer.Option(help="auto, backfill or production (as for backfill).")] = Mode.AUTO,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="As for backfill; fixed here so every part uses the same one.")
    ] = None,
    contract: Annotated[
        str, typer.Option("--contract", help="Feature contract every part computes (as for backfill).")
    ] = DEFAULT_RUN_CONTRACT,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the plan as JSON (one object per part) instead of commands.")
    ] = False,
    stale_dates: Annotated[
        bool,
        typer.Option(
            "--stale",
            help="Instead of chunks: print the dates of [start, end] whose stored rows are stale in the target "
            "(the plan `run --only-stale` would push), and push nothing. Same as `fsengine stale`.",
        ),
    ] = False,
    replace_contract: Annotated[
        bool, typer.Option("--replace-contract", help="With --stale: as for `fsengine stale`.")
    ] = False,
    dataset: Annotated[str | None, typer.Option(help="With --stale: target dataset (default nba_predictions).")] = None,
    table: Annotated[str | None, typer.Option(help="With --stale: target table (default ml_feature_store_v2).")] = None,
    project: ProjectOpt = None,
    api_endpoint: ApiEndpointOpt = None,
    storage_endpoint: StorageEndpointOpt = None,
    anonymous: AnonymousOpt = False,
    location: LocationOpt = None,
    config_file: ConfigOpt = None,
    call_timeout: CallTimeoutOpt = None,
    job_timeout: JobTimeoutOpt = None,
    read_timeout: ReadTimeoutOpt = None,
) -> None:
    """Cut a run into N independent parts of nearly equal game dates and print one
    `fsengine backfill` command per part. Run them anywhere, in any order, at once; then
    `fsengine push OUT/chunk-*` writes them all with one load and one MERGE.

    With --stale (and the BigQuery options), print instead the stale dates of the range, as
    `fsengine stale` does: the snapshot (reused when it covers the range) is computed and the
    target's stored rows read; nothing is pushed.

    Examples:

      fsengine plan -s snap/ --start 2021-10-19 --end 2026-06-01 --chunks 8 --json

      fsengine plan -s snap/ --chunks 4 -o out/ | tail -n +2 | xargs -P 4 -I{} sh -c '{}'

      fsengine plan --stale --project nba-props-platform --start 2021-01-01 --end 2026-02-06
    """
    if stale_dates:
        if start is None or end is None:
            raise InputError("plan --stale needs --start and --end")
        return stale(
            start=start,
            end=end,
            snapshot_dir=snapshot or Path("snapshot"),
            out=out,
            mode=mode,
            as_of=as_of,
            replace_contract=replace_contract,
            contract=contract,
            dataset=dataset,
            table=table,
            project=project,
            api_endpoint=api_endpoint,
            storage_endpoint=storage_endpoint,
            anonymous=anonymous,
            location=location,
            config_file=config_file,
            call_timeout=call_timeout,
            job_timeout=job_timeout,
            read_timeout=read_timeout,
        )
    if chunks is None:
        raise InputError("plan needs --chunks N (the number of parts), or --stale")
    import json
    import shlex

    from fsengine.engine.compute import default_as_of
    from fsengine.pipeline import default_snapshot, plan_machines, resolve_range
    from fsengine.snapshot.format import Snapshot
    from fsengine.snapshot.sources import CONTRACT_SOURCES

    mode_text = Mode(mode).value
    as_of_d = _date(as_of, "--as-of") or default_as_of()
    snap = Snapshot.open(snapshot or default_snapshot(), verify_checksums=False)
    if contract in CONTRACT_SOURCES and contract not in snap.declared:
        snap.require(contract)  # refused as backfill would refuse every part: says what is missing
    start_d, end_d = resolve_range(snap, _date(start, "--start"), _date(end, "--end"))
    parts = plan_machines(snap, start_d, end_d, chunks, mode=mode_text, as_of=as_of_d)
    entries = []
    for part in parts:
        folder = out / part.folder_name
        command = [
            "fsengine",
            "backfill",
            "--snapshot",
            str(snap.path),
            "--start",
            start_d.isoformat(),
            "--end",
            end_d.isoformat(),
            "--mode",
            mode_text,
            "--as-of",
            as_of_d.isoformat(),
            "--contract",
            contract,
            "--chunk",
            part.label,
            "--out",
            str(folder),
        ]
        entries.append(
            {
                "chunk": part.label,
                "index": part.index,
                "count": part.count,
                "start": part.start.isoformat(),
                "end": part.end.isoformat(),
                "game_dates": part.dates,
                "out": str(folder),
                "command": shlex.join(command),
            }
        )
    if as_json:
        print(json.dumps(entries, indent=2))
        return
    print(f"# {len(entries)} parts of {start_d} .. {end_d}; then: fsengine push {shlex.quote(str(out))}/chunk-*")
    for entry in entries:
        print(entry["command"])


def _rows_per_date_table(rows_per_date: dict[dt.date, int]) -> Table:
    """Rows per date; by month when the run is longer than a month."""
    if len(rows_per_date) <= 31:
        table = Table(title="rows per date", show_edge=False)
        table.add_column("game date")
        table.add_column("rows", justify="right")
        for day, count in rows_per_date.items():
            table.add_row(day.isoformat(), str(count))
        return table
    months: dict[str, list[int]] = {}
    for day, count in rows_per_date.items():
        months.setdefault(day.strftime("%Y-%m"), []).append(count)
    table = Table(title="rows per date, by month", show_edge=False)
    for col in ("month", "dates", "rows", "min/date", "max/date"):
        table.add_column(col, justify="left" if col == "month" else "right")
    for month, counts in months.items():
        table.add_row(month, str(len(counts)), f"{sum(counts):,}", str(min(counts)), str(max(counts)))
    return table


# --------------------------------------------------------------------------- fixtures


@fixtures_app.command("generate")
def fixtures_generate(
    out: Annotated[
        Path, typer.Option("--out", "-o", parser=_path, help="Snapshot folder to write (replaced atomically).")
    ],
    preset: Annotated[
        str,
        typer.Option(
            help="small (one month, 2025-11), season (2025-26 with playoffs), nba5 (2021-22 .. 2025-26), x10 (ten times nba5)."
        ),
    ] = "small",
    seed: Annotated[
        int, typer.Option(min=0, help="Random seed (>= 0); the same seed gives byte-identical files.")
    ] = 20260206,
    seasons: Annotated[
        str | None,
        typer.Option(help="Count (5), range (2021-2025) or list (2021,2023) of season start years (2025 = 2025-26)."),
    ] = None,
    teams: Annotated[int | None, typer.Option(help="Number of teams (default 30).")] = None,
    players_per_team: Annotated[
        int | None, typer.Option("--players-per-team", help="Rostered players per team (default 12).")
    ] = None,
    minutes_type: Annotated[
        str | None,
        typer.Option(
            "--minutes-type",
            help="Type of player_game_summary.minutes_played: NUMERIC (the DDL) or INT64 (the alternative live type).",
        ),
    ] = None,
    first_date: Annotated[
        str | None, typer.Option("--first-date", help="First date the snapshot must serve (YYYY-MM-DD).")
    ] = None,
    last_date: Annotated[
        str | None, typer.Option("--last-date", help="Last date the snapshot must serve (YYYY-MM-DD).")
    ] = None,
    bookmakers: Annotated[int | None, typer.Option(help="Odds API bookmakers, 1..8.")] = None,
    odds_polls: Annotated[int | None, typer.Option("--odds-polls", help="Odds API polls per date, 1..12.")] = None,
) -> None:
    """Generate a deterministic synthetic NBA world as a format-2 snapshot serving both contracts, with the imperfections of production (DNPs, trades, missing context rows, Phase-4 gaps and empty dates, duplicates, missing lines).

    Examples:

      fsengine fixtures generate --preset season --out worlds/season

      fsengine fixtures generate --preset nba5 --out worlds/nba5 --seed 7 --minutes-type INT64
    """
    from fsengine.synthetic.generate import generate
    from fsengine.synthetic.presets import parse_seasons

    with console.status(f"generating {preset}…"):
        result = generate(
            preset,
            out,
            seed=seed,
            seasons=parse_seasons(seasons) if seasons else None,
            teams=teams,
            players_per_team=players_per_team,
            minutes_type=minutes_type,
            first_date=first_date,
            last_date=last_date,
            bookmakers=bookmakers,
            odds_polls=odds_polls,
        )
    console.print(result.render(), highlight=False, markup=False)


# --------------------------------------------------------------------------- range options (run, stale)

RangeStartOpt = Annotated[str, typer.Option("--start", help="First game date (YYYY-MM-DD).")]
RangeEndOpt = Annotated[str, typer.Option("--end", help="Last game date (YYYY-MM-DD).")]
ReusedSnapshotOpt = Annotated[
    Path, typer.Option("--snapshot", "-s", parser=_path, help="Snapshot folder, reused when it covers the range.")
]
RunModeOpt = Annotated[Mode, typer.Option(help="auto, backfill or production (see `fsengine backfill --help`).")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="The 'today' that splits backfill from production.")]
DatasetOpt = Annotated[str | None, typer.Option(help="Target dataset (default nba_predictions).")]
TableOpt = Annotated[str | None, typer.Option(help="Target table (default ml_feature_store_v2).")]

# --------------------------------------------------------------------------- BigQuery options (shared)

ProjectOpt = Annotated[
    str | None,
    typer.Option(
        "--project",
        "-p",
        help="GCP project of the source and target tables (default nba-props-platform; env FSENGINE_PROJECT).",
    ),
]
ApiEndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--api-endpoint",
        help="BigQuery REST endpoint URL, e.g. an emulator http://127.0.0.1:9050 (env FSENGINE_API_ENDPOINT).",
    ),
]
StorageEndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--storage-endpoint",
        help="Storage Read gRPC HOST:PORT; plain text, loopback only (env FSENGINE_STORAGE_ENDPOINT).",
    ),
]
AnonymousOpt = Annotated[
    bool,
    typer.Option(
        "--anonymous",
        help="No credentials; only with custom endpoints (env FSENGINE_ANONYMOUS=1). Otherwise Application Default Credentials.",
    ),
]
LocationOpt = Annotated[
    str | None, typer.Option("--location", help="BigQuery location for jobs (env FSENGINE_LOCATION).")
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="fsengine.toml with project, endpoints, table names, timeouts (default ./fsengine.toml if present).",
    ),
]
CallTimeoutOpt = Annotated[float | None, typer.Option("--call-timeout", help="Seconds for each API call (default 60).")]
JobTimeoutOpt = Annotated[
    float | None,
    typer.Option("--job-timeout", help="Seconds a BigQuery job may run before it is cancelled (default 900)."),
]
ReadTimeoutOpt = Annotated[
    float | None, typer.Option("--read-timeout", help="Seconds for one Storage Read stream (default 1800).")
]


def _settings(
    project,
    api_endpoint,
    storage_endpoint,
    anonymous,
    location,
    config_file,
    call_timeout=None,
    job_timeout=None,
    read_timeout=None,
) -> dict:
    """The BigQuery flags as fsengine.config.load_config keywords (None = not given)."""
    return dict(
        project=project,
        api_endpoint=api_endpoint,
        storage_endpoint=storage_endpoint,
        anonymous=True if anonymous else None,
        location=location,
        config_file=config_file,
        call_timeout=call_timeout,
        job_timeout=job_timeout,
        read_timeout=read_timeout,
    )


def _log(text: str) -> None:
    err_console.print(text, highlight=False, markup=False)


# --------------------------------------------------------------------------- snapshot


@app.command()
def snapshot(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            parser=_path,
            help="Snapshot folder (written atomically; reused when it already covers the request).",
        ),
    ],
    start: Annotated[
        str, typer.Option(help="First game date the snapshot must serve (YYYY-MM-DD); each table's lookback is added.")
    ],
    end: Annotated[str, typer.Option(help="Last game date (YYYY-MM-DD).")],
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Read every table again even if OUT already covers the range.")
    ] = False,
    max_streams: Annotated[
        int, typer.Option("--max-streams", help="Storage Read streams per table, read in parallel.")
    ] = 4,
    project: ProjectOpt = None,
    api_endpoint: ApiEndpointOpt = None,
    storage_endpoint: StorageEndpointOpt = None,
    anonymous: AnonymousOpt = False,
    location: LocationOpt = None,
    config_file: ConfigOpt = None,
    call_timeout: CallTimeoutOpt = None,
    read_timeout: ReadTimeoutOpt = None,
    contract: Annotated[
        list[str] | None,
        typer.Option(
            "--contract",
            help="Contract the snapshot must serve (repeatable; default: every contract, v2_37features and v2_54features).",
        ),
    ] = None,
) -> None:
    """Read the source tables through the BigQuery Storage Read API into a format-2 snapshot.

    Only the tables and columns the chosen contracts read and the dates the range needs (\\[start - lookback, end] per table, the union over the contracts) are read, all pinned to one snapshot time; the manifest lists the contracts served.

    Examples:

      fsengine snapshot --start 2025-11-04 --end 2026-02-06 --out snap/

      fsengine snapshot --start 2025-11-04 --end 2025-11-30 --out snap/ --api-endpoint http://127.0.0.1:9050 --storage-endpoint 127.0.0.1:9060 --anonymous
    """
    from fsengine.pipeline import snapshot as take_snapshot

    settings = _settings(
        project,
        api_endpoint,
        storage_endpoint,
        anonymous,
        location,
        config_file,
        call_timeout=call_timeout,
        read_timeout=read_timeout,
    )
    with console.status("reading…") as status:
        report = take_snapshot(
            out,
            _needed_date(start, "--start"),
            _needed_date(end, "--end"),
            refresh=refresh,
            contracts=contract or None,
            max_streams=max_streams,
            progress=status.update,
            log=_log,
            **settings,
        )
    console.print(report.render(), markup=False)  # reports are plain text; a push's [upsert] is not markup


# --------------------------------------------------------------------------- push


def _show(text: str) -> None:
    """The push's plan and diff, printed (not a transient status line) before its first job."""
    console.print(text, markup=False)


@app.command()
def push(
    out: Annotated[
        list[Path],
        typer.Argument(
            help="The backfill output folder (holding ml_feature_store_v2/); or several, or one folder of chunk folders (chunk-I-of-N/, see `fsengine plan`)."
        ),
    ],
    dataset: DatasetOpt = None,
    table: TableOpt = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Also delete stored rows of the run's dates that the run no longer produces."),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Check everything and print the diff, the statements and row counts; send no job."
        ),
    ] = False,
    contract: Annotated[
        str | None,
        typer.Option(
            "--contract",
            help="Refuse (exit 2, nothing sent) unless OUT holds rows of this contract (v2_54features, v2_37features or a contract .toml file). Default: push whichever contract OUT holds.",
        ),
    ] = None,
    replace_contract: Annotated[
        bool,
        typer.Option(
            "--replace-contract",
            help="Allow dates whose stored rows carry another feature_version/feature_count; those dates are rewritten whole.",
        ),
    ] = False,
    diff_features: Annotated[
        bool,
        typer.Option(
            "--diff-features",
            help="Also read the stored features and count, per feature, the rows whose value changes.",
        ),
    ] = False,
    only_stale: Annotated[
        bool,
        typer.Option(
            "--only-stale",
            help="Push only the dates whose stored rows are missing, without sources, of another contract (with --replace-contract) or differ from the run's.",
        ),
    ] = False,
    project: ProjectOpt = None,
    api_endpoint: ApiEndpointOpt = None,
    storage_endpoint: StorageEndpointOpt = None,
    anonymous: AnonymousOpt = False,
    location: LocationOpt = None,
    config_file: ConfigOpt = None,
    call_timeout: CallTimeoutOpt = None,
    job_timeout: JobTimeoutOpt = None,
    read_timeout: ReadTimeoutOpt = None,
) -> None:
    """Write a run to BigQuery: one load into an expiring staging table, then one MERGE.

    Exactly two jobs whatever the number of dates or folders: the chunk folders of a plan are pushed together (refused when two hold the same key or different contracts). The push lands whole or changes nothing; exit 2 = refused before any job, 3 = a job failed (target unchanged), 4 = the MERGE's counts do not reconcile.

    Examples:

      fsengine push out/ --project nba-props-platform --dry-run

      fsengine push out/ --project nba-props-platform --replace

      fsengine push out37/ --project nba-props-platform --contract v2_37features --table ml_feature_store_v2_37
      fsengine push out/ --project nba-props-platform --dry-run --diff-features
      fsengine push out/chunk-* --project nba-props-platform   # the parts of `fsengine plan`, one MERGE
    """
    from fsengine.pipeline import push as push_run

    settings = _settings(
        project,
        api_endpoint,
        storage_endpoint,
        anonymous,
        location,
        config_file,
        call_timeout=call_timeout,
        job_timeout=job_timeout,
        read_timeout=read_timeout,
    )
    with console.status("pushing…") as status:
        report = push_run(
            out[0] if len(out) == 1 else out,
            dataset=dataset,
            table=table,
            replace=replace,
            dry_run=dry_run,
            replace_contract=replace_contract,
            diff_features=diff_features,
            only_stale=only_stale,
            progress=status.update,
            show=_show,
            contract=contract,
            **settings,
        )
    console.print(report.render(), markup=False)  # reports are plain text; a push's [upsert] is not markup


# --------------------------------------------------------------------------- run


@app.command("run")
def run_all(
    start: RangeStartOpt,
    end: RangeEndOpt,
    snapshot_dir: ReusedSnapshotOpt = Path("snapshot"),
    out: Annotated[Path, typer.Option("--out", "-o", parser=_path, help="Output folder of the backfill.")] = Path(
        "out"
    ),
    mode: RunModeOpt = Mode.AUTO,
    as_of: AsOfOpt = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Delete stored rows of the run's dates that the run no longer produces.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Snapshot and backfill, then print the push statements without sending a job."),
    ] = False,
    only_stale: Annotated[
        bool,
        typer.Option(
            "--only-stale",
            help="Push only the stale dates (stored rows missing, without sources, of another contract with --replace-contract, or differing from the fresh computation); the plan is printed first. With --dry-run: print the plan only.",
        ),
    ] = False,
    replace_contract: Annotated[
        bool,
        typer.Option(
            "--replace-contract", help="Allow dates whose stored rows carry another contract; they are rewritten whole."
        ),
    ] = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Re-read the snapshot even if it covers the range.")
    ] = False,
    max_streams: Annotated[int, typer.Option("--max-streams", help="Storage Read streams per table.")] = 4,
    dataset: DatasetOpt = None,
    table: TableOpt = None,
    contract: Annotated[
        str,
        typer.Option(
            "--contract", help="Feature contract the backfill computes and the push checks (as for backfill)."
        ),
    ] = DEFAULT_RUN_CONTRACT,
    project: ProjectOpt = None,
    api_endpoint: ApiEndpointOpt = None,
    storage_endpoint: StorageEndpointOpt = None,
    anonymous: AnonymousOpt = False,
    location: LocationOpt = None,
    config_file: ConfigOpt = None,
    call_timeout: CallTimeoutOpt = None,
    job_timeout: JobTimeoutOpt = None,
    read_timeout: ReadTimeoutOpt = None,
) -> None:
    """Fix the table for a date range: snapshot (reused when it covers the range) + backfill + push.

    Examples:

      fsengine run --project nba-props-platform --start 2025-11-04 --end 2026-02-06

      fsengine run --start 2026-01-01 --end 2026-01-31 --dry-run

      fsengine run --start 2021-01-01 --end 2026-02-06 --only-stale --dry-run
    """
    from fsengine.pipeline import BackfillReport

    def stage_done(report) -> None:  # each stage's summary as soon as it is done, before the push
        console.print(report.summary() if isinstance(report, BackfillReport) else report.render(), markup=False)

    settings = _settings(
        project,
        api_endpoint,
        storage_endpoint,
        anonymous,
        location,
        config_file,
        call_timeout=call_timeout,
        job_timeout=job_timeout,
        read_timeout=read_timeout,
    )
    result = _run_pipeline(
        "running…",
        start,
        end,
        settings,
        snapshot_dir=snapshot_dir,
        out=out,
        mode=mode,
        as_of=_date(as_of, "--as-of"),
        replace=replace,
        dry_run=dry_run,
        refresh=refresh,
        only_stale=only_stale,
        replace_contract=replace_contract,
        show=_show,
        max_streams=max_streams,
        dataset=dataset,
        table=table,
        on_stage=stage_done,
        contract=contract,
    )
    console.print(result.push.render(), markup=False)


def _run_pipeline(status_text: str, start: str | None, end: str | None, settings: dict, **options):
    """`run` and `stale` share one pipeline call: the range checked, the connection settings and a
    status line that shows the pipeline's progress."""
    from fsengine.pipeline import run as run_pipeline

    with console.status(status_text) as status:
        return run_pipeline(
            _needed_date(start, "--start"),
            _needed_date(end, "--end"),
            progress=status.update,
            log=_log,
            **options,
            **settings,
        )


@app.command("stale")
def stale(
    start: RangeStartOpt,
    end: RangeEndOpt,
    snapshot_dir: ReusedSnapshotOpt = Path("snapshot"),
    out: Annotated[
        Path, typer.Option("--out", "-o", parser=_path, help="Output folder of the fresh computation.")
    ] = Path("out"),
    mode: RunModeOpt = Mode.AUTO,
    as_of: AsOfOpt = None,
    replace_contract: Annotated[
        bool,
        typer.Option(
            "--replace-contract",
            help="Count dates whose stored rows carry another contract as stale (else they are refused).",
        ),
    ] = False,
    contract: Annotated[
        str, typer.Option("--contract", help="Contract of the fresh computation (as for run).")
    ] = DEFAULT_RUN_CONTRACT,
    dataset: DatasetOpt = None,
    table: TableOpt = None,
    project: ProjectOpt = None,
    api_endpoint: ApiEndpointOpt = None,
    storage_endpoint: StorageEndpointOpt = None,
    anonymous: AnonymousOpt = False,
    location: LocationOpt = None,
    config_file: ConfigOpt = None,
    call_timeout: CallTimeoutOpt = None,
    job_timeout: JobTimeoutOpt = None,
    read_timeout: ReadTimeoutOpt = None,
) -> None:
    """Print the stale dates of a range (dates, rows, why) and push nothing: `run --only-stale --dry-run`
    showing only the plan. A date is stale when the target misses keys the fresh computation
    produces, holds rows without sources, rows of another contract (--replace-contract) or rows
    that differ from the fresh computation — so the range is snapshotted and computed into OUT.

    Example:

      fsengine stale --project nba-props-platform --start 2021-01-01 --end 2026-02-06
    """
    settings = _settings(
        project,
        api_endpoint,
        storage_endpoint,
        anonymous,
        location,
        config_file,
        call_timeout=call_timeout,
        job_timeout=job_timeout,
        read_timeout=read_timeout,
    )
    result = _run_pipeline(
        "planning…",
        start,
        end,
        settings,
        snapshot_dir=snapshot_dir,
        out=out,
        mode=mode,
        as_of=_date(as_of, "--as-of"),
        dry_run=True,
        only_stale=True,
        replace_contract=replace_contract,
        contract=contract,
        dataset=dataset,
        table=table,
    )
    console.print(result.push.plan_text(), markup=False)


# --------------------------------------------------------------------------- report / explain


@app.command()
def report(
    out: Annotated[Path, typer.Argument(help="Output folder of a run (reads OUT/ml_feature_store_v2/).")],
    last: Annotated[
        int | None,
        typer.Option(
            "--last",
            help="The N calendar days ending at the newest game_date in OUT (1 = that date only). Not with --start/--end.",
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First game date (YYYY-MM-DD). Default: the oldest date in OUT.")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Last game date (YYYY-MM-DD). Default: the newest date in OUT.")
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            parser=_path,
            help="Also write a self-contained HTML report (inline SVG charts, no network) to this file.",
        ),
    ] = None,
    top: Annotated[
        int, typer.Option(min=0, help="Defaulted features (and what-if features) listed in the terminal.")
    ] = 15,
    dates: Annotated[
        int, typer.Option(min=0, help="Newest game dates listed in the terminal (0 = all; the HTML lists all).")
    ] = 31,
) -> None:
    """Diagnose gaps in a run's output: which features default most, for how many players and why; defaults by category; quality tiers and alert levels; quality-ready players per date; and what if a category or feature were never defaulted (rows and players per date that would become quality-ready, ranked).

    Examples:

      fsengine report out/ --last 7

      fsengine report out/ --start 2025-11-04 --end 2026-02-06 --html report.html
    """
    from fsengine.diagnose.report import build_report, render_terminal, write_html
    from fsengine.paths import check_output_file

    if html is not None:
        check_output_file(html, "--html")  # before the diagnosis, not after it
    diagnosis = build_report(out, last_days=last, start=_date(start, "--start"), end=_date(end, "--end"))
    render_terminal(diagnosis, console, top=top, max_dates=dates)
    if html is not None:
        console.print(f"HTML report: {write_html(diagnosis, html)}")


@app.command()
def explain(
    player: Annotated[str, typer.Argument(help="player_lookup of the row, e.g. lebronjames.")],
    date: Annotated[str, typer.Argument(help="game_date of the row (YYYY-MM-DD).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder of the run that produced the row.")] = Path(
        "out"
    ),
    snapshot: Annotated[
        Path | None,
        typer.Option(
            "--snapshot",
            "-s",
            help="The snapshot the run read. Default: the one the run recorded in OUT (an error if it is gone), else the bundled fixtures/small.",
        ),
    ] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Verify the snapshot's SHA-256 checksums first (slow on big snapshots).")
    ] = False,
) -> None:
    """Explain one output row: every feature with its value, raw source tag, quality and fallback reason, and the snapshot rows behind it (last-10 list, daily-cache / composite / shot-zone / team-defense row and whether the table-level fallback fired, UPGC row, odds candidates with the chosen snapshots, opponent and 30-day games).

    Examples:

      fsengine explain lebronjames 2026-02-05 --out out/ --snapshot snap/
    """
    from fsengine.diagnose.explain import explain as explain_row
    from fsengine.diagnose.explain import render_explanation
    from fsengine.pipeline import recorded_snapshot

    result = explain_row(
        out, player, _needed_date(date, "DATE"), snapshot=snapshot or recorded_snapshot(out), verify_checksums=verify
    )
    render_explanation(result, console)


# --------------------------------------------------------------------------- bench


@app.command()
def bench(
    presets: Annotated[
        str, typer.Option(help="Comma-separated worlds to measure, smallest first (x20: x10 twice as long).")
    ] = "small,season,nba5,x10,x20",
    repeats: Annotated[
        int, typer.Option(min=1, help="Timed runs per world after one warm-up; figures are medians.")
    ] = 3,
    dates: Annotated[
        int, typer.Option(min=1, help="Number of consecutive dates for one date alone vs a date in a batch.")
    ] = 30,
    seed: Annotated[int, typer.Option(help="World seed (recorded in the results).")] = 20260206,
    quick: Annotated[
        bool, typer.Option("--quick", help="A run under a minute (small world, 1 run, 5 dates) to check the harness.")
    ] = False,
    warm_up: Annotated[
        bool, typer.Option("--warm-up/--no-warm-up", help="Run each world once untimed first (default).")
    ] = True,
    contract: Annotated[
        str,
        typer.Option(
            "--contract",
            help="Contract the worlds are measured under (nba5, or the largest world, is also measured under both, pairwise, and the ratio recorded).",
        ),
    ] = DEFAULT_RUN_CONTRACT,
) -> None:
    """Measure backfill speed against its floor (reading the snapshot, writing the rows), memory, per-date cost and scaling on the fixture worlds.

    Writes bench/results/<date>-<machine>.json and regenerates the table in bench/README.md.

    Examples:

      fsengine bench --quick

      fsengine bench --presets small,season,nba5 --repeats 5
    """
    from fsengine import benchmark as harness

    results, path = harness.run_bench(
        [p.strip() for p in presets.split(",") if p.strip()],
        repeats=repeats,
        per_date_dates=dates,
        seed=seed,
        quick=quick,
        note=lambda message: console.print(f"[dim]{escape(message)}[/]"),
        warm_up=warm_up,
        contract=contract,
    )
    table = Table(title="fsengine bench", show_edge=False)
    for col in ("world", "dates", "rows", "wall s (median)", "wall / floor", "peak RSS MiB (all processes)"):
        table.add_column(col, justify="right" if col != "world" else "left")
    for name, w in results["worlds"].items():
        table.add_row(
            name,
            str(w["dates"]),
            f"{w['rows']:,}",
            f"{w['wall_seconds']['median']:.2f}",
            f"{w['wall_over_floor']['median']:.1f}x",
            f"{w['peak_tree_rss_bytes']['median'] / 2**20:.0f}",
        )
    console.print(table)
    per_date = results["per_date"]
    marginal = per_date["marginal_per_date_in_batch"]
    console.print(
        f"one date alone: {per_date['one_date_in_process']['median']:.3f} s in process; a date in a batch: "
        f"{'n/a' if marginal is None else format(marginal['median'] * 1000, '.1f') + ' ms'}; "
        f"growth exponent: {results['growth_exponent']}"
    )
    both = results["contracts"]
    console.print(f"v2_54features / v2_37features on {both['world']}: {both['ratio_v2_54_over_v2_37']['median']:.2f}x")
    for key, verdict in results["verdicts"].items():
        console.print(
            f"{key}: {verdict['measured']:.3f} (target {verdict['target']}) {'met' if verdict['met'] else 'MISSED'}"
        )
    console.print(f"results: {path}")


def run() -> None:  # pragma: no cover - console script shim
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
