"""Yufeng KG: a knowledge graph of 鱼峰区 (Yufeng District, Liuzhou, Guangxi) and its toolkit.

Public API: :func:`build`, :func:`load`, :func:`query`, :func:`to_networkx`; for notebooks
:func:`to_pyvis`, :func:`explore` and :func:`chart` (the ``notebook`` extra).
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["build", "load", "query", "to_networkx", "to_pyvis", "explore", "chart", "__version__"]

_STORES: dict = {}


def build(data_dir=None, sources_dir=None, out_dir=None, *, with_reasoning: bool = True):
    """Build the graph into build/ (see :func:`kg.pipeline.build.build`)."""
    from kg.pipeline.build import build as _build

    return _build(data_dir, sources_dir, out_dir, with_reasoning=with_reasoning)


def load(build_dir=None, *, in_memory: bool = True):
    """The built graph as an rdflib Dataset backed by the embedded Oxigraph store.

    The default graph is the union of all named graphs.
    """
    from kg import paths
    from kg.read.store import as_rdflib, open_store

    return as_rdflib(open_store(build_dir or paths.build_dir(), in_memory=in_memory))


def _store(build_dir=None):
    """The store of a build, opened once per build folder and kept (the files are read once)."""
    from pathlib import Path

    from kg import paths
    from kg.read.store import open_store

    key = Path(build_dir or paths.build_dir()).resolve()
    nq = key / "kg.nq"
    stamp = nq.stat().st_mtime_ns if nq.exists() else None
    cached = _STORES.get(key)
    if cached is None or cached[0] != stamp:
        _STORES[key] = (stamp, open_store(key))
    return _STORES[key][1]


def query(name_or_text: str, build_dir=None, **bindings):
    """Run a named query (``"cq05-awards-2023"``), a ``.rq`` file or SPARQL text on the build.

    Args:
        name_or_text: the query.
        build_dir: the build folder (default: build/ or $KG_BUILD).
        **bindings: variables to bind, e.g. ``entity="yfid:jinsangzi"`` (IRIs, curies, text, numbers).
    Returns:
        a :class:`kg.read.query.QueryResult`; iterate it for :class:`kg.read.query.Row` objects whose values
        are rdflib terms (``row.python(name)`` gives plain Python values).
    Raises:
        kg.errors.InputError: unknown query, syntax error (with line and column), bad binding.
        FileNotFoundError: no build (run ``kg build``).
    """
    from kg.read.query import run

    store = _store(build_dir)
    result = run(store, name_or_text, bindings)
    result.label = _labeler(store)
    return result


def _labeler(store):
    """label(iri, lang) over a store, its index built on first use (for notebook display)."""
    describer = []

    def label(iri: str, lang: str = "zh") -> str:
        if not describer:
            from kg.read.describe import Describer

            describer.append(Describer(store))
        return describer[0].term_label(iri, lang)

    return label


def to_networkx(build_dir=None, *, include_inferred: bool = False):
    """The graph of resources as a networkx MultiDiGraph (see :func:`kg.read.network.to_networkx`):
    entities are nodes with labels and literal attributes, links are edges keyed by predicate."""
    from kg.read.network import to_networkx as _to_networkx

    return _to_networkx(_store(build_dir), include_inferred=include_inferred)


def to_pyvis(build_dir=None, *, focus=None, depth: int = 1, classes=None, query=None, lang: str = "zh",
             height: str = "720px", width: str = "100%"):
    """The graph or a view (class, focus + depth, named query) as a pyvis Network styled like the
    explorer, offline and UTF-8 when written (see :func:`kg.views.pyvis_view.to_pyvis`).

    ``focus`` takes an id, curie, IRI, zh/en label, alias or pinyin. Needs the ``notebook`` extra.
    """
    from kg.views.pyvis_view import to_pyvis as _to_pyvis

    return _to_pyvis(build_dir, focus=focus, depth=depth, classes=classes, query=query, lang=lang,
                     height=height, width=width)


def explore(build_dir=None, *, focus=None, depth: int = 1, classes=None, query=None, lang: str = "zh",
            height: str = "720px"):
    """The explorer of the graph or a view, shown in a notebook cell (offline) or saved with
    ``.save(path)`` (see :class:`kg.views.explorer_cell.GraphView`)."""
    from kg.views.explorer_cell import explore as _explore

    return _explore(_store(build_dir), focus=focus, depth=depth, classes=classes, query=query, lang=lang,
                    height=height)


def chart(name_or_entity: str, build_dir=None, *, lang: str = "zh", **bindings):
    """A chart as SVG text: a named query with a ``# chart:`` directive (``"cq06-indicators-2023"``)
    or an entity's observations (id, curie, IRI or label); shows itself in a notebook
    (see :func:`kg.views.chart.chart`). Needs matplotlib (the ``chart`` or ``notebook`` extra)."""
    from kg.views.chart import chart as _chart

    return _chart(_store(build_dir), name_or_entity, lang=lang, bindings=bindings)
