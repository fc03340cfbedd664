"""The semantics live in docs/: every `docs/NAME.md §N` that code, SQL or tests cite must
exist as a numbered section of that page, so a reader who follows a citation finds it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"docs/([\w/-]+\.md)((?:\s*(?:§|,\s*§|-\s*§|and\s*§)\s*[0-9]+(?:\.[0-9]+)*)*)")
SECTION = re.compile(r"§\s*([0-9]+(?:\.[0-9]+)*)")
HEADING = re.compile(r"^#+\s.*?§\s*([0-9]+(?:\.[0-9]+)*)", re.M)


def cited() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for folder in ("fsengine", "queries", "tests"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in {".py", ".sql", ".toml"} or path == Path(__file__):
                continue
            for page, sections in CITATION.findall(path.read_text(encoding="utf-8")):
                found.setdefault(page, set()).update(SECTION.findall(sections))
    return found


def test_code_cites_docs_pages():
    assert cited(), "no docs/ citation found in the code: the citations were not rewritten"


def test_every_cited_page_and_section_exists():
    missing = []
    for page, sections in sorted(cited().items()):
        doc = ROOT / "docs" / page
        if not doc.is_file():
            missing.append(f"docs/{page}")
            continue
        headings = set(HEADING.findall(doc.read_text(encoding="utf-8")))
        for section in sorted(sections):
            # A citation of §3.2 is satisfied by a heading §3.2; §3 by a heading §3.
            if section not in headings:
                missing.append(f"docs/{page} §{section}")
    assert not missing, "cited but not in docs/: " + ", ".join(missing)


def test_no_citation_of_the_shared_spec_or_missing_pages():
    # The tests' golden vectors live in tests/vectors/; their loader may still look for the
    # spec's own copy beside a clone (../shared/spec/...), which is a data path, not a citation.
    offenders = []
    for folder in ("fsengine", "queries"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".sql", ".toml"} and path != Path(__file__):
                text = path.read_text(encoding="utf-8")
                if "shared/spec" in text or "engine-interface.md" in text:
                    offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders
