r"""The SQL files under queries/ (installed as the data package fsengine.queries): find one by
name, read it, and list the `$names` it binds. Every query runs from its file's text; no value
is formatted into SQL.

One kind of marker is expanded when a file is read: `/*tiebreak TABLE [AS ALIAS] [reversed]*/`
stands for every column of source table TABLE (its short name: pgs, daily_cache, ...) in the
order of fsengine/snapshot/sources.py, each `ASC NULLS LAST` (`reversed`: `DESC NULLS FIRST`),
qualified by ALIAS when given. That column order is the spec's generic tie-break (docs/features.md
§0.2); writing it out by hand in every query would copy sources.py. The expansion is built
from those trusted constants only.

>>> print(expand_tiebreaks("ORDER BY c.day DESC NULLS LAST,\n         /*tiebreak team_defense AS c*/"))
ORDER BY c.day DESC NULLS LAST,
         c.team_abbr ASC NULLS LAST,
         c.analysis_date ASC NULLS LAST,
         c.defensive_rating_last_15 ASC NULLS LAST,
         c.opponent_pace ASC NULLS LAST
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

from fsengine.errors import InputError
from fsengine.snapshot.sources import BY_SHORT

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")
_TIEBREAK_START = re.compile(r"/\*\s*tiebreak\b", re.I)
_TIEBREAK = re.compile(
    r"^(?P<indent>[ \t]*)(?P<before>.*?)/\*\s*tiebreak\s+(?P<table>\w+)(?:\s+AS\s+(?P<alias>\w+))?"
    r"(?P<reversed>\s+reversed)?\s*\*/",
    re.I | re.M,
)


# queries/ is split the way the data flows; a query's name (its file's stem) is unique across
# the folders, so callers name a query without knowing where it lives.
QUERY_FOLDERS = ("engine", "engine_head", "explain", "bigquery")


@cache
def query_source(name: str) -> str:
    """The text of queries/<folder>/<name>.sql (installed as package fsengine.queries), as written."""
    root = files("fsengine.queries")
    for folder in QUERY_FOLDERS:
        resource = root.joinpath(folder).joinpath(f"{name}.sql")
        if resource.is_file():
            return resource.read_text(encoding="utf-8")
    raise InputError(f"query file {name}.sql not found under fsengine.queries ({', '.join(QUERY_FOLDERS)})")


@cache
def query_text(name: str) -> str:
    """The SQL of query `name` as it runs: its file with the tie-break markers expanded."""
    return expand_tiebreaks(query_source(name), name)


def tiebreak_terms(table: str, alias: str | None = None, reversed: bool = False) -> list[str]:
    """The ORDER BY terms of the generic tie-break over source table `table` (short name)."""
    if table not in BY_SHORT:
        raise InputError(f"tie-break marker names table {table!r}; known: {', '.join(BY_SHORT)}")
    direction = "DESC NULLS FIRST" if reversed else "ASC NULLS LAST"
    prefix = f"{alias}." if alias else ""
    return [f"{prefix}{column} {direction}" for column in BY_SHORT[table].column_names]


def expand_tiebreaks(sql: str, name: str = "<sql>") -> str:
    """`sql` with every `/*tiebreak ...*/` marker replaced by its terms, one per line at the
    marker's column. A marker that does not parse is refused rather than left as a comment."""

    def terms(match: re.Match) -> str:
        column = " " * (len(match.group("indent")) + len(match.group("before")))
        listed = tiebreak_terms(match.group("table"), match.group("alias"), bool(match.group("reversed")))
        return match.group("indent") + match.group("before") + (",\n" + column).join(listed)

    expanded = _TIEBREAK.sub(terms, sql)
    if _TIEBREAK_START.search(expanded):
        raise InputError(
            f"query {name}: a /*tiebreak ...*/ marker does not read `tiebreak TABLE [AS ALIAS] [reversed]`"
        )
    return expanded


def parameter_names(sql: str) -> list[str]:
    """The `$names` a statement uses, outside comments and string literals, in first-use order."""
    code = _STRING.sub("''", _BLOCK_COMMENT.sub(" ", _LINE_COMMENT.sub(" ", sql)))
    return list(dict.fromkeys(_PARAM.findall(code)))


def statement(name: str) -> tuple[str, list[str]]:
    sql = query_text(name)
    body = sql.strip()
    if body.endswith(";"):
        body = body[:-1]
    return "\n" + body + "\n", parameter_names(sql)
