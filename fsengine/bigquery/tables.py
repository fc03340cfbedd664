"""BigQuery names: the identifier rules and the one table-id class every module uses.

>>> str(TableId.parse("nba-props-platform.nba_predictions.ml_feature_store_v2"))
'nba-props-platform.nba_predictions.ml_feature_store_v2'
>>> str(TableId.parse("nba_raw.odds", "source", with_project=False))
'nba_raw.odds'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from fsengine.errors import InvalidName

# Project ids: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter
# and not ending with a hyphen; legacy domain-scoped ids carry a `domain:` prefix.
_PROJECT = re.compile(r"(?:[a-z0-9][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
_DATASET = re.compile(r"[A-Za-z0-9_]{1,1024}")
# Table names: Unicode letters, marks, numbers, connectors (_), dashes and spaces.
_TABLE_CATEGORIES = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Zs"}
_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,299}")


def validate_project(project: str, what: str = "project") -> str:
    if not isinstance(project, str) or not _PROJECT.fullmatch(project):
        raise InvalidName(
            f"{what} {project!r} is not a valid Google Cloud project id (6-30 characters: lowercase "
            "letters, digits and hyphens, starting with a letter, not ending with a hyphen)"
        )
    return project


def validate_dataset(dataset: str, what: str = "dataset") -> str:
    if not isinstance(dataset, str) or not _DATASET.fullmatch(dataset):
        raise InvalidName(
            f"{what} {dataset!r} is not a valid BigQuery dataset name (1-1024 letters, digits or underscores)"
        )
    return dataset


def validate_table(table: str, what: str = "table") -> str:
    ok = (
        isinstance(table, str)
        and 0 < len(table.encode("utf-8")) <= 1024
        and all(unicodedata.category(ch) in _TABLE_CATEGORIES for ch in table)
    )
    if not ok:
        raise InvalidName(
            f"{what} {table!r} is not a valid BigQuery table name (1-1024 bytes of letters, marks, "
            "numbers, underscores, dashes or spaces)"
        )
    return table


def column_sql(name: str) -> str:
    """A column name quoted for GoogleSQL; only plain names (no quoting can be escaped)."""
    if not _COLUMN_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a plain BigQuery column name")
    return f"`{name}`"


@dataclass(frozen=True)
class TableId:
    """`project.dataset.table`, or `dataset.table` inside the configured project (project None).

    Every part is validated on construction, so str() and sql() are always safe to send.
    """

    project: str | None
    dataset: str
    table: str
    what: str = field(default="table", compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.project is not None:
            validate_project(self.project, f"{self.what} project")
        validate_dataset(self.dataset, f"{self.what} dataset")
        validate_table(self.table, f"{self.what} table")

    @classmethod
    def parse(cls, text: str, what: str = "target", *, with_project: bool = True) -> TableId:
        """`project.dataset.table` (or `dataset.table` with with_project=False)."""
        parts = text.split(".") if isinstance(text, str) else []
        if with_project and len(parts) == 3:
            return cls(parts[0], parts[1], parts[2], what)
        if not with_project and len(parts) == 2:
            return cls(None, parts[0], parts[1], what)
        expected = "<project>.<dataset>.<table>" if with_project else "<dataset>.<table>"
        raise InvalidName(f"{what} {text!r}: expected {expected}")

    def in_project(self, project: str) -> TableId:
        return TableId(project, self.dataset, self.table, self.what)

    def __str__(self) -> str:
        return f"{self.dataset}.{self.table}" if self.project is None else f"{self.project}.{self.dataset}.{self.table}"

    def sql(self) -> str:
        # validated on construction: no backquote or backslash can occur, so quoting cannot be escaped
        if self.project is None:
            return f"`{self.dataset}`.`{self.table}`"
        return f"`{self.project}`.`{self.dataset}`.`{self.table}`"
