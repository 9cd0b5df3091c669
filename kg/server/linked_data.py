"""Linked Data views of the built graph: what the server sends for a resource's IRI.

Cool URIs for the Semantic Web: https://www.w3.org/TR/cooluris/ . Each resource's local path
(``/id/{slug}``, ``/source/{id}``, ``/ontology``) answers with HTML, Turtle or JSON-LD directly
(200 with ``Vary: Accept``), not with a 303 redirect: the IRIs name things, the documents about
them are distinguished by Content-Location, which saves a round trip (the choice made by e.g.
schema.org and most recent vocabularies).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.namespaces import BASE, ID, ONTOLOGY_IRI, YF, sparql_prefixes

_PRE = sparql_prefixes()
_STATEMENT = str(ID) + "statement/"
# A slug: ASCII letters, digits and - _ . (no "..") separated by single slashes.
_SLUG = re.compile(r"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.\-]*(/[A-Za-z0-9][A-Za-z0-9_.\-]*)*$")

_OUT = _PRE + "SELECT ?p ?o WHERE { GRAPH ?g { $node ?p ?o } FILTER(?g != yfg:ontology) }"
_IN = _PRE + """SELECT ?s ?p WHERE { GRAPH ?g { ?s ?p $node } FILTER(?g != yfg:ontology)
  FILTER(!STRSTARTS(STR(?s), CONCAT(STR(yfid:), "statement/"))) }"""
# The reified statements about the node, their evidence spans and the spans' selectors.
_STATEMENTS = _PRE + """SELECT DISTINCT ?st WHERE { { ?st rdf:subject $node } UNION { ?st rdf:object $node }
  ?st a rdf:Statement }"""
_PROVENANCE = _PRE + """SELECT ?s ?p ?o WHERE {
  VALUES ?st { $statements }
  { ?st ?p ?o BIND(?st AS ?s) }
  UNION { ?st yf:evidence ?s . ?s ?p ?o }
  UNION { ?st yf:evidence ?span . ?span oa:hasSelector ?s . ?s ?p ?o } }"""
_ONTOLOGY = _PRE + "SELECT ?s ?p ?o WHERE { GRAPH yfg:ontology { ?s ?p ?o } }"


def slug_ok(slug: str) -> bool:
    """True for a well-formed local name (no traversal, no odd characters)."""
    return bool(_SLUG.match(slug)) and len(slug) <= 300


def local_path(iri: str) -> str | None:
    """The server path of one of our IRIs (``/id/x``, ``/source/x``, ``/ontology#T``), else None."""
    if iri.startswith((BASE + "id/", BASE + "source/")):
        return "/" + iri[len(BASE):]
    if iri == ONTOLOGY_IRI or iri.startswith(str(YF)):
        return "/ontology" + iri[len(ONTOLOGY_IRI):]
    return None


def exists(store: ox.Store, iri: str) -> bool:
    """Whether the graph says anything about iri (as subject or object)."""
    node = ox.NamedNode(iri)
    if next(iter(store.quads_for_pattern(node, None, None, None)), None) is not None:
        return True
    return next(iter(store.quads_for_pattern(None, None, node, None)), None) is not None


def resource_triples(store: ox.Store, iri: str) -> list[ox.Triple]:
    """What the RDF document about iri holds: its triples out, links in (not from statements),
    and the provenance of its facts (statements, evidence spans, selectors). Sorted, no duplicates."""
    node = ox.NamedNode(iri)
    n3 = str(node)
    triples = set()
    for r in store.query(_OUT.replace("$node", n3)):
        triples.add(ox.Triple(node, r["p"], r["o"]))
    for r in store.query(_IN.replace("$node", n3)):
        triples.add(ox.Triple(r["s"], r["p"], node))
    statements = [str(r["st"]) for r in store.query(_STATEMENTS.replace("$node", n3), use_default_graph_as_union=True)]
    if statements:
        query = _PROVENANCE.replace("$statements", " ".join(statements))
        for r in store.query(query, use_default_graph_as_union=True):
            triples.add(ox.Triple(r["s"], r["p"], r["o"]))
    return sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))


def ontology_triples(store: ox.Store) -> list[ox.Triple]:
    """The ontology graph's triples, sorted."""
    out = {ox.Triple(r["s"], r["p"], r["o"]) for r in store.query(_ONTOLOGY)}
    return sorted(out, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))


# ----- ontology documentation -----------------------------------------------------------------

@dataclass
class Term:
    """A class or property of the ontology, as the documentation shows it."""

    iri: str
    name: str
    kind: str
    label_zh: str = ""
    label_en: str = ""
    definition_zh: str = ""
    definition_en: str = ""
    superclasses: list[str] = field(default_factory=list)
    superproperties: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)
    equivalents: list[str] = field(default_factory=list)
    matches: list[str] = field(default_factory=list)


@dataclass
class OntologyDoc:
    """The ontology's header and its terms by kind."""

    iri: str
    title_zh: str = ""
    title_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    version: str = ""
    license: str = ""
    classes: list[Term] = field(default_factory=list)
    object_properties: list[Term] = field(default_factory=list)
    datatype_properties: list[Term] = field(default_factory=list)
    other: list[Term] = field(default_factory=list)


_KINDS = {
    "http://www.w3.org/2002/07/owl#Class": "class",
    "http://www.w3.org/2000/01/rdf-schema#Class": "class",
    "http://www.w3.org/2002/07/owl#ObjectProperty": "object property",
    "http://www.w3.org/2002/07/owl#DatatypeProperty": "datatype property",
    "http://www.w3.org/2002/07/owl#AnnotationProperty": "annotation property",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#Property": "property",
}
_P = {
    "label": "http://www.w3.org/2000/01/rdf-schema#label",
    "definition": "http://www.w3.org/2004/02/skos/core#definition",
    "comment": "http://www.w3.org/2000/01/rdf-schema#comment",
    "subClassOf": "http://www.w3.org/2000/01/rdf-schema#subClassOf",
    "subPropertyOf": "http://www.w3.org/2000/01/rdf-schema#subPropertyOf",
    "domain": "http://www.w3.org/2000/01/rdf-schema#domain",
    "range": "http://www.w3.org/2000/01/rdf-schema#range",
    "equivalentClass": "http://www.w3.org/2002/07/owl#equivalentClass",
    "equivalentProperty": "http://www.w3.org/2002/07/owl#equivalentProperty",
    "exactMatch": "http://www.w3.org/2004/02/skos/core#exactMatch",
    "closeMatch": "http://www.w3.org/2004/02/skos/core#closeMatch",
    "type": "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
    "title": "http://purl.org/dc/terms/title",
    "description": "http://purl.org/dc/terms/description",
    "versionInfo": "http://www.w3.org/2002/07/owl#versionInfo",
    "license": "http://purl.org/dc/terms/license",
}


def ontology_doc(triples: list[ox.Triple]) -> OntologyDoc:
    """The documentation of the ontology's own terms (yf:), from its triples."""
    by_subject: dict[str, list[ox.Triple]] = {}
    for t in triples:
        if isinstance(t.subject, ox.NamedNode):
            by_subject.setdefault(t.subject.value, []).append(t)
    doc = OntologyDoc(ONTOLOGY_IRI)
    for t in by_subject.get(ONTOLOGY_IRI, []):
        p, o = t.predicate.value, t.object
        lang = getattr(o, "language", None)
        if p == _P["title"] and lang in ("zh", "en"):
            setattr(doc, f"title_{lang}", o.value)
        elif p == _P["description"] and lang in ("zh", "en"):
            setattr(doc, f"description_{lang}", o.value)
        elif p == _P["versionInfo"]:
            doc.version = o.value
        elif p == _P["license"]:
            doc.license = o.value
    for iri in sorted(by_subject):
        if not iri.startswith(str(YF)):
            continue
        kinds = [_KINDS.get(t.object.value) for t in by_subject[iri] if t.predicate.value == _P["type"]]
        kind = next((k for k in kinds if k), "term")
        term = Term(iri, iri[len(str(YF)):], kind)
        for t in by_subject[iri]:
            p, o = t.predicate.value, t.object
            lang = getattr(o, "language", None)
            if p == _P["label"] and lang in ("zh", "en") and not getattr(term, f"label_{lang}"):
                setattr(term, f"label_{lang}", o.value)
            elif p in (_P["definition"], _P["comment"]) and lang in ("zh", "en") \
                    and not getattr(term, f"definition_{lang}"):
                setattr(term, f"definition_{lang}", o.value)
            elif isinstance(o, ox.NamedNode):
                for attr, keys in (("superclasses", ("subClassOf",)), ("superproperties", ("subPropertyOf",)),
                                   ("domains", ("domain",)), ("ranges", ("range",)),
                                   ("equivalents", ("equivalentClass", "equivalentProperty")),
                                   ("matches", ("exactMatch", "closeMatch"))):
                    if p in (_P[k] for k in keys):
                        getattr(term, attr).append(o.value)
        {"class": doc.classes, "object property": doc.object_properties,
         "datatype property": doc.datatype_properties}.get(kind, doc.other).append(term)
    return doc


# ----- a small neighbourhood picture ----------------------------------------------------------

@dataclass
class SvgNode:
    iri: str
    label: str
    href: str | None
    x: float
    y: float
    center: bool = False


@dataclass
class SvgEdge:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    outgoing: bool


def neighbourhood(center: tuple[str, str], neighbours: list[tuple[str, str, str, bool]],
                  *, size: int = 420, limit: int = 16) -> tuple[list[SvgNode], list[SvgEdge], int]:
    """A radial layout: the entity in the middle, up to ``limit`` neighbours around it.

    Args:
        center: (iri, label). neighbours: (iri, label, predicate label, outgoing) in display order.
    Returns:
        nodes, edges and how many neighbours were left out.
    """
    c = size / 2
    radius = size / 2 - 60
    shown = neighbours[:limit]
    nodes = [SvgNode(center[0], center[1], local_path(center[0]), c, c, True)]
    edges = []
    for i, (iri, label, plabel, outgoing) in enumerate(shown):
        angle = 2 * math.pi * i / max(len(shown), 1) - math.pi / 2
        x, y = c + radius * math.cos(angle), c + radius * math.sin(angle)
        nodes.append(SvgNode(iri, label, local_path(iri) or iri, round(x, 1), round(y, 1)))
        edges.append(SvgEdge(c, c, round(x, 1), round(y, 1), plabel, outgoing))
    return nodes, edges, max(len(neighbours) - limit, 0)


# -- charts of observations (kg.views.chart), for entity pages -----------------------------------

_CHARTS: dict[tuple[int, str, str], str | None] = {}


def observation_chart_img(store: ox.Store, iri: str, lang: str = "zh") -> str | None:
    """A data: URI of the SVG chart of an entity's observations, or None (none, or no matplotlib).

    An <img> keeps the chart's own styles out of the page's Content-Security-Policy; charts are
    cached per store and entity (the store is read-only).
    """
    import base64

    key = (id(store), iri, lang)
    if key not in _CHARTS:
        try:
            from kg.views.chart import observation_chart_svg

            svg = observation_chart_svg(store, iri, lang=lang)
        except ImportError:  # the chart extra is not installed: pages go without charts
            svg = None
        _CHARTS[key] = None if svg is None else (
            "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii"))
        if len(_CHARTS) > 2048:
            _CHARTS.pop(next(iter(_CHARTS)))
    return _CHARTS[key]
