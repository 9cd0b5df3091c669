"""The explorer's JSON API (/api/graph, /api/search, /api/node, /api/expand), per the contract
in spec/explorer-api.md: the same node, edge and legend shapes as the offline viewer's payload.

Everything is computed once from the store when the server starts (the graph is read-only).
"""
from __future__ import annotations

import math
from dataclasses import asdict

import networkx as nx
import pyoxigraph as ox

from .describe import Describer, Index
from .namespaces import curie_to_iri
from .network import to_networkx

PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#393b79"]
SHAPES = ["dot", "square", "diamond", "triangle", "star", "triangleDown", "hexagon", "ellipse"]
EXTERNAL_GROUP = "external"


class BadParameter(ValueError):
    """A query parameter the API cannot use (answered with 400)."""


class NotFound(LookupError):
    """An IRI the graph does not hold (answered with 404)."""


class ExplorerData:
    """Nodes, edges, legend and descriptions of one store, ready to answer the API."""

    def __init__(self, store: ox.Store, index: Index | None = None, describer: Describer | None = None,
                 graph: nx.MultiDiGraph | None = None):
        self.store = store
        self.index = index or Index(store)
        self.describer = describer or Describer(store, self.index)
        self.graph = graph if graph is not None else to_networkx(store)
        self.class_labels = self.describer.pred_labels  # the ontology's labels, classes included
        self._nodes = self._build_nodes()
        self.legend = self._build_legend()

    # --- shapes ---------------------------------------------------------------------------
    def _group(self, data: dict) -> str:
        if data.get("external"):
            return EXTERNAL_GROUP
        types = data.get("types") or []
        own = [t for t in types if t.startswith("yf:")]
        return (own or types or ["yf:Thing"])[0]

    def _build_nodes(self) -> dict[str, dict]:
        g = self.graph
        undirected = nx.Graph(g)
        communities: dict[str, int] = {}
        if undirected.number_of_edges():
            for i, members in enumerate(nx.community.louvain_communities(undirected, seed=1)):
                for m in members:
                    communities[m] = i
        max_degree = max((d for _, d in undirected.degree()), default=1) or 1
        nodes = {}
        for iri, data in g.nodes(data=True):
            degree = undirected.degree(iri) if iri in undirected else 0
            nodes[iri] = {
                "id": iri,
                "label_zh": data["label_zh"],
                "label_en": data["label_en"],
                "pinyin": data.get("pinyin"),
                "aliases": list(data.get("aliases") or []),
                "types": list(data.get("types") or []),
                "group": self._group(data),
                "size": round(10 + 30 * math.sqrt(degree / max_degree), 2),
                "community": communities.get(iri),
                "external": bool(data.get("external")),
            }
        return nodes

    def _build_legend(self) -> list[dict]:
        counts: dict[str, int] = {}
        for n in self._nodes.values():
            counts[n["group"]] = counts.get(n["group"], 0) + 1
        legend = []
        for i, (group, count) in enumerate(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))):
            iri = curie_to_iri(group) or group
            labels = self.class_labels.get(iri, {})
            if group == EXTERNAL_GROUP:
                labels = {"zh": "外部资源", "en": "external resource"}
            legend.append({"group": group, "label_zh": labels.get("zh") or group,
                           "label_en": labels.get("en") or group, "color": PALETTE[i % len(PALETTE)],
                           "shape": SHAPES[i % len(SHAPES)], "count": count})
        return legend

    def node(self, iri: str) -> dict:
        return self._nodes[iri]

    def edge(self, s: str, o: str, key: str, data: dict) -> dict:
        return {"from": s, "to": o, "predicate": key, "label_zh": data["label_zh"],
                "label_en": data["label_en"], "inferred": bool(data["inferred"])}

    def _legend_for(self, nodes: list[dict]) -> list[dict]:
        groups = {n["group"] for n in nodes}
        return [entry for entry in self.legend if entry["group"] in groups]

    # --- endpoints ------------------------------------------------------------------------
    def resolve_iri(self, iri: str | None) -> str:
        """A known IRI (full IRI or yf curie) or NotFound / BadParameter."""
        if not iri:
            raise BadParameter("the parameter iri is required")
        full = iri if iri.startswith(("http://", "https://")) else curie_to_iri(iri)
        if not full:
            raise BadParameter(f"not an IRI or known curie: {iri!r}")
        if full in self._nodes or full in self.index.names:
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
        if focus:
            focus = self.resolve_iri(focus)
            if focus not in self.graph:
                return {"nodes": [], "edges": [], "legend": []} if focus not in self._nodes else \
                    {"nodes": [self._nodes[focus]], "edges": [], "legend": self._legend_for([self._nodes[focus]])}
            if not 0 <= depth <= 4:
                raise BadParameter("depth must be between 0 and 4")
            keep = set(nx.ego_graph(self.graph, focus, radius=depth, undirected=True).nodes)
        else:
            keep = set(self.graph.nodes)
        nodes = [self._nodes[n] for n in sorted(keep)]
        edges = [self.edge(s, o, k, d) for s, o, k, d in self.graph.edges(keys=True, data=True)
                 if s in keep and o in keep]
        return {"nodes": nodes, "edges": edges, "legend": self._legend_for(nodes)}

    def search(self, q: str | None, limit: int = 20) -> dict:
        if q is None or not q.strip():
            raise BadParameter("the parameter q is required")
        if not 1 <= limit <= 200:
            raise BadParameter("limit must be between 1 and 200")
        hits = self.index.search(q[:200], limit=limit)
        return {"hits": [{"iri": h.iri, "label_zh": h.label_zh, "label_en": h.label_en, "types": h.types,
                          "score": h.score, "matched": h.matched} for h in hits]}

    def detail(self, iri: str | None) -> dict:
        return asdict(self.describer.describe(self.resolve_iri(iri)))

    def expand(self, iri: str | None, predicate: str | None = None, offset: int = 0, limit: int = 50) -> dict:
        """Neighbours of iri grouped by predicate (both directions), paged per group."""
        iri = self.resolve_iri(iri)
        if not 1 <= limit <= 500 or offset < 0:
            raise BadParameter("limit must be between 1 and 500 and offset at least 0")
        if predicate and not predicate.startswith(("http://", "https://")):
            predicate = curie_to_iri(predicate) or predicate
        groups: dict[str, list[tuple[str, str, str, dict]]] = {}
        if iri in self.graph:
            for s, o, k, d in self.graph.out_edges(iri, keys=True, data=True):
                groups.setdefault(k, []).append((s, o, k, d))
            for s, o, k, d in self.graph.in_edges(iri, keys=True, data=True):
                groups.setdefault(k, []).append((s, o, k, d))
        if predicate and predicate not in groups:
            raise NotFound(f"{iri} has no neighbours through {predicate}")
        nodes: dict[str, dict] = {iri: self._nodes[iri]} if iri in self._nodes else {}
        edges, out_groups = [], []
        for p in sorted(groups) if not predicate else [predicate]:
            members = sorted(groups[p], key=lambda e: (e[0] == iri, e[1] if e[0] == iri else e[0]))
            start = offset if predicate else 0
            page = members[start:start + limit]
            for s, o, k, d in page:
                other = o if s == iri else s
                nodes[other] = self._nodes[other]
                edges.append(self.edge(s, o, k, d))
            d0 = members[0][3]
            end = start + len(page)
            out_groups.append({"predicate": p, "label_zh": d0["label_zh"], "label_en": d0["label_en"],
                               "total": len(members), "returned": len(page),
                               "next_offset": end if end < len(members) else None})
        return {"nodes": list(nodes.values()), "edges": edges, "groups": out_groups}


class VizExplorerData(ExplorerData):
    """The same API answered by kg.viz's Explorer (the offline viewer's own builders), so that
    the page at / and the API agree on groups, colours, sizes and vocabulary labels.
    Parameters are checked here; kg.viz does the rest."""

    def __init__(self, store: ox.Store, explorer, index: Index | None = None, describer: Describer | None = None):
        self.store = store
        self.viz = explorer
        self.index = index or explorer.index
        self.describer = describer or explorer.describer
        self.graph = explorer.graph
        self._nodes = {}  # resolve_iri: membership is the graph's
        whole = explorer.view()
        self.legend = whole["legend"]
        self._whole = whole

    def resolve_iri(self, iri: str | None) -> str:
        if iri and (iri in self.graph):
            return iri
        full = super().resolve_iri(iri)
        return full

    def node(self, iri: str) -> dict:
        return self.viz.node(iri)

    def graph_json(self, focus: str | None = None, depth: int = 1) -> dict:
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


def explorer_data(store: ox.Store, index: Index, describer: Describer) -> ExplorerData:
    """The explorer's data: kg.viz's Explorer when kg.viz is installed, else this module's own."""
    try:
        from . import viz
    except ImportError:
        return ExplorerData(store, index, describer)
    if not hasattr(viz, "Explorer"):
        return ExplorerData(store, index, describer)
    return VizExplorerData(store, viz.Explorer(store))
