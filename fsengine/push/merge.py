"""The MERGE of a push (docs/output.md §8.2 step 2), rendered from queries/bigquery/merge.sql.

The template holds the statement; this module only fills in the quoted table names and the
column lists from the output schema, and drops the `-- replace-only` lines unless replacing.
The run's dates are never formatted in: they are the @run_dates query parameter.
"""

from __future__ import annotations

import re

from fsengine.bigquery.tables import TableId, column_sql
from fsengine.output.schema import KEY, OUTPUT_COLUMNS, OutputColumn
from fsengine.sql import query_text

MERGE_TEMPLATE = "merge"
RUN_DATES_PARAMETER = "run_dates"
# the dates written in replace mode: every run date with --replace, else the dates whose stored
# rows carry another contract (--replace-contract)
REPLACE_DATES_PARAMETER = "replace_dates"
# Emitted columns the MERGE never overwrites on update: the key, the original creation time,
# and updated_at, which the template stamps itself.
NOT_UPDATED = frozenset({*KEY, "created_at", "updated_at"})


def template_text() -> str:
    return query_text(MERGE_TEMPLATE)


def render_merge(
    target: TableId,
    staging: TableId,
    replace: bool,
    template: str | None = None,
    columns: tuple[OutputColumn, ...] = OUTPUT_COLUMNS,
) -> str:
    """The MERGE statement (without the template's header comment) for the emitted `columns`."""
    names = [column_sql(c.name) for c in columns]
    updated = [column_sql(c.name) for c in columns if c.name not in NOT_UPDATED]
    pieces = {
        "target": target.sql(),
        "staging": staging.sql(),
        "update_assignments": ",\n".join(f"  {c} = S.{c}" for c in updated),
        "insert_columns": ",\n".join(f"  {c}" for c in names),
        "insert_values": ",\n".join(f"  S.{c}" for c in names),
    }
    lines = (template if template is not None else template_text()).splitlines()
    while lines and (lines[0].startswith("--") or not lines[0].strip()):
        lines.pop(0)
    kept = []
    for line in lines:
        if line.rstrip().endswith("-- replace-only"):
            if not replace:
                continue
            line = line.rstrip()[: -len("-- replace-only")].rstrip()
        kept.append(line)
    text = "\n".join(kept).strip() + "\n"

    def fill(match: re.Match) -> str:
        if match[1] not in pieces:
            raise ValueError(f"queries/bigquery/{MERGE_TEMPLATE}.sql: unknown placeholder {{{{{match[1]}}}}}")
        return pieces[match[1]]

    return re.sub(r"\{\{(\w+)\}\}", fill, text)
