"""Evidence: every span of the curated data lies in its document and contains what it supports.

Needs the source document (KG_SOURCES or ../shared/sources); skips with the reason otherwise.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from kg.pipeline.evidence import compact, sha256_of
from kg.pipeline.records import Curated, Record, load_curated

from .conftest import ROOT, real_sources

SOURCES = real_sources()
pytestmark = pytest.mark.skipif(SOURCES is None, reason="source document not present (set KG_SOURCES)")
AS_WRITTEN = ("valueAsWritten", "investmentAsWritten", "expectedOutputAsWritten")


@pytest.fixture(scope="module")
def curated() -> Curated:
    return load_curated(ROOT / "data")


@pytest.fixture(scope="module")
def texts(curated) -> dict[str, str]:
    out = {}
    for ff in curated.fact_files:
        path = Path(SOURCES) / ff.document.file
        assert sha256_of(path) == ff.document.sha256, f"{path}: checksum differs from {ff.path}"
        out[ff.document.id] = path.read_text(encoding="utf-8")
    return out


def names(rec: Record) -> list[str]:
    return [compact(n) for n in rec.labels.get("zh", []) + rec.alt_labels.get("zh", [])]


def span_text(text: str, spans) -> str:
    return "".join(compact(text[s.start:s.end]) for s in spans)


def test_every_span_lies_inside_its_document(curated, texts):
    for ff in curated.fact_files:
        n = len(texts[ff.document.id])
        for rec in ff.records:
            spans = list(rec.spans) + [s for vs in rec.properties.values() for v in vs for s in v.spans]
            for s in spans:
                assert 0 <= s.start < s.end <= n, f"{rec.position}: span {s} outside 0..{n}"


def test_mentions_contain_a_name_of_their_entity(curated, texts):
    """An `about` record of a registry entity names it; one that adds to a fact node of a fact
    file (an implied date of an event, say) shares text with the record that defines the node,
    whose label is ours, not the source's."""
    defined = {r.id: r for r in curated.all_records() if r.defines}
    problems = []
    for ff in curated.fact_files:
        for rec in ff.records:
            if rec.defines:
                continue
            owner = defined[rec.id]
            if owner.document is not None:
                if not any(a.start < b.end and b.start < a.end for a in rec.spans for b in owner.spans):
                    problems.append(f"{rec.position}: span shares no text with {rec.id}'s own record")
                continue
            quote = span_text(texts[ff.document.id], rec.spans)
            if not any(n and n in quote for n in names(defined[rec.id])):
                problems.append(f"{rec.position}: span {quote[:40]!r} names none of {names(defined[rec.id])}")
    assert not problems, "\n".join(problems)


def test_numbers_as_written_are_in_their_span(curated, texts):
    problems, checked = [], 0
    for ff in curated.fact_files:
        for rec in ff.records:
            quote = span_text(texts[ff.document.id], rec.spans)
            for key in AS_WRITTEN:
                for v in rec.properties.get(key, []):
                    checked += 1
                    if compact(str(v.raw)) not in quote:
                        problems.append(f"{v.position}: {v.raw!r} is not in {quote[:60]!r}")
    assert checked >= 15, "expected the statistics and project figures to carry their numbers as written"
    assert not problems, "\n".join(problems)


def test_own_value_spans_name_their_value(curated, texts):
    defined = {r.id: r for r in curated.all_records() if r.defines}
    problems = []
    for ff in curated.fact_files:
        for rec in ff.records:
            for vs in rec.properties.values():
                for v in vs:
                    if v.spans and isinstance(v.raw, str) and v.raw in defined:
                        quote = span_text(texts[ff.document.id], v.spans)
                        if not any(n in quote for n in names(defined[v.raw])):
                            problems.append(f"{v.position}: span does not name {v.raw}")
    assert not problems, "\n".join(problems)


def test_every_registry_entity_is_mentioned_by_a_document(curated):
    """Every registry entity is mentioned by a document, or is the group a mentioned enterprise
    belongs to (金嗓子's listed holding company, which holds the stock code but is not named)."""
    mentioned = {r.id for ff in curated.fact_files for r in ff.records if not r.defines}
    groups = {v.raw for r in curated.registry if r.id in mentioned for v in r.properties.get("partOfGroup", [])}
    missing = [r.id for r in curated.registry if r.id not in mentioned | groups]
    assert not missing, f"registry entities no document mentions: {missing}"
