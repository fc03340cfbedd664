"""What a push did (or, in a dry run, would do): the figures `fsengine push` prints."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fsengine.push.target import TargetDiff


@dataclass
class PushReport:
    target: str
    run_id: str
    rows: int  # N: rows of the run = rows staged
    run_dates: list[dt.date]
    rows_per_date: dict[dt.date, int]
    replace: bool
    dry_run: bool = False
    staging_table: str | None = None
    inserted: int | None = None  # I
    updated: int | None = None  # U
    deleted: int | None = None  # X
    affected: int | None = None  # total from num_dml_affected_rows when no dml_stats
    load_job_id: str | None = None
    merge_job_id: str | None = None
    statements: dict[str, str] = field(default_factory=dict)  # dry run: what would be sent
    warnings: list[str] = field(default_factory=list)
    notice: str | None = None
    replace_dates: list[dt.date] = field(default_factory=list)  # written in replace mode (MERGE's delete branch)
    diff: TargetDiff | None = None  # what the push does to the stored rows, read before any job
    stale: list | None = None  # only_stale: the dates found stale (StaleDate), with rows and reasons
    stale_checked: list[dt.date] = field(default_factory=list)
    shown_before_jobs: bool = False  # the plan and diff were already shown before the jobs

    def plan_text(self) -> str:
        """The stale plan (with only_stale) and the diff, as printed before the jobs."""
        lines: list[str] = []
        if self.stale is not None:
            lines.append(
                f"stale dates: {len(self.stale)} of {len(self.stale_checked)} ({sum(s.rows for s in self.stale)} rows)"
            )
            lines += [f"  {s.date}: {s.rows} rows - {'; '.join(s.reasons)}" for s in self.stale]
        if self.diff is not None:
            lines.append(self.diff.render())
        return "\n".join(lines)

    @property
    def first_date(self) -> dt.date | None:
        return self.run_dates[0] if self.run_dates else None

    @property
    def last_date(self) -> dt.date | None:
        return self.run_dates[-1] if self.run_dates else None

    def render(self) -> str:
        lines: list[str] = []
        if self.notice:
            lines.append(self.notice)
        mode = "replace" if self.replace else "upsert"
        if self.replace_dates and not self.replace:
            mode = f"upsert; replace on {len(self.replace_dates)} date(s) of another stored contract"
        if not self.shown_before_jobs and (self.stale is not None or self.diff is not None):
            lines.append(self.plan_text())
        if self.run_dates:
            dates = f"{len(self.run_dates)} game dates ({self.first_date} .. {self.last_date})"
            verb = "would push" if self.dry_run else "pushed"
            lines.append(f"{verb} N={self.rows} rows of {dates} to {self.target} [{mode}]")
        if self.dry_run:
            lines.append("dry run: no table created, no job sent")
            for date, count in self.rows_per_date.items():
                lines.append(f"  {date}: {count} rows")
            for name, text in self.statements.items():
                lines.append(f"--- {name}")
                lines.append(text)
        elif self.run_dates:
            if self.inserted is not None:
                lines.append(f"inserted I={self.inserted}, updated U={self.updated}, deleted X={self.deleted}")
            else:
                lines.append(f"affected rows: {self.affected} (the service gave no per-kind DML statistics)")
            lines.append(f"load job: {self.load_job_id}; merge job: {self.merge_job_id}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)
