"""`kg path A B`: the shortest connections between two entities (networkx).

Paths run over the undirected view of :func:`kg.read.network.to_networkx`; each hop is printed in
its real direction with its predicate label. Links to shared concept hubs (modality, unit,
measure type, level, status) and to external datasets are left out: every fact would otherwise
be two hops from every other through "result" or "national".
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from kg import paths
from kg.read.describe import Index
from kg.namespaces import YF, curie

HUB_PREDICATES = {str(YF[p]) for p in ("modality", "unit", "measureType", "level", "status")}


@dataclass
class Hop:
    """One step of a path, in the direction the graph states it."""

    subject: str
    predicate: str
    object: str
    label_zh: str
    label_en: str


def undirected(g: nx.MultiDiGraph) -> nx.Graph:
    """The undirected view without hub predicates and external nodes."""
    u = nx.Graph()
    for s, o, data in g.edges(data=True):
        if data["predicate"] in HUB_PREDICATES or g.nodes[s].get("external") or g.nodes[o].get("external"):
            continue
        u.add_edge(s, o)
    return u


def shortest_paths(g: nx.MultiDiGraph, a: str, b: str, limit: int = 5) -> list[list[list[Hop]]]:
    """Up to ``limit`` shortest paths from a to b; each path a list of hops, each hop the list of
    edges (either direction) between its two nodes. Empty when not connected."""
    u = undirected(g)
    if a not in u or b not in u or not nx.has_path(u, a, b):
        return []
    out = []
    for i, nodes in enumerate(sorted(nx.all_shortest_paths(u, a, b))):
        if i >= limit:
            break
        path = []
        for x, y in zip(nodes, nodes[1:]):
            edges = []
            for s, o in ((x, y), (y, x)):
                for key, data in sorted((g.get_edge_data(s, o) or {}).items()):
                    if data["predicate"] not in HUB_PREDICATES:
                        edges.append(Hop(s, data["predicate"], o, data["label_zh"], data["label_en"]))
            path.append(edges)
        out.append(path)
    return out


def cmd_path(args) -> int:
    """Print up to args.max shortest paths between two entities; exit 1 when not connected.

    Raises:
        Ambiguous, Unknown: a name that fits several entities or none (exit 2).
    """
    from kg.read.network import to_networkx
    from kg.read.store import open_store

    store = open_store(args.build or paths.build_dir())
    index = Index(store)
    a, b = index.resolve(args.a), index.resolve(args.b)
    g = to_networkx(store)
    found = shortest_paths(g, a, b, args.max)
    name = lambda n: f"{g.nodes[n]['label_' + args.lang]} [{curie(n)}]"  # noqa: E731
    if not found:
        print(f"no connection between {name(a) if a in g else a} and {name(b) if b in g else b}", file=sys.stderr)
        return 1
    for i, path in enumerate(found, 1):
        print(f"path {i} ({len(path)} hop{'s' if len(path) != 1 else ''}):")
        node = a
        for edges in path:
            nxt = edges[0].object if edges[0].subject == node else edges[0].subject
            for h in edges:
                label = h.label_zh if args.lang == "zh" else h.label_en
                if h.subject == node:
                    print(f"  {name(node)} —{label}→ {name(nxt)}")
                else:
                    print(f"  {name(node)} ←{label}— {name(nxt)}")
            node = nxt
    return 0


def register(sub) -> None:
    """Add `kg path` to the CLI."""
    p = sub.add_parser("path", help="shortest connections between two entities")
    p.add_argument("a", help="first entity (id, label, alias or pinyin)")
    p.add_argument("b", help="second entity")
    p.add_argument("--max", type=int, default=5, help="at most this many paths (default 5)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--build", type=Path, help="build folder (default: build/ or $KG_BUILD)")
    p.set_defaults(func=cmd_path)

