"""The head extraction list (extract.HEAD_EXTRACTIONS, contract v2_54features) says what each
query reads, runs every table after the tables it reads, and covers queries/engine_head/."""

from __future__ import annotations

from importlib.resources import files

from fsengine.engine.extract import (
    EXTRACTIONS,
    HEAD_EXTRACTIONS,
    HEAD_RENAMED_TO,
    HEAD_SNAPSHOT_VIEWS,
    SNAPSHOT_VIEWS,
)
from fsengine.engine.session import SEASON_STARTS_TABLE
from fsengine.sql import query_text
from tests.engine.test_extract import tables_read

KNOWN = {
    *SNAPSHOT_VIEWS,
    *HEAD_SNAPSHOT_VIEWS,
    SEASON_STARTS_TABLE,
    *(e.name for e in EXTRACTIONS),
    *(e.name for e in HEAD_EXTRACTIONS),
}


def test_every_head_query_file_is_registered_once():
    on_disk = {
        p.name.removesuffix(".sql")
        for p in files("fsengine.queries").joinpath("engine_head").iterdir()
        if p.name.endswith(".sql")
    }
    names = [e.name for e in HEAD_EXTRACTIONS]
    assert len(names) == len(set(names))
    assert on_disk <= set(names)
    assert set(names) - on_disk <= {e.name for e in EXTRACTIONS}  # the round-1 files it reuses


def test_each_head_query_reads_what_the_list_says():
    import re

    for extraction in HEAD_EXTRACTIONS:
        code = re.sub(r"--[^\n]*", " ", query_text(extraction.name))
        read = {n for n in re.findall(r"\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)", code, re.I) if n in KNOWN}
        assert read == set(extraction.reads), extraction.name
        assert tables_read(query_text(extraction.name)) <= read


def test_a_head_query_reads_only_tables_made_before_it():
    made = {*SNAPSHOT_VIEWS, *HEAD_SNAPSHOT_VIEWS, SEASON_STARTS_TABLE, "spine", "season_first_game"}
    for extraction in HEAD_EXTRACTIONS:
        assert set(extraction.reads) <= made, (
            f"{extraction.name} reads {set(extraction.reads) - made} before they exist"
        )
        made.add(HEAD_RENAMED_TO.get(extraction.name, extraction.name))
