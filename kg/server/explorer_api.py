"""The explorer's JSON API (/api/graph, /api/search, /api/node, /api/expand).

The answers come from :class:`kg.views.viz.Explorer`, the offline viewer's own builders, so the page at
/ and the API agree on groups, colours, sizes and labels; this module checks the parameters and
turns what it cannot answer into :class:`BadParameter` (400) or :class:`NotFound` (404).
"""
from __future__ import annotations

import pyoxigraph as ox

from kg.namespaces import curie_to_iri
from kg.views.viz import Explorer


class BadParameter(ValueError):
    """A query parameter the API cannot use (answered with 400)."""


class NotFound(LookupError):
    """An IRI the graph does not hold (answered with 404)."""


class ExplorerAPI:
    """The API over one store: parameter checks around a :class:`kg.views.viz.Explorer`."""

    def __init__(self, store: ox.Store, explorer: Explorer | None = None):
        self.store = store
        self.viz = explorer or Explorer(store)
        self.index = self.viz.index
        self.graph = self.viz.graph
        self._whole = self.viz.whole()
        self.legend = self._whole["legend"]

    def resolve_iri(self, iri: str | None) -> str:
        """A known IRI (full IRI or curie), else NotFound / BadParameter."""
        if not iri:
            raise BadParameter("the parameter iri is required")
        if iri in self.graph:
            return iri
        full = iri if iri.startswith(("http://", "https://")) else curie_to_iri(iri)
        if not full:
            raise BadParameter(f"not an IRI or known curie: {iri!r}")
        if full in self.graph or full in self.index.names:
            return full
        try:
            node = ox.NamedNode(full)
        except ValueError:
            raise BadParameter(f"not a valid IRI: {iri!r}") from None
        if next(iter(self.store.quads_for_pattern(node, None, None, None)), None) is not None:
            return full
        raise NotFound(f"no resource {full} in this graph")

    def graph_json(self, focus: str | None = None, depth: int = 1) -> dict:
        """The whole graph, or the neighbourhood of focus up to depth hops (either direction)."""
        if not focus:
            return self._whole
        focus = self.resolve_iri(focus)
        if not 0 <= depth <= 4:
            raise BadParameter("depth must be between 0 and 4")
        if focus not in self.graph:
            return {"nodes": [], "edges": [], "legend": []}
        return self.viz.view(focus=focus, depth=depth)

    def search(self, q: str | None, limit: int = 20) -> dict:
        if q is None or not q.strip():
            raise BadParameter("the parameter q is required")
        if not 1 <= limit <= 200:
            raise BadParameter("limit must be between 1 and 200")
        return self.viz.search(q[:200], limit=limit)

    def detail(self, iri: str | None) -> dict:
        return self.viz.detail(self.resolve_iri(iri))

    def expand(self, iri: str | None, predicate: str | None = None, offset: int = 0, limit: int = 50) -> dict:
        """Neighbours of iri grouped by predicate (both directions), paged per group."""
        iri = self.resolve_iri(iri)
        if not 1 <= limit <= 500 or offset < 0:
            raise BadParameter("limit must be between 1 and 500 and offset at least 0")
        if predicate and not predicate.startswith(("http://", "https://")):
            predicate = curie_to_iri(predicate) or predicate
        if iri not in self.graph:
            if predicate:
                raise NotFound(f"{iri} has no neighbours through {predicate}")
            return {"nodes": [], "edges": [], "groups": []}
        result = self.viz.expand(iri, predicate, offset, limit)
        if predicate and not result["groups"]:
            raise NotFound(f"{iri} has no neighbours through {predicate}")
        return result
