"""The generic tie-break (every column of a source table, in sources.py order) is written once,
in fsengine/snapshot/sources.py: the query files name it with a /*tiebreak ...*/ marker that
fsengine/sql.py expands, and none of them spells a table's column list out by hand."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from fsengine.errors import InputError
from fsengine.snapshot.sources import BY_SHORT, SOURCE_TABLES
from fsengine.sql import QUERY_FOLDERS, expand_tiebreaks, query_source, query_text

QUERY_NAMES = sorted(
    p.name.removesuffix(".sql")
    for folder in QUERY_FOLDERS
    for p in files("fsengine.queries").joinpath(folder).iterdir()
    if p.name.endswith(".sql")
)


def spelled_out(table) -> re.Pattern:
    """Any alias, either direction: the table's whole column list as ORDER BY terms."""
    term = r"(?:\w+\.)?{} (?:ASC NULLS LAST|DESC NULLS FIRST)"
    return re.compile(r",\s*".join(term.format(re.escape(c)) for c in table.column_names))


@pytest.mark.parametrize("name", QUERY_NAMES)
def test_no_query_file_copies_a_column_list(name):
    for table in SOURCE_TABLES:
        assert not spelled_out(table).search(query_source(name)), f"{name}.sql spells out {table.short}'s tie-break"


def test_the_markers_expand_to_the_columns_of_sources_py():
    marked = {name: query_source(name).count("/*tiebreak") for name in QUERY_NAMES}
    assert sum(marked.values()) >= 13  # spine (2), q01-q06, five explain queries
    for name, count in marked.items():
        found = sum(len(spelled_out(t).findall(query_text(name))) for t in SOURCE_TABLES)
        assert found == count, name


def test_expansion_follows_sources_py_order_alias_and_direction():
    pgs = BY_SHORT["pgs"].column_names
    assert expand_tiebreaks("ORDER BY /*tiebreak pgs AS p*/") == "ORDER BY " + ",\n         ".join(
        f"p.{c} ASC NULLS LAST" for c in pgs
    )
    assert expand_tiebreaks("/*tiebreak pgs reversed*/") == ",\n".join(f"{c} DESC NULLS FIRST" for c in pgs)


@pytest.mark.parametrize("marker", ["/*tiebreak nope*/", "/*tiebreak pgs backwards*/", "/* tiebreak */"])
def test_a_marker_that_does_not_parse_is_refused(marker):
    with pytest.raises(InputError):
        expand_tiebreaks(f"SELECT 1 ORDER BY {marker}")
