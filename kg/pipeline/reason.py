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


def java_available() -> bool:
    import owlready2

    return shutil.which(owlready2.JAVA_EXE) is not None


def reason(ontology: Graph, data: Graph, *, max_triples: int = DEFAULT_MAX_TRIPLES) -> ReasonResult:
    """Run HermiT over ontology + data.

    Args:
        max_triples: above this many input triples, reasoning is skipped (HermiT does not
            finish 1M triples in 15 minutes); the result says so.
    Raises:
        JavaMissing: no `java` on PATH.
        NonConformance: HermiT reports the ontology inconsistent.
    """
    import owlready2
    from owlready2 import OwlReadyInconsistentOntologyError, OwlReadyJavaError, World, sync_reasoner_hermit

    graph = reasoner_input(ontology, data)
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
        graph.serialize(path, format="nt", encoding="utf-8")
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
    asserted = set(graph)
    inferred = Graph()
    for s, p, o in after - before:
        if not (isinstance(s, URIRef) and isinstance(o, URIRef)) or str(s) == "http://inferrences":
            continue
        if (s, p, o) in asserted or o in (OWL.Thing, OWL.NamedIndividual) or p in (RDFS.subClassOf, OWL.equivalentClass):
            continue
        if p == RDF.type and o in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty):
            continue
        inferred.add((s, p, o))
    return ReasonResult(True, inferred=inferred, input_triples=len(graph))
