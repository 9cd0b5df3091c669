"""The embedded store (pyoxigraph) and the only place that converts rdflib <-> Oxigraph.

Serialisations are written by Oxigraph from quads sorted by their N-Quads text, so the same
graph gives the same bytes every time.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.errors import InputError, Position
from kg.namespaces import PREFIXES

# rdflib and oxrdflib are imported inside the functions that convert, so that opening and
# querying a store (`kg query`) does not pay for importing them (~0.5 s together).

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


def dataset_quads(ds) -> list[ox.Quad]:
    """Every quad of an rdflib Dataset as Oxigraph quads, sorted."""
    from rdflib import Graph, URIRef
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

    quads = []
    for s, p, o, g in ds.quads((None, None, None, None)):
        gid = g.identifier if isinstance(g, Graph) else g
        graph = ox.DefaultGraph() if gid in (None, DATASET_DEFAULT_GRAPH_ID) else to_oxigraph_term(URIRef(gid))
        quads.append(ox.Quad(to_oxigraph_term(s), to_oxigraph_term(p), to_oxigraph_term(o), graph))
    quads.sort(key=_sort_key)
    return quads


def to_oxigraph_quads(quads: list[tuple]) -> list[ox.Quad]:
    """(s, p, o, graph) tuples of rdflib terms as Oxigraph quads, each once, in first-seen order.

    Each term object is converted once (a build passes the same predicate, graph and node objects
    thousands of times); terms are remembered by identity, not by rdflib's hash (computed in
    Python on every call), which is safe because ``quads`` keeps every term alive meanwhile.
    """
    from rdflib import URIRef
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

    memo: dict[int, object] = {}

    def conv(t):
        r = memo.get(id(t))
        if r is None:
            r = ox.NamedNode(t) if type(t) is URIRef and t != DATASET_DEFAULT_GRAPH_ID else to_oxigraph_term(t)
            memo[id(t)] = r
        return r

    return list(dict.fromkeys(ox.Quad(conv(s), conv(p), conv(o), conv(g)) for s, p, o, g in quads))


def graph_quads(graph, name) -> list[ox.Quad]:
    """A plain rdflib Graph's triples as quads in the named graph ``name``."""
    gn = to_oxigraph_term(name)
    return [ox.Quad(to_oxigraph_term(s), to_oxigraph_term(p), to_oxigraph_term(o), gn) for s, p, o in graph]


def sort_quads(quads) -> list[ox.Quad]:
    """Quads in the order every serialisation writes them: by the N-Triples texts of
    (graph, subject, predicate, object), as :func:`_sort_key` orders them.

    Within one graph the quads are sorted by their whole text (``str(quad)``, "s p o g", one call
    instead of four): the same order, because no term's text is a proper prefix of another's
    followed by a character below the separating space (IRIs end in ``>``, literals in a quote, a
    language tag or a datatype IRI, blank node labels have no spaces; control characters are
    escaped). tests/test_build.py compares both orders.
    """
    groups: dict = {}
    for q in quads:
        groups.setdefault(q.graph_name, []).append(q)
    out: list[ox.Quad] = []
    for graph in sorted(groups, key=str):
        out.extend(sorted(groups[graph], key=str))
    return out


def union_triples(quads) -> list[ox.Triple]:
    """The triples of quads, each once (duplicates across graphs removed), sorted by their
    N-Triples texts (subject, predicate, object; see :func:`sort_quads` for why one text will do)."""
    return sorted({ox.Triple(q.subject, q.predicate, q.object) for q in quads}, key=str)


def serialize(quads: list[ox.Quad], fmt: str, *, presorted: bool = False,
              triples: list[ox.Triple] | None = None) -> bytes:
    """Serialise sorted quads; triple formats get the union (duplicates across graphs removed).

    Args:
        presorted: the quads are already in :func:`sort_quads` order (not sorted again).
        triples: ``union_triples(quads)`` when the caller has it already (triple formats).
    """
    if fmt in QUAD_FORMATS:
        out = ox.serialize(quads if presorted else sort_quads(quads), format=FORMATS[fmt], prefixes=_prefixes(fmt))
    else:
        out = ox.serialize(union_triples(quads) if triples is None else triples, format=FORMATS[fmt],
                           prefixes=_prefixes(fmt))
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


class BuildUnreadable(InputError):
    """The build folder holds no usable build: missing, empty, truncated or corrupt (exit 2)."""


MANIFEST = "BUILD.json"
"""Written last into every release: its id, and the size of each file (to detect truncation)."""


@dataclass(frozen=True)
class Release:
    """A published build: the folder its files are in, and its id (None for a legacy flat build)."""

    path: Path
    id: str | None

    @property
    def nq(self) -> Path:
        return self.path / "kg.nq"


def published(build_dir: Path) -> Release:
    """The release a build folder publishes: ``build/current`` (see :mod:`kg.pipeline.build`),
    or the folder itself for a build written before releases (or copied flat).

    Raises:
        BuildUnreadable: no build there, or its files do not match its manifest (truncated).
    """
    build_dir = Path(build_dir)
    current = build_dir / "current"
    try:
        folder = current.resolve(strict=True) if (current.is_symlink() or current.exists()) else build_dir
    except (OSError, RuntimeError) as exc:
        raise BuildUnreadable(f"the published build is missing ({exc}): run `kg build` again",
                              Position(str(current))) from None
    nq = folder / "kg.nq"
    if not nq.is_file():
        raise BuildUnreadable("not found: run `kg build` first", Position(str(build_dir / "kg.nq")))
    manifest = folder / MANIFEST
    build_id = None
    if manifest.is_file():
        try:
            info = json.loads(manifest.read_text(encoding="utf-8"))
            build_id = str(info["id"])
            sizes = dict(info.get("files", {}))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BuildUnreadable(f"the build manifest is unreadable ({exc}): run `kg build` again",
                                  Position(str(manifest))) from None
        for name, size in sizes.items():
            f = folder / name
            actual = f.stat().st_size if f.is_file() else None
            if actual != size:
                raise BuildUnreadable(f"{'missing' if actual is None else f'{actual} bytes, expected {size}'}: "
                                      "the build is truncated or was changed; run `kg build` again",
                                      Position(str(f))) from None
    if nq.stat().st_size == 0:
        raise BuildUnreadable("the build is empty (0 bytes): run `kg build` again", Position(str(nq)))
    return Release(folder, build_id)


def hold(release: Release):
    """Mark release as in use for as long as the returned file stays open: a shared ``flock`` on
    its kg.nq (read-only, so it works in a read-only build folder too). A build does not remove a
    release that is in use (:func:`in_use`); the lock ends with the file or the process.
    Returns the open file (close it to let go), or None where locks are not available."""
    try:
        import fcntl
    except ImportError:  # not on this system: releases are pruned as before
        return None
    try:
        f = open(release.nq, "rb")
    except OSError:
        return None
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return None
    return f


def in_use(folder: Path) -> bool:
    """Whether a running server (or anything else that called :func:`hold`) holds this release."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        f = open(Path(folder) / "kg.nq", "rb")
    except OSError:
        return False
    with f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        return False


def load_nq(nq: Path) -> ox.Store:
    """kg.nq loaded into an in-memory store.

    Raises:
        BuildUnreadable: the file does not parse, or holds no quads.
    """
    store = ox.Store()
    try:
        store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    except SyntaxError as exc:
        raise BuildUnreadable(f"corrupt N-Quads ({exc}): the build is damaged; run `kg build` again",
                              Position(str(nq))) from None
    except (MemoryError, OSError) as exc:
        raise BuildUnreadable(f"cannot be loaded ({type(exc).__name__}: {exc})", Position(str(nq))) from None
    if len(store) == 0:
        raise BuildUnreadable("the build holds no quads: run `kg build` again", Position(str(nq)))
    return store


def open_store(build_dir: Path, *, in_memory: bool = True) -> ox.Store:
    """Open the published build: loaded into memory from kg.nq (default) or the on-disk store.

    Raises:
        BuildUnreadable (an InputError): there is no build in build_dir (run `kg build`), or it is
            empty, truncated or corrupt.
    """
    release = published(Path(build_dir))
    if in_memory:
        return load_nq(release.nq)
    path = release.path / "store"
    if not path.is_dir():
        raise BuildUnreadable("not found: run `kg build` first", Position(str(path)))
    try:
        return ox.Store.read_only(str(path))
    except OSError as exc:
        raise BuildUnreadable(f"the on-disk store cannot be opened ({exc})", Position(str(path))) from None


def read_quads(build_dir: Path) -> list[ox.Quad]:
    """The quads of a build exactly as written (parsed from kg.nq, sorted).

    Use this rather than iterating a Store when the exact terms matter (exports, push):
    pyoxigraph's Store keeps integer subtypes as xsd:integer ("0"^^xsd:nonNegativeInteger comes
    back as 0), while the parser keeps the datatype as written.

    Raises:
        BuildUnreadable: there is no build in build_dir (run `kg build`), or it is corrupt.
    """
    nq = published(Path(build_dir)).nq
    try:
        return sorted(ox.parse(path=str(nq), format=ox.RdfFormat.N_QUADS), key=_sort_key)
    except SyntaxError as exc:
        raise BuildUnreadable(f"corrupt N-Quads ({exc}): run `kg build` again", Position(str(nq))) from None


def as_rdflib(store: ox.Store):
    """An rdflib Dataset over an Oxigraph store (oxrdflib); the default graph is the union."""
    from oxrdflib import OxigraphStore
    from rdflib import Dataset

    return Dataset(store=OxigraphStore(store=store), default_union=True)


# The two term converters below are ours rather than oxrdflib's (whose converter module is
# private): they keep the lexical form and datatype exactly as written, in both directions.

def to_rdflib_term(term):
    """An Oxigraph term (IRI, blank node, literal, or a quoted triple) as an rdflib term.

    Raises:
        ValueError: term is not an Oxigraph term.
    """
    from rdflib import BNode, Literal, URIRef

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
    from rdflib import BNode, Graph, Literal, URIRef
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

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

