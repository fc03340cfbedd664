"""Gap diagnosis over a run's output (`OUT/ml_feature_store_v2/`): which features default,
for how many players and why; quality tiers and alert levels; quality-ready players per date;
what if a category or feature were never defaulted (`fsengine.diagnose.whatif`).

`build_report()` computes a `Report` (pure data, Polars over the Parquet folder);
`render_terminal()` prints it as rich tables; `render_html()` / `write_html()` produce one
self-contained HTML file (inline SVG charts, no scripts, nothing fetched from the network).
Feature names, categories and fallback reasons come from the contract; the quality tiers and
alert levels from the scorer rules (fsengine.scoring.quality) of the contract's profile.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from fsengine.contracts import REFERENCE_CONTRACT, Contract, contract_of
from fsengine.contracts.profile import Profile
from fsengine.diagnose.whatif import CATEGORY, FEATURE, WhatIf, what_if
from fsengine.errors import InputError
from fsengine.output.schema import checked_output_files, output_dir
from fsengine.scoring.quality import scorer_rules, tier_names

# Columns the report reads (besides the per-category default counts); anything else in the
# output is ignored.
_COLUMNS = [
    "player_lookup",
    "game_date",
    "early_season_flag",
    "feature_quality_score",
    "feature_sources_json",
    "fallback_reasons",
    "quality_tier",
    "quality_alert_level",
    "quality_alerts",
    "default_feature_indices",
    "is_quality_ready",
    "is_training_ready",
]


def _columns_read(contract: Contract) -> list[str]:
    return [*_COLUMNS, *[f"{c}_default_count" for c in contract.categories]]


@dataclass(frozen=True)
class FeatureDefaults:
    index: int
    name: str
    category: str
    fallback_reason: str  # the contract's reason, written to feature_fallback_reasons_json
    rows: int  # scored rows in which the feature is defaulted
    players: int  # distinct players with at least one such row
    dates: int  # distinct game dates with at least one such row
    raw_tags: dict[str, int]  # raw source tag (default / fallback / missing) -> rows
    share: float  # rows / scored rows (0.0 when there are none)


@dataclass(frozen=True)
class CategoryDefaults:
    category: str
    features: int  # features in the category
    defaulted_values: int  # sum of {category}_default_count over scored rows
    rows: int  # scored rows with at least one defaulted feature of the category
    players: int  # distinct players among those rows


@dataclass(frozen=True)
class DateCoverage:
    game_date: dt.date
    rows: int
    players: int
    scored_rows: int
    placeholder_rows: int
    quality_ready_players: int
    training_ready_players: int
    mean_score: float | None  # mean feature_quality_score over scored rows
    composite_fallback: bool  # some row of the date carries composite_factors_missing_matchup_data


@dataclass(frozen=True)
class Report:
    out: Path
    start: dt.date  # the range asked for (after --last / defaults are resolved)
    end: dt.date
    rows: int
    scored_rows: int
    placeholder_rows: int
    players: int
    dates: int
    quality_ready_rows: int
    training_ready_rows: int
    features: tuple[FeatureDefaults, ...]  # all features of the contract, index order
    categories: tuple[CategoryDefaults, ...]
    tiers: dict[str, int]  # scored rows per quality_tier, best tier first
    alert_levels: dict[str, int]  # scored rows per quality_alert_level
    alerts: dict[str, int]  # rows per quality_alerts entry, most frequent first
    per_date: tuple[DateCoverage, ...] = field(default_factory=tuple)
    contract: str = REFERENCE_CONTRACT
    # what if a category / feature were never defaulted (fsengine.diagnose.whatif), ranked
    what_if: tuple[WhatIf, ...] = field(default_factory=tuple)

    def top_defaults(self, limit: int | None = None) -> list[FeatureDefaults]:
        """Features that defaulted at least once, most rows first (ties: lower index first)."""
        ranked = sorted((f for f in self.features if f.rows), key=lambda f: (-f.rows, f.index))
        return ranked if limit is None else ranked[:limit]


# --------------------------------------------------------------------------- building


def _scan(out_dir: str | Path, contract: Contract) -> pl.LazyFrame:
    folder = output_dir(out_dir)
    if not Path(out_dir).is_dir():
        if Path(out_dir).exists():
            raise InputError(
                f"output folder {out_dir} is a file, not a folder: give the folder `fsengine backfill --out` wrote"
            )
        raise InputError(f"output folder {out_dir} does not exist: run `fsengine backfill --out {out_dir}` first")
    if not folder.is_dir():
        raise InputError(
            f"{folder} does not exist: {out_dir} holds no fsengine output (run `fsengine backfill --out {out_dir}`)"
        )
    files = checked_output_files(out_dir)
    if not files:
        raise InputError(f"{folder} holds no part-*.parquet files")
    frame = pl.scan_parquet([str(f) for f in files])
    names = frame.collect_schema().names()
    wanted = _columns_read(contract)
    missing = [c for c in wanted if c not in names]
    if missing:
        raise InputError(f"{folder}: the Parquet files lack the output columns {missing}")
    return frame.select(wanted)


def resolve_report_range(
    newest: dt.date,
    oldest: dt.date,
    last_days: int | None,
    start: dt.date | None,
    end: dt.date | None,
) -> tuple[dt.date, dt.date]:
    """The [start, end] a report covers.

    `last_days = N` means the N calendar days ending at the newest game_date of the output
    (N = 1: that date only; N = 7: it and the 6 days before). It cannot be combined with
    start/end. Without any of them the report covers every date of the output.
    """
    if last_days is not None:
        if start is not None or end is not None:
            raise InputError("--last cannot be combined with --start/--end")
        if last_days < 1:
            raise InputError(f"--last {last_days}: expected a number of days >= 1")
        # more days than the calendar holds before `newest` simply means every date
        return newest - dt.timedelta(days=min(last_days - 1, (newest - dt.date.min).days)), newest
    start = start or oldest
    end = end or newest
    if start > end:
        raise InputError(f"--start {start} is after --end {end}")
    return start, end


def build_report(
    out_dir: str | Path,
    last_days: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    profile: Profile | None = None,
) -> Report:
    """Diagnose the rows of OUT/ml_feature_store_v2/ whose game_date lies in the range, as
    rows of the profile's contract scored by the profile's scorer (default: the contract the
    output holds, from its run record or its columns)."""
    if profile is None:
        from fsengine.output.schema import output_contract

        profile = output_contract(out_dir).profile
    contract = contract_of(profile)
    rules = scorer_rules(profile)
    scan = _scan(out_dir, contract)
    bounds = scan.select(pl.col("game_date").min().alias("oldest"), pl.col("game_date").max().alias("newest")).collect()
    oldest, newest = bounds["oldest"][0], bounds["newest"][0]
    if newest is None:
        raise InputError(f"{output_dir(out_dir)} holds no rows")
    start, end = resolve_report_range(newest, oldest, last_days, start, end)
    rows = scan.filter(pl.col("game_date").is_between(start, end)).collect()
    if rows.height == 0:
        raise InputError(
            f"{output_dir(out_dir)} has no rows with game_date in {start} .. {end} (it holds {oldest} .. {newest})"
        )

    placeholder = pl.col("early_season_flag").fill_null(False)
    scored = rows.filter(~placeholder)
    per_date = _per_date(rows)
    features = _feature_defaults(scored, contract)
    categories = tuple(
        CategoryDefaults(
            category=c,
            features=len(contract.indices(c)),
            defaulted_values=int(scored[f"{c}_default_count"].fill_null(0).sum()),
            rows=int((scored[f"{c}_default_count"].fill_null(0) > 0).sum()),
            players=scored.filter(pl.col(f"{c}_default_count") > 0)["player_lookup"].n_unique(),
        )
        for c in contract.categories
    )
    return Report(
        out=Path(out_dir),
        start=start,
        end=end,
        rows=rows.height,
        scored_rows=scored.height,
        placeholder_rows=rows.height - scored.height,
        players=rows["player_lookup"].n_unique(),
        dates=rows["game_date"].n_unique(),
        quality_ready_rows=int(scored["is_quality_ready"].fill_null(False).sum()),
        training_ready_rows=int(scored["is_training_ready"].fill_null(False).sum()),
        features=features,
        categories=categories,
        tiers=_counts(scored["quality_tier"], tier_names(rules)),
        alert_levels=_counts(scored["quality_alert_level"], rules.alert_levels),
        alerts=_alert_counts(scored),
        per_date=per_date,
        contract=contract.name,
        what_if=what_if(
            scored,
            [d.game_date for d in per_date],
            {d.game_date: d.quality_ready_players for d in per_date},
            contract,
            profile,
        ),
    )


def _counts(column: pl.Series, order: tuple[str, ...]) -> dict[str, int]:
    counted = {value: n for value, n in column.value_counts().iter_rows()}
    result = {key: int(counted.pop(key, 0)) for key in order}
    for key in sorted(counted, key=lambda k: (k is None, str(k))):  # unexpected values stay visible
        result[str(key) if key is not None else "(null)"] = int(counted[key])
    return result


def _alert_counts(scored: pl.DataFrame) -> dict[str, int]:
    exploded = scored.select(pl.col("quality_alerts").explode().alias("alert")).drop_nulls()
    if exploded.height == 0:
        return {}
    counted = exploded.group_by("alert").len().sort(["len", "alert"], descending=[True, False])
    return {alert: int(n) for alert, n in counted.iter_rows()}


def _feature_defaults(scored: pl.DataFrame, contract) -> tuple[FeatureDefaults, ...]:
    # Which features defaulted comes from the scorer's column; the raw tags say how. A run has
    # few distinct tag maps, so each distinct feature_sources_json is parsed once and joined.
    patterns = scored["feature_sources_json"].drop_nulls().unique().to_list()
    tag_table = pl.DataFrame(
        [(text, int(i), tag) for text in patterns for i, tag in json.loads(text).items()],
        schema={"feature_sources_json": pl.Utf8, "index": pl.Int64, "tag": pl.Utf8},
        orient="row",
    )
    raw = (
        scored.select(
            "player_lookup", "game_date", "feature_sources_json", pl.col("default_feature_indices").alias("index")
        )
        .explode("index")
        .drop_nulls("index")
        .join(tag_table, on=["feature_sources_json", "index"], how="left")
        .with_columns(pl.col("tag").fill_null("(no tag)"))
    )
    per_feature = {
        index: (rows, players, dates)
        for index, rows, players, dates in raw.group_by("index")
        .agg(pl.len().alias("rows"), pl.col("player_lookup").n_unique(), pl.col("game_date").n_unique())
        .iter_rows()
    }
    tags: dict[int, dict[str, int]] = {}
    for index, tag, n in (
        raw.group_by("index", "tag").len().sort(["index", "len", "tag"], descending=[False, True, False]).iter_rows()
    ):
        tags.setdefault(index, {})[tag] = int(n)
    result = []
    for f in contract.features:
        rows, players, dates = per_feature.get(f.index, (0, 0, 0))
        result.append(
            FeatureDefaults(
                index=f.index,
                name=f.name,
                category=f.category,
                fallback_reason=f.fallback_reason,
                rows=int(rows),
                players=int(players),
                dates=int(dates),
                raw_tags=tags.get(f.index, {}),
                share=rows / scored.height if scored.height else 0.0,
            )
        )
    return tuple(result)


def _per_date(rows: pl.DataFrame) -> tuple[DateCoverage, ...]:
    placeholder = pl.col("early_season_flag").fill_null(False)
    player = pl.col("player_lookup")
    grouped = (
        rows.group_by("game_date")
        .agg(
            pl.len().alias("rows"),
            player.n_unique().alias("players"),
            (~placeholder).sum().alias("scored_rows"),
            placeholder.sum().alias("placeholder_rows"),
            player.filter(pl.col("is_quality_ready").fill_null(False)).n_unique().alias("ready"),
            player.filter(pl.col("is_training_ready").fill_null(False)).n_unique().alias("training"),
            pl.col("feature_quality_score").cast(pl.Float64).filter(~placeholder).mean().alias("mean_score"),
            pl.col("fallback_reasons").list.len().fill_null(0).gt(0).any().alias("composite_fallback"),
        )
        .sort("game_date")
    )
    return tuple(
        DateCoverage(
            game_date=r["game_date"],
            rows=int(r["rows"]),
            players=int(r["players"]),
            scored_rows=int(r["scored_rows"]),
            placeholder_rows=int(r["placeholder_rows"]),
            quality_ready_players=int(r["ready"]),
            training_ready_players=int(r["training"]),
            mean_score=r["mean_score"],
            composite_fallback=bool(r["composite_fallback"]),
        )
        for r in grouped.iter_rows(named=True)
    )


# --------------------------------------------------------------------------- terminal


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "–"


def _tag_text(raw_tags: dict[str, int]) -> str:
    return ", ".join(f"{tag} {n:,}" for tag, n in raw_tags.items())


def render_terminal(report: Report, console, *, top: int = 15, max_dates: int = 31) -> None:
    """Print the report as rich tables (top defaulted features, categories, tiers, alert
    levels, quality-ready players per date — the newest `max_dates` dates)."""
    from rich.columns import Columns
    from rich.table import Table

    console.print(
        f"[bold]fsengine report[/] {report.out} — {report.start} .. {report.end}: "
        f"[bold]{report.rows:,}[/] rows ({report.scored_rows:,} scored, {report.placeholder_rows:,} early-season placeholders), "
        f"[bold]{report.players:,}[/] players, [bold]{report.dates:,}[/] game dates; "
        f"quality-ready {report.quality_ready_rows:,} ({_pct(report.quality_ready_rows, report.scored_rows)}), "
        f"training-ready {report.training_ready_rows:,} ({_pct(report.training_ready_rows, report.scored_rows)})",
        highlight=False,
    )

    wide = console.width >= 120  # narrow terminals drop the secondary columns
    top_rows = report.top_defaults(top)
    table = Table(
        title=f"Top defaulted features ({len(report.top_defaults())} of {len(report.features)} defaulted at least once)",
        show_edge=False,
    )
    if wide:
        columns = [
            ("#", "right"),
            ("feature", "left"),
            ("category", "left"),
            ("rows", "right"),
            ("% scored", "right"),
            ("players", "right"),
            ("dates", "right"),
            ("raw tags", "left"),
            ("fallback reason", "left"),
        ]
    else:
        columns = [
            ("#", "right"),
            ("feature", "left"),
            ("rows", "right"),
            ("players", "right"),
            ("raw tags; fallback reason", "left"),
        ]
    for name, justify in columns:
        table.add_column(name, justify=justify, no_wrap=name in ("#", "feature", "rows", "players"))
    for f in top_rows:
        if wide:
            table.add_row(
                str(f.index),
                f.name,
                f.category,
                f"{f.rows:,}",
                _pct(f.rows, report.scored_rows),
                f"{f.players:,}",
                f"{f.dates:,}",
                _tag_text(f.raw_tags),
                f.fallback_reason,
            )
        else:
            table.add_row(
                str(f.index), f.name, f"{f.rows:,}", f"{f.players:,}", f"{_tag_text(f.raw_tags)}; {f.fallback_reason}"
            )
    if not top_rows:
        table.add_row("", "no feature defaulted in this range", *[""] * (len(columns) - 2))
    console.print(table)

    cats = Table(title="Defaults by category", show_edge=False)
    for name in ("category", "features", "defaulted values", "rows affected", "% scored", "players"):
        cats.add_column(
            name, justify="left" if name == "category" else "right", no_wrap=name == "category", overflow="fold"
        )
    for c in report.categories:
        cats.add_row(
            c.category,
            str(c.features),
            f"{c.defaulted_values:,}",
            f"{c.rows:,}",
            _pct(c.rows, report.scored_rows),
            f"{c.players:,}",
        )
    console.print(cats)

    def share_table(title: str, label: str, counts: dict[str, int]) -> Table:
        table = Table(title=title, show_edge=False)
        table.add_column(label)
        table.add_column("rows", justify="right")
        table.add_column("%", justify="right")
        for name, n in counts.items():
            table.add_row(name, f"{n:,}", _pct(n, report.scored_rows))
        return table

    tiers = share_table("Quality tiers", "tier", report.tiers)
    levels = share_table("Alert levels", "level", report.alert_levels)
    alerts = Table(title="Alerts", show_edge=False)
    alerts.add_column("alert")
    alerts.add_column("rows", justify="right")
    for alert, n in report.alerts.items():
        alerts.add_row(alert, f"{n:,}")
    console.print(Columns([tiers, levels, alerts], padding=(0, 4)))

    shown = report.per_date[-max_dates:] if max_dates else report.per_date
    title = "Quality-ready players per date"
    if len(shown) < len(report.per_date):
        title += f" (newest {len(shown)} of {len(report.per_date)} dates; the HTML report has all)"
    per_date = Table(title=title, show_edge=False)
    columns = [
        "game date",
        "rows",
        "players",
        "quality-ready",
        "%",
        "training-ready",
        "placeholders",
        "mean score",
        "composite fallback",
    ]
    keep = [name not in ("training-ready", "mean score") or wide for name in columns]
    for name, kept in zip(columns, keep):
        if kept:
            per_date.add_column(
                name, justify="left" if name == "game date" else "right", no_wrap=name == "game date", overflow="fold"
            )
    for d in shown:
        cells = [
            d.game_date.isoformat(),
            f"{d.rows:,}",
            f"{d.players:,}",
            f"{d.quality_ready_players:,}",
            _pct(d.quality_ready_players, d.players),
            f"{d.training_ready_players:,}",
            f"{d.placeholder_rows:,}",
            "–" if d.mean_score is None else f"{d.mean_score:.2f}",
            "yes" if d.composite_fallback else "",
        ]
        per_date.add_row(*(c for c, kept in zip(cells, keep) if kept))
    console.print(per_date)
    _render_what_if_terminal(report, console, top=top, wide=wide)


def _gain_text(w: WhatIf) -> str:
    """Players per date who would become ready: median (smallest-largest)."""
    return f"{w.gain_median:g} ({w.gain_min}-{w.gain_max})"


def _render_what_if_terminal(report: Report, console, *, top: int, wide: bool) -> None:
    """Ranked what-if table: every category, then the `top` features that would gain most."""
    from rich.table import Table

    not_ready = report.scored_rows - report.quality_ready_rows
    categories = [w for w in report.what_if if w.kind == CATEGORY]
    features = [w for w in report.what_if if w.kind == FEATURE and w.rows]
    table = Table(
        title=f"What if it were never defaulted: rows that would become quality-ready (of {not_ready:,} not ready; "
        f"{len(features)} of {len(report.what_if) - len(categories)} features gain any)",
        show_edge=False,
    )
    columns = [
        ("rank", "right"),
        ("never defaulted", "left"),
        ("rows gained", "right"),
        ("% of not ready", "right"),
        ("players", "right"),
        ("gained/date median (range)", "right"),
        ("ready/date median now -> after", "right"),
    ]
    keep = [name not in ("players", "% of not ready") or wide for name, _ in columns]
    for (name, justify), kept in zip(columns, keep):
        if kept:
            table.add_column(
                name, justify=justify, no_wrap=name in ("rank", "never defaulted", "rows gained"), overflow="fold"
            )
    now = statistics.median([d.quality_ready_players for d in report.per_date] or [0])
    for group, limit in ((categories, None), (features, top)):
        shown = group if limit is None else group[:limit]
        for rank, w in enumerate(shown, start=1):
            cells = [
                str(rank),
                w.label,
                f"{w.rows:,}",
                _pct(w.rows, not_ready),
                f"{w.players:,}",
                _gain_text(w),
                f"{now:g} -> {w.ready_median_after:g}",
            ]
            table.add_row(*(c for c, kept in zip(cells, keep) if kept))
        if group is categories and features:
            table.add_section()
    if not features:
        table.add_row("", "no single feature would make a row ready", *[""] * (sum(keep) - 2))
    console.print(table)


# --------------------------------------------------------------------------- HTML

_COLORS = {
    "ready": "#2e7d32",
    "not_ready": "#f9a825",
    "placeholder": "#9e9e9e",
    "gold": "#c9a227",
    "silver": "#9aa5b1",
    "bronze": "#b0703c",
    "poor": "#e07b39",
    "critical": "#c62828",
    "green": "#2e7d32",
    "yellow": "#f9a825",
    "red": "#c62828",
    "bar": "#3f6fb5",
    "category_gain": "#1b5e20",
    "feature_gain": "#66bb6a",
}
_FONT = 'font-family="system-ui, -apple-system, \'Segoe UI\', sans-serif" font-size="12"'


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _hbar_svg(title: str, items: list[tuple[str, float, str, str]], *, value_format=lambda v: f"{v:,.0f}") -> str:
    """Horizontal bar chart: items are (label, value, colour, tooltip)."""
    label_w, bar_w, row_h, top = 230, 520, 20, 28
    height = top + row_h * max(len(items), 1) + 10
    width = label_w + bar_w + 110
    biggest = max((v for _, v, _, _ in items), default=0) or 1
    parts = [
        f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" {_FONT}>',
        f"<title>{_e(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="600">{_e(title)}</text>',
    ]
    if not items:
        parts.append(f'<text x="0" y="{top + 14}">nothing to show</text>')
    for i, (label, value, colour, tip) in enumerate(items):
        y = top + i * row_h
        w = bar_w * value / biggest
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_e(label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.2f}" height="{row_h - 6}" fill="{colour}"><title>{_e(tip)}</title></rect>'
        )
        parts.append(f'<text x="{label_w + w + 4:.2f}" y="{y + 14}">{_e(value_format(value))}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _nice_step(biggest: float, ticks: int = 4) -> float:
    """The smallest 1/2/5 x 10^k step that covers `biggest` in `ticks` steps."""
    raw = max(biggest, 1) / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _coverage_svg(report: Report) -> str:
    """Stacked columns per game date: quality-ready players, other scored players, placeholders."""
    days = report.per_date
    left, plot_w, plot_h, top, bottom = 50, 860, 240, 30, 30
    width, height = left + plot_w + 40, top + plot_h + bottom
    step_y = _nice_step(max((d.rows for d in days), default=0))
    biggest = step_y * max(1, math.ceil(max((d.rows for d in days), default=0) / step_y))
    step = plot_w / max(len(days), 1)
    bar = max(step * 0.8, 0.5)
    title = "Coverage per game date (rows)"
    parts = [
        f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" {_FONT}>',
        f"<title>{_e(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="600">{_e(title)}</text>',
    ]
    value = 0.0
    while value <= biggest:  # y grid and labels
        y = top + plot_h - plot_h * value / biggest
        parts.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:,.0f}</text>')
        value += step_y
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#444"/>')
    label_every = max(1, math.ceil(len(days) * 90 / plot_w))  # about 90 px between date labels
    for i, d in enumerate(days):
        x = left + i * step + (step - bar) / 2
        ready = d.quality_ready_players
        stack = [("ready", ready), ("not_ready", max(d.scored_rows - ready, 0)), ("placeholder", d.placeholder_rows)]
        y = top + plot_h
        tip = (
            f"{d.game_date}: {d.rows} rows, {d.players} players, {ready} quality-ready, "
            f"{d.placeholder_rows} placeholders" + (", composite table-level fallback" if d.composite_fallback else "")
        )
        parts.append(f"<g><title>{_e(tip)}</title>")
        for key, n in stack:
            h = plot_h * n / biggest
            if h > 0:
                y -= h
                parts.append(
                    f'<rect x="{x:.2f}" y="{y:.2f}" width="{bar:.2f}" height="{h:.2f}" fill="{_COLORS[key]}"/>'
                )
        parts.append("</g>")
        if i % label_every == 0:
            cx = left + i * step + step / 2
            parts.append(
                f'<line x1="{cx:.1f}" y1="{top + plot_h}" x2="{cx:.1f}" y2="{top + plot_h + 4}" stroke="#444"/>'
            )
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 17}" text-anchor="middle">{d.game_date.isoformat()}</text>'
            )
    for j, (key, label) in enumerate(
        (("ready", "quality-ready"), ("not_ready", "scored, not ready"), ("placeholder", "placeholder"))
    ):
        lx = left + 330 + j * 150
        parts.append(f'<rect x="{lx}" y="7" width="10" height="10" fill="{_COLORS[key]}"/>')
        parts.append(f'<text x="{lx + 14}" y="16">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _what_if_svg(report: Report) -> str:
    """Ranked bars: rows that would become quality-ready if a category (darker) or a feature
    were never defaulted; features that would gain nothing are left out."""
    items = [
        (
            w.label,
            w.rows,
            _COLORS["category_gain"] if w.kind == CATEGORY else _COLORS["feature_gain"],
            f"{w.label} never defaulted: {w.rows} rows, {w.players} players become quality-ready; "
            f"players per date gained: median {w.gain_median:g}, range {w.gain_min}-{w.gain_max}; "
            f"ready players per date after: median {w.ready_median_after:g}",
        )
        for w in report.what_if
        if w.kind == CATEGORY or w.rows
    ]
    return _hbar_svg("What if never defaulted: rows that would become quality-ready", items)


def _html_table(headers: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "\n".join(
        "<tr>"
        + "".join(f'<td class="num">{_e(v)}</td>' if i in numeric else f"<td>{_e(v)}</td>" for i, v in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def render_html(report: Report) -> str:
    """One self-contained HTML document: inline CSS and SVG, no scripts, no external resources."""
    defaults = report.top_defaults()
    feature_chart = _hbar_svg(
        "Defaulted rows per feature",
        [
            (
                f"{f.index} {f.name}",
                f.rows,
                _COLORS["bar"],
                f"{f.name}: {f.rows} rows, {f.players} players, {f.dates} dates; {_tag_text(f.raw_tags)}; reason {f.fallback_reason}",
            )
            for f in defaults
        ],
    )
    tier_items = [
        (tier, n, _COLORS.get(tier, _COLORS["bar"]), f"{tier}: {n} rows ({_pct(n, report.scored_rows)})")
        for tier, n in report.tiers.items()
    ]
    if report.placeholder_rows:
        tier_items.append(
            (
                "placeholder (unscored)",
                report.placeholder_rows,
                _COLORS["placeholder"],
                f"{report.placeholder_rows} early-season placeholder rows",
            )
        )
    tier_chart = _hbar_svg("Quality tier distribution (rows)", tier_items)
    level_chart = _hbar_svg(
        "Alert levels (rows)",
        [(lvl, n, _COLORS.get(lvl, _COLORS["bar"]), f"{lvl}: {n} rows") for lvl, n in report.alert_levels.items()],
    )
    category_chart = _hbar_svg(
        "Defaulted values per category",
        [
            (
                c.category,
                c.defaulted_values,
                _COLORS["bar"],
                f"{c.category}: {c.defaulted_values} values in {c.rows} rows, {c.players} players",
            )
            for c in report.categories
        ],
    )

    feature_table = _html_table(
        ["#", "feature", "category", "rows", "% scored", "players", "dates", "raw tags", "fallback reason"],
        [
            [
                f.index,
                f.name,
                f.category,
                f"{f.rows:,}",
                _pct(f.rows, report.scored_rows),
                f"{f.players:,}",
                f"{f.dates:,}",
                _tag_text(f.raw_tags),
                f.fallback_reason,
            ]
            for f in defaults
        ]
        or [["", "no feature defaulted", "", "", "", "", "", "", ""]],
        numeric={0, 3, 4, 5, 6},
    )
    category_table = _html_table(
        ["category", "features", "defaulted values", "rows affected", "% scored", "players"],
        [
            [
                c.category,
                c.features,
                f"{c.defaulted_values:,}",
                f"{c.rows:,}",
                _pct(c.rows, report.scored_rows),
                f"{c.players:,}",
            ]
            for c in report.categories
        ],
        numeric={1, 2, 3, 4, 5},
    )
    alerts_table = _html_table(
        ["alert", "rows"], [[a, f"{n:,}"] for a, n in report.alerts.items()] or [["none", "0"]], numeric={1}
    )
    date_table = _html_table(
        [
            "game date",
            "rows",
            "players",
            "quality-ready",
            "%",
            "training-ready",
            "placeholders",
            "mean score",
            "composite fallback",
        ],
        [
            [
                d.game_date.isoformat(),
                d.rows,
                d.players,
                d.quality_ready_players,
                _pct(d.quality_ready_players, d.players),
                d.training_ready_players,
                d.placeholder_rows,
                "–" if d.mean_score is None else f"{d.mean_score:.2f}",
                "yes" if d.composite_fallback else "",
            ]
            for d in report.per_date
        ],
        numeric={1, 2, 3, 4, 5, 6, 7},
    )
    not_ready = report.scored_rows - report.quality_ready_rows
    ready_now = statistics.median([d.quality_ready_players for d in report.per_date] or [0])
    what_if_table = _html_table(
        [
            "never defaulted",
            "kind",
            "rows gained",
            "% of not ready",
            "players",
            "players/date gained: median",
            "range",
            "ready players/date: median now",
            "median after",
        ],
        [
            [
                w.label,
                w.kind,
                f"{w.rows:,}",
                _pct(w.rows, not_ready),
                f"{w.players:,}",
                f"{w.gain_median:g}",
                f"{w.gain_min}-{w.gain_max}",
                f"{ready_now:g}",
                f"{w.ready_median_after:g}",
            ]
            for w in report.what_if
            if w.kind == CATEGORY or w.rows
        ],
        numeric={2, 3, 4, 5, 7, 8},
    )
    summary = (
        f"{report.rows:,} rows ({report.scored_rows:,} scored, {report.placeholder_rows:,} early-season placeholders), "
        f"{report.players:,} players, {report.dates:,} game dates; quality-ready {report.quality_ready_rows:,} "
        f"({_pct(report.quality_ready_rows, report.scored_rows)} of scored rows), training-ready {report.training_ready_rows:,} "
        f"({_pct(report.training_ready_rows, report.scored_rows)})."
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fsengine report {_e(report.start)} .. {_e(report.end)}</title>
<style>
body {{ font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em; color: #222; max-width: 1100px; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }}
th, td {{ border: 1px solid #ddd; padding: 3px 8px; text-align: left; }}
th {{ background: #f3f3f3; }} td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
figure {{ margin: 1em 0; overflow-x: auto; }} .note {{ color: #555; font-size: 0.9em; }}
</style>
</head>
<body>
<h1>fsengine report — {_e(report.start)} .. {_e(report.end)}</h1>
<p>Output <code>{_e(report.out)}</code>, contract <code>{_e(report.contract)}</code>. {_e(summary)}</p>
<p class="note">A feature is defaulted when its raw source tag is default, fallback or missing (docs/quality.md §1);
“players” counts distinct player_lookup values; a row is quality-ready when is_quality_ready is true
(zero defaults, so every row without a Vegas line is not ready).</p>

<h2>Coverage per date</h2>
<figure>{_coverage_svg(report)}</figure>

<h2>Defaults per feature</h2>
<figure>{feature_chart}</figure>
{feature_table}

<h2>Defaults by category</h2>
<figure>{category_chart}</figure>
{category_table}

<h2>Quality tiers and alert levels</h2>
<figure>{tier_chart}</figure>
<figure>{level_chart}</figure>
{alerts_table}

<h2>Quality-ready players per date</h2>
{date_table}

<h2>What if it were never defaulted</h2>
<p class="note">For each category and feature: the scored rows that are not quality-ready now and would be if its
defaulted tags were replaced by the feature's own non-defaulted tag, all else equal, re-scored by the same scorer
(tier, score, matchup share and zero defaults). Players per date: median and range over the report's dates.
Features that would make no row ready are left out.</p>
<figure>{_what_if_svg(report)}</figure>
{what_if_table}
</body>
</html>
"""


def write_html(report: Report, path: str | Path) -> Path:
    """Write render_html(report) to path atomically (fsengine.output.write.write_file)."""
    from fsengine.output.write import write_file

    return write_file(path, render_html(report))
