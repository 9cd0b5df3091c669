"""The README's provenance query: for any asserted fact, its document, span and quote."""
from __future__ import annotations

import re

from kg.pipeline.evidence import compact
from kg.read.query import run_query

from .conftest import ROOT, real_sources

FACT_GRAPH = "https://w3id.org/yufeng-kg/graph/source/000_b3b90ce150a63deb"


def readme_sparql() -> str:
    blocks = re.findall(r"```sparql\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert blocks, "README.md shows no ```sparql block"
    return blocks[0]


def test_readme_query_returns_document_span_and_quote_for_jinsangzi(real_store):
    result = run_query(real_store, readme_sparql())
    assert len(result.rows) >= 3
    for row in result.rows:
        assert str(row.document).endswith("/source/000_b3b90ce150a63deb")
        assert 0 <= int(row.start) < int(row.end)
        if real_sources():
            assert row.quote is not None and len(str(row.quote)) == int(row.end) - int(row.start)
    if real_sources():
        # both mentions of 金嗓子 in the text are cited
        assert {"金嗓子" in compact(str(r.quote)) for r in result.rows} == {True}


def test_every_triple_of_a_document_graph_leads_to_a_span(real_store):
    q = f"""SELECT (COUNT(*) AS ?n) WHERE {{
      GRAPH <{FACT_GRAPH}> {{ ?s ?p ?o }}
      FILTER NOT EXISTS {{ ?s a <http://www.w3.org/1999/02/22-rdf-syntax-ns#Statement> }}
      FILTER NOT EXISTS {{ ?s a <https://w3id.org/yufeng-kg/ontology#TextSpan> }}
      FILTER NOT EXISTS {{ ?s a <https://w3id.org/yufeng-kg/ontology#SourceDocument> }}
      FILTER(!CONTAINS(STR(?s), "/span/"))
      FILTER(?p != <https://w3id.org/yufeng-kg/ontology#modality>)
      FILTER NOT EXISTS {{
        ?st <http://www.w3.org/1999/02/22-rdf-syntax-ns#subject> ?s ;
            <http://www.w3.org/1999/02/22-rdf-syntax-ns#predicate> ?p ;
            <http://www.w3.org/1999/02/22-rdf-syntax-ns#object> ?o ;
            <https://w3id.org/yufeng-kg/ontology#evidence>/<http://www.w3.org/ns/oa#hasSource> ?doc }}
    }}"""
    assert int(run_query(real_store, q).rows[0].n) == 0
    total = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{FACT_GRAPH}> {{ ?s a ?t }} }}"
    assert int(run_query(real_store, total).rows[0].n) > 200
