"""Reason over the asserted graph with owlready2 and HermiT: consistency and inferred facts.

What the reasoner sees is chosen deliberately: the ontology plus the entity triples, without
the reification and evidence nodes (they need no reasoning) and without literals outside the
OWL 2 datatype map (HermiT refuses xsd:date, xsd:gYear, xsd:gYearMonth). The inferred triples
(types and object-property values not already asserted) are returned for their own named graph.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from kg.errors import JavaMissing, KGError, NonConformance
from kg.namespaces import GEO, OA, YF

# Datatypes HermiT does not accept (outside the OWL 2 datatype map), GeoSPARQL's WKT among them.
_UNSUPPORTED = {XSD.date, XSD.gYear, XSD.gYearMonth, XSD.gMonth, XSD.gDay, XSD.time, XSD.duration,
                GEO.wktLiteral}
_SKIP_TYPES = {RDF.Statement, YF.TextSpan, OA.SpecificResource, OA.TextPositionSelector, OA.TextQuoteSelector}
DEFAULT_MAX_TRIPLES = 300_000


@dataclass
class ReasonResult:
    """Outcome of reasoning.

    Attributes:
        consistent: HermiT found the ontology and data consistent.
        inferred: triples derived and not asserted.
        input_triples: how many triples the reasoner was given.
        skipped: why reasoning was skipped (None if it ran).
    """

    consistent: bool
    inferred: Graph = field(default_factory=Graph)
    input_triples: int = 0
    skipped: str | None = None


def reasoner_input(ontology: Graph, data: Graph) -> Graph:
    """The ontology plus the data triples the reasoner needs (see module docstring)."""
    skip = {s for t in _SKIP_TYPES for s in data.subjects(RDF.type, t)}
    out = Graph()
    for s, p, o in ontology:
        # a range or restriction on a datatype HermiT refuses becomes rdfs:Literal
        out.add((s, p, RDFS.Literal if o in _UNSUPPORTED else o))
    for s, p, o in data:
        if s in skip or o in skip:
            continue
        if isinstance(o, Literal) and o.datatype in _UNSUPPORTED:
            continue
        out.add((s, p, o))
    return out


def reasoner_triples(ontology: Graph, data) -> set[ox.Triple]:
    """:func:`reasoner_input` as a set of Oxigraph triples, from an rdflib Graph or from Oxigraph
    quads (the union of their graphs): what :func:`reason` writes for HermiT."""
    from kg.read.store import to_oxigraph_term

    if isinstance(data, Graph):
        return {ox.Triple(*map(to_oxigraph_term, t)) for t in reasoner_input(ontology, data)}
    unsupported = {ox.NamedNode(str(d)) for d in _UNSUPPORTED}
    rdf_type = ox.NamedNode(str(RDF.type))
    skip_types = {ox.NamedNode(str(t)) for t in _SKIP_TYPES}
    skip = {q.subject for q in data if q.predicate == rdf_type and q.object in skip_types}
    out = set()
    literal = ox.NamedNode(str(RDFS.Literal))
    memo: dict = {}
    for triple in ontology:
        s, p, o = (memo[t] if t in memo else memo.setdefault(t, to_oxigraph_term(t)) for t in triple)
        out.add(ox.Triple(s, p, literal if o in unsupported else o))
    for q in data:
        if q.subject in skip or q.object in skip:
            continue
        if isinstance(q.object, ox.Literal) and q.object.datatype in unsupported:
            continue
        out.add(ox.Triple(q.subject, q.predicate, q.object))
    return out


def java_available() -> bool:
    import owlready2

    return shutil.which(owlready2.JAVA_EXE) is not None


def reason(ontology: Graph, data: Graph | list[ox.Quad], *, max_triples: int = DEFAULT_MAX_TRIPLES) -> ReasonResult:
    """Run HermiT over ontology + data.

    Args:
        data: the asserted data, an rdflib Graph or Oxigraph quads (the union of their graphs).
        max_triples: above this many input triples, reasoning is skipped (HermiT does not
            finish 1M triples in 15 minutes); the result says so.
    Raises:
        JavaMissing: no `java` on PATH.
        NonConformance: HermiT reports the ontology inconsistent.
    """
    import owlready2
    from owlready2 import OwlReadyInconsistentOntologyError, OwlReadyJavaError, World, sync_reasoner_hermit

    graph = reasoner_triples(ontology, data)
    if len(graph) > max_triples:
        return ReasonResult(True, input_triples=len(graph),
                            skipped=f"{len(graph)} triples exceed the reasoning bound of {max_triples}")
    if not java_available():
        raise JavaMissing(
            f"the reasoner (HermiT) needs Java, and `{owlready2.JAVA_EXE}` is not on PATH: "
            "install a JRE (apt-get install default-jre-headless) or skip reasoning (kg build --no-reason)"
        )
    with tempfile.TemporaryDirectory(prefix="kg-reason-") as tmp:
        path = os.path.join(tmp, "input.nt")
        ox.serialize(graph, path, format=ox.RdfFormat.N_TRIPLES)
        world = World()
        world.get_ontology("file://" + path).load(format="ntriples")
        before = set(world.as_rdflib_graph())
        try:
            sync_reasoner_hermit(world, infer_property_values=True, debug=0)
        except OwlReadyInconsistentOntologyError as exc:
            raise NonConformance("HermiT: the ontology and data are inconsistent") from exc
        except OwlReadyJavaError as exc:
            first = next((ln for ln in str(exc).splitlines() if "Exception" in ln), str(exc)[:300])
            raise KGError(f"the reasoner failed: {first.strip()}") from exc
        after = set(world.as_rdflib_graph())
        world.close()
    inferred = Graph()
    for s, p, o in after - before:
        if not (isinstance(s, URIRef) and isinstance(o, URIRef)) or str(s) == "http://inferrences":
            continue
        if ox.Triple(ox.NamedNode(s), ox.NamedNode(p), ox.NamedNode(o)) in graph:
            continue
        if o in (OWL.Thing, OWL.NamedIndividual) or p in (RDFS.subClassOf, OWL.equivalentClass):
            continue
        if p == RDF.type and o in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty):
            continue
        inferred.add((s, p, o))
    return ReasonResult(True, inferred=inferred, input_triples=len(graph))
