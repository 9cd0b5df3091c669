"""Competency questions: every queries/cq/*.rq against its expected result on the real build.

The expected result sits beside the query (NAME.tsv, SPARQL TSV results, or NAME.json, SPARQL
JSON results). Rows are compared as multisets unless the query orders them (ORDER BY, or a
`# networkx:` step, whose rows come out in a defined order). Adding a question adds files only.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from kg.read.query import header_of, is_ordered, named_queries, parse_results, result_rows, run

ROOT = Path(__file__).resolve().parent.parent
CQ_DIR = ROOT / "queries" / "cq"
QUERIES = sorted(CQ_DIR.glob("*.rq"))


def expected_file(query: Path) -> Path:
    for ext in ("tsv", "json"):
        cand = query.with_suffix("." + ext)
        if cand.is_file():
            return cand
    raise AssertionError(f"{query.name} has no expected result ({query.stem}.tsv or .json)")


def test_fifteen_competency_questions_with_both_languages():
    cqs = [q for q in named_queries(ROOT / "queries") if q.group == "cq"]
    assert len(cqs) == 15
    for q in cqs:
        assert q.question_zh and q.question_en, q.name
        assert q.text.startswith(f"# CQ{int(q.name[2:4])}\n"), q.name


@pytest.mark.parametrize("query", QUERIES, ids=lambda p: p.stem)
def test_competency_query(query, real_store):
    exp = expected_file(query)
    exp_vars, exp_rows = parse_results(exp.read_text(encoding="utf-8"), exp.suffix[1:])
    result = run(real_store, str(query))
    assert result.variables == exp_vars
    got = result_rows(result)
    assert got, f"{query.stem} returned no rows"
    if is_ordered(query.read_text(encoding="utf-8")):
        assert got == exp_rows
    else:
        key = lambda r: tuple(sorted(r.items()))  # noqa: E731
        missing = Counter(map(key, exp_rows)) - Counter(map(key, got))
        extra = Counter(map(key, got)) - Counter(map(key, exp_rows))
        assert not missing and not extra, f"missing {list(missing)[:3]}; unexpected {list(extra)[:3]}"


@pytest.mark.parametrize("query", QUERIES, ids=lambda p: p.stem)
def test_labels_in_both_languages(query):
    """Every IRI column ?x of a question comes with ?x_zh and ?x_en (or is labelled by the step)."""
    text = query.read_text(encoding="utf-8")
    head = text.split("WHERE", 1)[0]
    assert "_zh" in head and "_en" in head, query.name
    header_of(text)  # the directives parse
