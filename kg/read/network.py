"""The graph of resources as networkx: entities are nodes, links between them are edges.

Literals become node attributes, never nodes; classes become the ``types`` attribute;
the evidence machinery (statements, spans, documents) and the ontology stay out.
"""
from __future__ import annotations

from collections import defaultdict

import networkx as nx
import pyoxigraph as ox

from kg.namespaces import ID, RDF, curie, sparql_prefixes

_PRE = sparql_prefixes()
_TRIPLES = _PRE + """SELECT ?s ?p ?o ?g WHERE {
  GRAPH ?g { ?s ?p ?o } FILTER(?g != yfg:ontology) FILTER(isIRI(?s))
  FILTER(STRSTARTS(STR(?s), STR(yfid:)) && !STRSTARTS(STR(?s), CONCAT(STR(yfid:), "statement/"))) }"""
_PRED_LABELS = _PRE + "SELECT ?p ?l WHERE { GRAPH yfg:ontology { ?p rdfs:label ?l } }"
_VOCAB = _PRE + """SELECT ?s ?p ?o WHERE { GRAPH yfg:ontology { ?s ?p ?o }
  VALUES ?p { rdf:type rdfs:label } FILTER(STRSTARTS(STR(?s), STR(yfid:))) }"""
_SKIP_TYPES = {"owl:NamedIndividual", "skos:Concept", "owl:Thing"}
_TYPE = str(RDF.type)
_RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_SKOS_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"


def to_networkx(store: ox.Store, *, include_inferred: bool = False) -> nx.MultiDiGraph:
    """A MultiDiGraph of the built graph's resources.

    Nodes are IRIs (str) with attributes ``label_zh``, ``label_en``, ``pinyin``, ``aliases``,
    ``types`` (curies), ``attributes`` ({predicate curie: [literal text]}); external IRIs
    (Wikidata, GeoNames) become nodes with ``external=True``. Edges are keyed by predicate IRI
    with ``label_zh``/``label_en`` and ``inferred`` (True when only the reasoner states them).

    Args:
        include_inferred: add edges found only in the inferred graph.
    """
    pred_labels: dict[str, dict[str, str]] = defaultdict(dict)
    for row in store.query(_PRED_LABELS):
        lit = row["l"]
        if lit.language in ("zh", "en"):
            pred_labels[row["p"].value].setdefault(lit.language, lit.value)
    g = nx.MultiDiGraph()
    edges: dict[tuple, bool] = {}
    for row in store.query(_TRIPLES):
        s, p, o, graph = row["s"].value, row["p"].value, row["o"], row["g"].value
        inferred = graph.endswith("/graph/inferred")
        if s not in g:
            g.add_node(s, label_zh=None, label_en=None, pinyin=None, aliases=[], types=[], attributes={})
        node = g.nodes[s]
        if isinstance(o, ox.Literal):
            if p == _RDFS_LABEL and o.language in ("zh", "en") and not node[f"label_{o.language}"]:
                node[f"label_{o.language}"] = o.value
            elif p == _RDFS_LABEL and (o.language or "").lower() == "zh-latn-pinyin":
                node["pinyin"] = o.value
            elif p == _SKOS_ALT:
                if o.value not in node["aliases"]:
                    node["aliases"].append(o.value)
            else:
                values = node["attributes"].setdefault(curie(p), [])
                if o.value not in values:
                    values.append(o.value)
        elif p == _TYPE:
            t = curie(o.value)
            if t not in node["types"] and (not inferred or include_inferred):
                node["types"].append(t)
        elif isinstance(o, ox.NamedNode) and not o.value.startswith(str(ID) + "statement/"):
            key = (s, o.value, p)
            if key in edges:
                edges[key] = edges[key] and inferred
            elif not inferred or include_inferred:
                edges[key] = inferred
    for (s, o, p), inferred in sorted(edges.items()):
        if o not in g:
            external = not o.startswith(str(ID))
            g.add_node(o, label_zh=None, label_en=None, pinyin=None, aliases=[], types=[], attributes={},
                       external=external)
        labels = pred_labels.get(p, {})
        g.add_edge(s, o, key=p, predicate=p, label_zh=labels.get("zh", curie(p)),
                   label_en=labels.get("en", curie(p)), inferred=inferred)
    for n, data in g.nodes(data=True):
        data.setdefault("external", False)
        data["types"].sort()
        data["label_zh"] = data["label_zh"] or data["label_en"] or curie(n)
        data["label_en"] = data["label_en"] or data["label_zh"]
    return g


def label_vocabulary(store: ox.Store, g: nx.MultiDiGraph) -> set[str]:
    """Give the ontology's concepts in g (modality, units, levels, statuses) their labels and
    types, which :func:`to_networkx` leaves out with the ontology graph; return their IRIs.

    Shared by the explorer (which hides them as hubs) and the centrality report (which leaves
    them out of every measure).
    """
    found: dict[str, dict] = defaultdict(lambda: {"types": [], "labels": {}})
    for row in store.query(_VOCAB):
        s, p, o = row["s"].value, row["p"].value, row["o"]
        if s not in g:
            continue
        if p == _TYPE:
            found[s]["types"].append(curie(o.value))
        elif o.language in ("zh", "en"):
            found[s]["labels"].setdefault(o.language, o.value)
    for s, info in found.items():
        node = g.nodes[s]
        if not node["types"]:
            node["types"] = sorted(t for t in info["types"] if t not in _SKIP_TYPES) or sorted(info["types"])
        zh, en = info["labels"].get("zh"), info["labels"].get("en")
        if node["label_zh"] == curie(s) and (zh or en):
            node["label_zh"] = zh or en
            node["label_en"] = en or zh
    return set(found)
