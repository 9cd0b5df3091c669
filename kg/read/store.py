"""The embedded store (pyoxigraph) and the only place that converts rdflib <-> Oxigraph.

Serialisations are written by Oxigraph from quads sorted by their N-Quads text, so the same
graph gives the same bytes every time.
"""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from kg.namespaces import PREFIXES

FORMATS = {
    "trig": ox.RdfFormat.TRIG,
    "nq": ox.RdfFormat.N_QUADS,
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
QUAD_FORMATS = {"trig", "nq", "jsonld"}


def _sort_key(q: ox.Quad) -> tuple:
    return (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object))


def dataset_quads(ds: Dataset) -> list[ox.Quad]:
    """Every quad of an rdflib Dataset as Oxigraph quads, sorted."""
    quads = []
    for s, p, o, g in ds.quads((None, None, None, None)):
        gid = g.identifier if isinstance(g, Graph) else g
        graph = ox.DefaultGraph() if gid in (None, DATASET_DEFAULT_GRAPH_ID) else to_oxigraph_term(URIRef(gid))
        quads.append(ox.Quad(to_oxigraph_term(s), to_oxigraph_term(p), to_oxigraph_term(o), graph))
    quads.sort(key=_sort_key)
    return quads


def graph_quads(graph: Graph, name: URIRef) -> list[ox.Quad]:
    """A plain rdflib Graph's triples as quads in the named graph ``name``."""
    gn = to_oxigraph_term(name)
    return [ox.Quad(to_oxigraph_term(s), to_oxigraph_term(p), to_oxigraph_term(o), gn) for s, p, o in graph]


def serialize(quads: list[ox.Quad], fmt: str) -> bytes:
    """Serialise sorted quads; triple formats get the union (duplicates across graphs removed)."""
    if fmt in QUAD_FORMATS:
        out = ox.serialize(sorted(quads, key=_sort_key), format=FORMATS[fmt], prefixes=_prefixes(fmt))
    else:
        triples = sorted({ox.Triple(q.subject, q.predicate, q.object) for q in quads},
                         key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
        out = ox.serialize(triples, format=FORMATS[fmt], prefixes=_prefixes(fmt))
    assert out is not None  # no output file given: pyoxigraph returns the bytes
    return out


def _prefixes(fmt: str) -> dict[str, str] | None:
    return dict(PREFIXES) if fmt in ("ttl", "trig", "rdfxml") else None


def memory_store(quads: list[ox.Quad]) -> ox.Store:
    """An in-memory Oxigraph store holding the quads."""
    store = ox.Store()
    store.bulk_extend(quads)
    return store


def write_disk_store(quads: list[ox.Quad], path: Path) -> None:
    """Write an on-disk Oxigraph store at path (which must not exist yet)."""
    store = ox.Store(str(path))
    store.bulk_extend(quads)
    store.flush()
    store.optimize()
    del store


def open_store(build_dir: Path, *, in_memory: bool = True) -> ox.Store:
    """Open the built graph: loaded into memory from kg.nq (default) or the on-disk store.

    Raises:
        FileNotFoundError: there is no build in build_dir (run `kg build`).
    """
    build_dir = Path(build_dir)
    nq = build_dir / "kg.nq"
    if in_memory:
        if not nq.is_file():
            raise FileNotFoundError(f"{nq} not found: run `kg build` first")
        store = ox.Store()
        store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
        return store
    path = build_dir / "store"
    if not path.is_dir():
        raise FileNotFoundError(f"{path} not found: run `kg build` first")
    return ox.Store.read_only(str(path))


def read_quads(build_dir: Path) -> list[ox.Quad]:
    """The quads of a build exactly as written (parsed from kg.nq, sorted).

    Use this rather than iterating a Store when the exact terms matter (exports, push):
    pyoxigraph's Store keeps integer subtypes as xsd:integer ("0"^^xsd:nonNegativeInteger comes
    back as 0), while the parser keeps the datatype as written.

    Raises:
        FileNotFoundError: there is no build in build_dir (run `kg build`).
    """
    nq = Path(build_dir) / "kg.nq"
    if not nq.is_file():
        raise FileNotFoundError(f"{nq} not found: run `kg build` first")
    return sorted(ox.parse(path=str(nq), format=ox.RdfFormat.N_QUADS), key=_sort_key)


def as_rdflib(store: ox.Store) -> Dataset:
    """An rdflib Dataset over an Oxigraph store (oxrdflib); the default graph is the union."""
    return Dataset(store=OxigraphStore(store=store), default_union=True)


# The two term converters below are ours rather than oxrdflib's (whose converter module is
# private): they keep the lexical form and datatype exactly as written, in both directions.

def to_rdflib_term(term):
    """An Oxigraph term (IRI, blank node, literal, or a quoted triple) as an rdflib term.

    Raises:
        ValueError: term is not an Oxigraph term.
    """
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Triple):
        return to_rdflib_term(term.subject), to_rdflib_term(term.predicate), to_rdflib_term(term.object)
    raise ValueError(f"not an Oxigraph term: {term!r}")


def to_oxigraph_term(term):
    """An rdflib term (IRI, blank node, literal, the default graph's id) as an Oxigraph term.

    Raises:
        ValueError: term is not an rdflib term.
    """
    if term is None:
        return None
    if isinstance(term, URIRef):
        return ox.DefaultGraph() if term == DATASET_DEFAULT_GRAPH_ID else ox.NamedNode(term)
    if isinstance(term, Literal):
        return ox.Literal(str(term), language=term.language,
                          datatype=ox.NamedNode(term.datatype) if term.datatype else None)
    if isinstance(term, BNode):
        return ox.BlankNode(term)
    if isinstance(term, Graph):
        return to_oxigraph_term(term.identifier)
    raise ValueError(f"not an rdflib term: {term!r}")

