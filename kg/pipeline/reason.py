"""Reason over the asserted graph with owlready2 and HermiT: consistency and inferred facts.

What the reasoner sees is chosen deliberately: the ontology plus the entity triples, without
the reification and evidence nodes (they need no reasoning) and without literals outside the
OWL 2 datatype map (HermiT refuses xsd:date, xsd:gYear, xsd:gYearMonth). The inferred triples
(types and object-property values not already asserted) are returned for their own named graph.
"""
from __future__ import annotations

import os
import re
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


def reason(ontology: Graph, data: Graph | list[ox.Quad], *, max_triples: int = DEFAULT_MAX_TRIPLES,
           engine: str = "hermit") -> ReasonResult:
    """Run HermiT over ontology + data.

    Args:
        data: the asserted data, an rdflib Graph or Oxigraph quads (the union of their graphs).
        max_triples: above this many input triples, reasoning is skipped (HermiT does not
            finish 1M triples in 15 minutes); the result says so.
        engine: ``hermit`` (default) runs HermiT's command line on the input directly, with a JVM
            tuned for one short run (client compiler only, serial GC: half the CPU time);
            ``owlready2`` goes through owlready2's World and ``sync_reasoner_hermit`` (the
            reference: tests/test_build.py checks both infer the same triples).
    Raises:
        JavaMissing: no `java` on PATH.
        NonConformance: HermiT reports the ontology inconsistent.
    """
    return Reasoning(ontology, data, max_triples=max_triples, engine=engine).result()


class Reasoning:
    """Reasoning started in the background: HermiT (a Java process) works while the caller does
    something else (``kg build`` validates meanwhile; on 2 cores the two overlap), then
    :meth:`result` waits for it; :meth:`cancel` stops it. Errors (Java missing, inconsistency) are
    raised by :meth:`result`, so a caller that validates first still reports invalid data first.
    """

    def __init__(self, ontology: Graph, data: Graph | list[ox.Quad], *, max_triples: int = DEFAULT_MAX_TRIPLES,
                 engine: str = "hermit"):
        self.graph = reasoner_triples(ontology, data)
        self.engine = engine
        self.skipped = (f"{len(self.graph)} triples exceed the reasoning bound of {max_triples}"
                        if len(self.graph) > max_triples else None)
        self.error: Exception | None = None
        self.proc = None
        self.tmp = None
        if self.skipped is None and engine == "hermit":
            try:
                self.proc, self.tmp = _start_hermit(self.graph)
            except JavaMissing as exc:
                self.error = exc

    def cancel(self) -> None:
        """Stop HermiT (if it runs) and remove its files."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None

    def result(self) -> ReasonResult:
        if self.skipped is not None:
            return ReasonResult(True, input_triples=len(self.graph), skipped=self.skipped)
        if self.error is not None:
            raise self.error
        try:
            derived = _finish_hermit(self.proc, self.tmp.name, self.graph) if self.engine == "hermit" \
                else _owlready2(self.graph)
        finally:
            self.cancel()
        return ReasonResult(True, inferred=_inferred(derived, self.graph), input_triples=len(self.graph))


def _inferred(derived: set[tuple], graph: set[ox.Triple]) -> Graph:
    """The derived triples worth publishing: between IRIs, not asserted, not OWL bookkeeping."""
    inferred = Graph()
    for s, p, o in derived:
        if not (isinstance(s, URIRef) and isinstance(o, URIRef)) or str(s) == "http://inferrences":
            continue
        if ox.Triple(ox.NamedNode(s), ox.NamedNode(p), ox.NamedNode(o)) in graph:
            continue
        if o in (OWL.Thing, OWL.NamedIndividual) or p in (RDFS.subClassOf, OWL.equivalentClass):
            continue
        if p == RDF.type and o in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty):
            continue
        inferred.add((s, p, o))
    return inferred


def _java_missing() -> JavaMissing:
    import owlready2

    return JavaMissing(
        f"the reasoner (HermiT) needs Java, and `{owlready2.JAVA_EXE}` is not on PATH: "
        "install a JRE (apt-get install default-jre-headless) or skip reasoning (kg build --no-reason)")


def _owlready2(graph: set[ox.Triple]) -> set[tuple]:
    """Triples owlready2's World holds after ``sync_reasoner_hermit`` and did not hold before."""
    from owlready2 import OwlReadyInconsistentOntologyError, OwlReadyJavaError, World, sync_reasoner_hermit

    if not java_available():
        raise _java_missing()
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
    return after - before


# HermiT's command-line output (org.semanticweb.HermiT.cli.CommandLine -c -O -D -I -Y), read as
# owlready2's sync_reasoner_hermit reads it: axioms of named terms, and known property instances.
_AXIOM = re.compile(r"^([A-Za-z]+)\( ((?:<(?:[^>]+)>\s*)+) \)$", re.MULTILINE)
_INSTANCES = re.compile(r"^<([^>]+)> \(known instances:\s*(.*?)(?:\s*\|\s*)possible instances:\s*(.*?)\s*\)",
                        re.MULTILINE)
_AXIOM_TRIPLE = {  # relation -> (predicate, both directions)
    "SubClassOf": (RDFS.subClassOf, False), "SubPropertyOf": (RDFS.subPropertyOf, False),
    "SubObjectPropertyOf": (RDFS.subPropertyOf, False), "SubDataPropertyOf": (RDFS.subPropertyOf, False),
    "Type": (RDF.type, False), "EquivalentClasses": (OWL.equivalentClass, True),
    "EquivalentObjectProperties": (OWL.equivalentProperty, True),
    "EquivalentDataProperties": (OWL.equivalentProperty, True),
}
_OWL = str(OWL)
_JVM_OPTIONS = ("-Xmx2000M", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
"""One short run: the client compiler alone and the serial collector halve HermiT's CPU time
(JIT and GC threads otherwise compete for the cores); 2000 MB as owlready2 gives it."""


def _start_hermit(graph: set[ox.Triple]):
    """HermiT's command line started on the input triples, its output going to a file.

    Returns:
        (the process, the TemporaryDirectory holding input.nt and output.txt).
    Raises:
        JavaMissing: no java.
    """
    import subprocess

    import owlready2

    if not java_available():
        raise _java_missing()
    here = os.path.dirname(owlready2.__file__)
    classpath = os.pathsep.join([os.path.join(here, "hermit"), os.path.join(here, "hermit", "HermiT.jar")])
    tmp = tempfile.TemporaryDirectory(prefix="kg-reason-")
    path = os.path.join(tmp.name, "input.nt")
    ox.serialize(graph, path, format=ox.RdfFormat.N_TRIPLES)
    command = [owlready2.JAVA_EXE, *_JVM_OPTIONS, "-cp", classpath, "org.semanticweb.HermiT.cli.CommandLine",
               "-c", "-O", "-D", "-I", "-Y", "file://" + path]
    # output to a file, not a pipe: nobody reads a pipe while the caller validates, and a full
    # pipe would stop HermiT
    with open(os.path.join(tmp.name, "output.txt"), "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    return proc, tmp


def _finish_hermit(proc, folder: str, graph: set[ox.Triple]) -> set[tuple]:
    """What HermiT derived from the input triples, as owlready2 would add it to its World:
    each axiom HermiT reports between named terms (types, subclasses, subproperties, equivalences)
    and each known property instance whose triple, or its inverse's, is not already there.

    Raises:
        NonConformance: inconsistent. KGError: HermiT failed.
    """
    code = proc.wait()
    with open(os.path.join(folder, "output.txt"), "rb") as f:
        output = f.read().decode("utf-8", "replace").replace("\r", "")
    if code != 0:
        if code == 1 and "Inconsistent ontology" in output:
            raise NonConformance("HermiT: the ontology and data are inconsistent")
        first = next((ln for ln in output.splitlines() if "Exception" in ln), output[:300])
        raise KGError(f"the reasoner failed: {first.strip()}")
    return _read_hermit(output, graph)


def _read_hermit(output: str, graph: set[ox.Triple]) -> set[tuple]:
    derived: set[tuple] = set()
    for relation, iris in _AXIOM.findall(output):
        terms = iris[1:-1].split("> <")
        predicate, symmetric = _AXIOM_TRIPLE[relation]
        if not symmetric:
            if not terms[0].startswith(_OWL):
                derived.update((URIRef(terms[0]), predicate, URIRef(t)) for t in terms[1:])
            continue
        if any(t == _OWL + "Nothing" for t in terms):
            continue  # an unsatisfiable class: equivalent to owl:Nothing, dropped by the caller
        named = [t for t in terms if not t.startswith(_OWL)]
        derived.update((URIRef(a), predicate, URIRef(b)) for a in named for b in named if a != b)
    inverse: dict[str, str] = {}
    inverse_of = ox.NamedNode(str(OWL.inverseOf))
    for t in graph:
        if t.predicate == inverse_of and isinstance(t.subject, ox.NamedNode) and isinstance(t.object, ox.NamedNode):
            inverse[t.subject.value], inverse[t.object.value] = t.object.value, t.subject.value
    for prop, known, _possible in _INSTANCES.findall(output):
        known = known[1:-1]
        if not known.strip():
            continue
        inv = inverse.get(prop)
        for pair in known.split(")("):
            a, b = pair[1:-1].split(">, <", 1)
            if inv is not None and ox.Triple(ox.NamedNode(b), ox.NamedNode(inv), ox.NamedNode(a)) in graph:
                continue  # stated the other way round: owlready2 does not add it either
            derived.add((URIRef(a), URIRef(prop), URIRef(b)))
    return derived
