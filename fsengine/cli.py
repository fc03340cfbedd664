"""The `fsengine` command line: options in, one library call, rich output. No logic here."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from fsengine import __version__
from fsengine.errors import FsengineError, InputError

app = typer.Typer(
    name="fsengine",
    help=(
        "Recompute the NBA feature store ml_feature_store_v2 locally, for many game dates in one pass.\n\n"
        "Flow: snapshot (BigQuery -> Parquet) -> backfill (DuckDB extractions + Polars scoring -> Parquet) "
        "-> push (one load + one MERGE). Start with `fsengine backfill --out out/` on the bundled fixture."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
fixtures_app = typer.Typer(help="Synthetic NBA worlds (format-1 snapshots) for tests and benchmarks.", no_args_is_help=True)
app.add_typer(fixtures_app, name="fixtures")

console = Console()
err_console = Console(stderr=True)


def _date(value: Optional[str], option: str) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date in YYYY-MM-DD form") from None


def _fail(exc: FsengineError) -> None:
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
    raise typer.Exit(exc.exit_code)


def _version(value: bool) -> None:
    if value:
        console.print(f"fsengine {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """fsengine command line."""


# --------------------------------------------------------------------------- backfill


@app.command()
def backfill(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder; rows go to OUT/ml_feature_store_v2/*.parquet (replaced atomically).")] = Path("out"),
    snapshot: Annotated[Optional[Path], typer.Option("--snapshot", "-s", help="Format-1 snapshot folder. Default: the bundled fixtures/small.")] = None,
    start: Annotated[Optional[str], typer.Option(help="First game date (YYYY-MM-DD). Default: first date the snapshot can serve.")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last game date (YYYY-MM-DD). Default: last date the snapshot can serve.")] = None,
    mode: Annotated[str, typer.Option(help="auto: backfill spine before --as-of, production from it; backfill; production.")] = "auto",
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="The 'today' that splits backfill from production (default: today in America/New_York).")] = None,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="Skip SHA-256 verification of the snapshot files.")] = False,
) -> None:
    """Compute every feature row of a date range in one pass and write it as Parquet.

    Examples:

      fsengine backfill --out out/                       # bundled fixture, whole range

      fsengine backfill -s snap/ --start 2025-11-04 --end 2026-02-06 -o out/
    """
    from fsengine.pipeline import backfill as run_backfill

    try:
        start_d, end_d, as_of_d = _date(start, "--start"), _date(end, "--end"), _date(as_of, "--as-of")
        if mode not in ("auto", "backfill", "production"):
            raise InputError(f"--mode {mode!r}: expected auto, backfill or production")
        with console.status("computing…") as status:
            report = run_backfill(
                out, snapshot, start_d, end_d, mode=mode, as_of=as_of_d, verify_checksums=not no_verify,
                progress=lambda message: status.update(message),
            )
    except FsengineError as exc:
        _fail(exc)
        return
    timing = Table(title="time per stage (whole range)", show_edge=False)
    timing.add_column("stage")
    timing.add_column("seconds", justify="right")
    for name, seconds in report.timings.items():
        timing.add_row(name, f"{seconds:.3f}")
    console.print(timing)
    per_date = list(report.rows_per_date.values())
    dates = len(per_date)
    console.print(
        f"[bold]{report.rows}[/] rows for [bold]{dates}[/] game dates "
        f"({report.start} .. {report.end}; {min(per_date, default=0)}–{max(per_date, default=0)} rows per date) "
        f"in {report.wall_seconds:.2f} s -> {report.out}"
    )


# --------------------------------------------------------------------------- fixtures


@fixtures_app.command("generate")
def fixtures_generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Snapshot folder to write (replaced atomically).")],
    preset: Annotated[str, typer.Option(help="small (one month), season (~165 dates), nba5 (five seasons), x10 (ten times nba5).")] = "small",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same world.")] = 20260206,
) -> None:
    """Generate a synthetic NBA world as a format-1 snapshot.

    Examples:

      fsengine fixtures generate --preset season --out worlds/season

      fsengine fixtures generate --preset nba5 --out worlds/nba5 --seed 7
    """
    from fsengine.fixtures.generate import generate

    try:
        report = generate(preset, out, seed=seed)
    except FsengineError as exc:
        _fail(exc)
        return
    console.print(report.render() if hasattr(report, "render") else report)


# --------------------------------------------------------------------------- bench


@app.command()
def bench(
    presets: Annotated[str, typer.Option(help="Comma-separated worlds to measure, smallest first.")] = "small,season,nba5,x10",
    repeats: Annotated[int, typer.Option(help="Timed runs per world after one warm-up; figures are medians.")] = 3,
    dates: Annotated[int, typer.Option(help="Number of dates for the batch vs date-by-date comparison.")] = 30,
    seed: Annotated[int, typer.Option(help="World seed (recorded in the results).")] = 20260206,
    quick: Annotated[bool, typer.Option("--quick", help="A run under a minute (small world, 1 run, 5 dates) to check the harness.")] = False,
) -> None:
    """Measure backfill speed, memory, per-query time and scaling on the fixture worlds.

    Writes bench/results/<date>-<machine>.json and regenerates the table in bench/README.md.

    Examples:

      fsengine bench --quick

      fsengine bench --presets small,season,nba5 --repeats 5
    """
    import importlib.util

    from fsengine.pipeline import REPO_ROOT

    harness_path = REPO_ROOT / "bench" / "harness.py"
    if not harness_path.is_file():
        _fail(InputError(f"{harness_path} not found: `fsengine bench` runs from a source checkout"))
    spec = importlib.util.spec_from_file_location("fsengine_bench_harness", harness_path)
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    results, path = harness.run_bench(
        [p.strip() for p in presets.split(",") if p.strip()], repeats=repeats, per_date_dates=dates, seed=seed,
        quick=quick, note=lambda message: console.print(f"[dim]{message}[/]"),
    )
    table = Table(title="fsengine bench", show_edge=False)
    for col in ("world", "dates", "rows", "wall s (median)", "peak RSS MiB"):
        table.add_column(col, justify="right" if col != "world" else "left")
    for name, w in results["worlds"].items():
        table.add_row(name, str(w["dates"]), f"{w['rows']:,}", f"{w['wall_seconds']['median']:.2f}", f"{w['peak_rss_bytes']['median'] / 2**20:.0f}")
    console.print(table)
    ratio = results["batch_vs_date_by_date"]["ratio"]["median"]
    console.print(f"batch vs date by date: {ratio:.1f}x; growth exponent: {results['growth_exponent']}")
    console.print(f"results: {path}")


def run() -> None:  # pragma: no cover - console script shim
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
