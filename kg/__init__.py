"""Yufeng KG: a knowledge graph of 鱼峰区 (Yufeng District, Liuzhou, Guangxi) and its toolkit.

Public API: :func:`build`, :func:`load`, :func:`query`, :func:`to_networkx`.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["build", "load", "__version__"]


def build(data_dir=None, sources_dir=None, out_dir=None, *, with_reasoning: bool = True):
    """Build the graph into build/ (see :func:`kg.build.build`)."""
    from .build import build as _build

    return _build(data_dir, sources_dir, out_dir, with_reasoning=with_reasoning)


def load(build_dir=None, *, in_memory: bool = True):
    """The built graph as an rdflib Dataset backed by the embedded Oxigraph store.

    The default graph is the union of all named graphs.
    """
    from . import paths
    from .store import as_rdflib, open_store

    return as_rdflib(open_store(build_dir or paths.build_dir(), in_memory=in_memory))
