"""The extraction registry (fsengine/engine/extract.py) is the one list of the engine's SQL:
it must say what each query really reads, in an order where every table exists before it is
read, and cover every file under queries/engine/."""

from __future__ import annotations

import re
from importlib.resources import files

from fsengine.engine.extract import EXTRACTIONS, SNAPSHOT_VIEWS, STAGES, stage_queries
from fsengine.engine.session import SEASON_STARTS_TABLE
from fsengine.sql import query_text

KNOWN_TABLES = {*SNAPSHOT_VIEWS, SEASON_STARTS_TABLE, *(e.name for e in EXTRACTIONS)}


def tables_read(sql: str) -> set[str]:
    """The known tables a statement names after FROM or JOIN (its own CTE names are not known
    tables, so they drop out), comments removed."""
    code = re.sub(r"--[^\n]*", " ", sql)
    return {
        name for name in re.findall(r"\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)", code, re.I) if name in KNOWN_TABLES
    }


def test_every_engine_query_file_is_registered_once():
    on_disk = {
        p.name.removesuffix(".sql")
        for p in files("fsengine.queries").joinpath("engine").iterdir()
        if p.name.endswith(".sql")
    }
    names = [e.name for e in EXTRACTIONS]
    assert len(names) == len(set(names))
    assert set(names) == on_disk


def test_each_query_reads_what_the_registry_says():
    for extraction in EXTRACTIONS:
        assert tables_read(query_text(extraction.name)) == set(extraction.reads), extraction.name


def test_a_query_reads_only_tables_made_before_it():
    made = {*SNAPSHOT_VIEWS, SEASON_STARTS_TABLE}
    for extraction in EXTRACTIONS:
        assert set(extraction.reads) <= made, (
            f"{extraction.name} reads {set(extraction.reads) - made} before they exist"
        )
        made.add(extraction.name)


def test_stages_run_in_order_and_cover_the_registry():
    order = [STAGES.index(e.stage) for e in EXTRACTIONS]
    assert order == sorted(order)
    assert sum((stage_queries(s) for s in STAGES), ()) == tuple(e.name for e in EXTRACTIONS)
