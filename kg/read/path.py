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

    The same entity twice is a path of no hops (exit 0).

    Raises:
        Ambiguous, Unknown: a name that fits several entities or none (exit 2).
    """
    import json

    from kg.read.network import to_networkx
    from kg.read.store import open_store
    from kg.read.table import emit

    store = open_store(args.build or paths.build_dir())
    index = Index(store)
    a, b = index.resolve(args.a), index.resolve(args.b)
    g = to_networkx(store)
    found = [[]] if a == b else shortest_paths(g, a, b, args.max)

    def label(n: str) -> str:
        return g.nodes[n]["label_" + args.lang] if n in g else index.label(n, args.lang)

    def name(n: str) -> str:
        return f"{label(n)} [{curie(n)}]"

    if args.format == "json":
        data = {"from": {"iri": a, "label": label(a)}, "to": {"iri": b, "label": label(b)}, "connected": bool(found),
                "paths": [[[{"subject": h.subject, "predicate": h.predicate, "object": h.object,
                             "label": h.label_zh if args.lang == "zh" else h.label_en} for h in edges]
                           for edges in path] for path in found]}
        emit(json.dumps(data, ensure_ascii=False, indent=1) + "\n", args.out)
        return 0 if found else 1
    if not found:
        print(f"no connection between {name(a)} and {name(b)}", file=sys.stderr)
        return 1
    lines = []
    for i, path in enumerate(found, 1):
        lines.append(f"path {i} ({len(path)} hop{'s' if len(path) != 1 else ''}):")
        if not path:
            lines.append(f"  {name(a)} (the same entity)")
        node = a
        for edges in path:
            nxt = edges[0].object if edges[0].subject == node else edges[0].subject
            for h in edges:
                hop = h.label_zh if args.lang == "zh" else h.label_en
                if h.subject == node:
                    lines.append(f"  {name(node)} —{hop}→ {name(nxt)}")
                else:
                    lines.append(f"  {name(node)} ←{hop}— {name(nxt)}")
            node = nxt
    emit("\n".join(lines) + "\n", args.out)
    return 0


def _at_least_one(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: at least 1 path (the shortest) is always shown")
    return value


def register(sub) -> None:
    """Add `kg path` to the CLI."""
    p = sub.add_parser("path", help="shortest connections between two entities")
    p.add_argument("a", help="first entity (id, label, alias or pinyin)")
    p.add_argument("b", help="second entity")
    p.add_argument("--max", type=_at_least_one, default=5, help="at most this many paths, 1 or more (default 5)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("-o", "--out", metavar="FILE", help="write to FILE (- for stdout, the default)")
    p.add_argument("--build", type=Path, help="build folder (default: build/ or $KG_BUILD)")
    p.set_defaults(func=cmd_path)
