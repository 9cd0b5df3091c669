"""Statistics of the built graph: counts per class, evidence coverage, missing labels."""
from __future__ import annotations

from pathlib import Path

from kg import paths
from kg.namespaces import curie, sparql_prefixes
from kg.read.store import open_store

_CLASSES = """SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {
  GRAPH ?g { ?s a ?class } FILTER(?g != yfg:ontology && ?g != yfg:inferred)
  FILTER(STRSTARTS(STR(?s), STR(yfid:)) && !STRSTARTS(STR(?s), CONCAT(STR(yfid:), "statement/")))
} GROUP BY ?class ORDER BY DESC(?n) ?class"""
_FACTS = """SELECT (COUNT(DISTINCT ?st) AS ?facts) (COUNT(DISTINCT ?ev) AS ?with) WHERE {
  ?st a rdf:Statement . OPTIONAL { ?st yf:evidence ?span BIND(?st AS ?ev) } }"""
_NO_EN = """SELECT DISTINCT ?s WHERE {
  GRAPH ?g { ?s rdfs:label ?l } FILTER(?g != yfg:ontology) FILTER(STRSTARTS(STR(?s), STR(yfid:)))
  FILTER NOT EXISTS { ?s rdfs:label ?en FILTER(LANG(?en) = "en") } } ORDER BY ?s"""


def stats(build_dir: Path | None = None) -> dict:
    """Counts from the built store.

    Returns: {"triples", "classes": {curie: n}, "facts", "facts_with_evidence",
    "evidence_share", "entities_without_en_label": [iri]}.
    """
    store = open_store(Path(build_dir or paths.build_dir()))
    pre = sparql_prefixes()

    def q(text):
        return list(store.query(pre + text, use_default_graph_as_union=True))

    classes = {}
    for row in q(_CLASSES):
        iri = row["class"].value
        classes[curie(iri)] = int(row["n"].value)
    facts_row = q(_FACTS)[0]
    facts, with_ev = int(facts_row["facts"].value), int(facts_row["with"].value)
    return {
        "triples": len(store),
        "classes": classes,
        "facts": facts,
        "facts_with_evidence": with_ev,
        "evidence_share": round(with_ev / facts, 4) if facts else 0.0,
        "entities_without_en_label": [r["s"].value for r in q(_NO_EN)],
    }


def stats_text(s: dict) -> str:
    lines = [f"triples: {s['triples']}",
             f"facts: {s['facts']}, with evidence: {s['facts_with_evidence']} ({s['evidence_share']:.1%})",
             "instances per class:"]
    lines += [f"  {n:5d}  {c}" for c, n in s["classes"].items()]
    missing = s["entities_without_en_label"]
    lines.append(f"entities without an English label: {len(missing)}")
    lines += [f"  {iri}" for iri in missing[:50]]
    return "\n".join(lines)
