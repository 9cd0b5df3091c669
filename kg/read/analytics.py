"""Network analytics of the graph of resources: degree, PageRank, betweenness, communities.

PageRank: Brin & Page 1998 (networkx.pagerank, scipy backend). Betweenness: Brandes 2001,
sampled with k pivots above a size limit (Brandes & Pich 2007), because exact betweenness is
cubic-ish (13k nodes project to ten minutes). Communities: Louvain (Blondel et al. 2008),
seeded so that the same graph gives the same communities.

Every measure is computed on the graph with directions and parallel edges collapsed (a link is
a link, whatever its property), except PageRank, which keeps directions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

EXACT_BETWEENNESS_BELOW = 2000
BETWEENNESS_SAMPLE = 200
SEED = 42


@dataclass
class Analytics:
    """Scores per node (IRI) and the communities (largest first, numbered from 0)."""

    degree: dict[str, int] = field(default_factory=dict)
    pagerank: dict[str, float] = field(default_factory=dict)
    betweenness: dict[str, float] = field(default_factory=dict)
    community: dict[str, int] = field(default_factory=dict)
    communities: list[list[str]] = field(default_factory=list)
    betweenness_exact: bool = True
    seed: int = SEED


def simple_graph(g: nx.MultiDiGraph, exclude: set[str] | frozenset = frozenset()) -> nx.Graph:
    """The undirected simple graph of g without the nodes in exclude."""
    h = nx.Graph()
    h.add_nodes_from(n for n in g if n not in exclude)
    h.add_edges_from((u, v) for u, v in g.edges() if u != v and u not in exclude and v not in exclude)
    return h


def analyse(g: nx.MultiDiGraph, *, seed: int = SEED, exclude: set[str] | frozenset = frozenset(),
            exact_below: int = EXACT_BETWEENNESS_BELOW, sample: int = BETWEENNESS_SAMPLE,
            betweenness: bool = True, communities: bool = True) -> Analytics:
    """Degree, PageRank, betweenness and Louvain communities of g.

    Args:
        seed: seeds the betweenness sample and Louvain, so results repeat.
        exclude: nodes left out of every measure (vocabulary hubs such as "plan"/"result"),
            scored 0 and given no community.
        exact_below: exact betweenness below this many nodes, a ``sample``-pivot estimate above.
        betweenness, communities: skip the costlier measures when False.
    """
    und = simple_graph(g, exclude)
    di = nx.DiGraph()
    di.add_nodes_from(und)
    di.add_edges_from((u, v) for u, v in g.edges() if u != v and u in und and v in und)
    a = Analytics(seed=seed)
    a.degree = {n: 0 for n in g}
    a.degree.update(dict(und.degree()))
    a.pagerank = {n: 0.0 for n in g}
    if di.number_of_nodes():
        a.pagerank.update(nx.pagerank(di, alpha=0.85))
    a.betweenness = {n: 0.0 for n in g}
    if betweenness and und.number_of_nodes() > 2:
        exact = und.number_of_nodes() < exact_below
        k = None if exact else min(sample, und.number_of_nodes())
        a.betweenness.update(nx.betweenness_centrality(und, k=k, seed=seed, normalized=True))
        a.betweenness_exact = exact
    if communities and und.number_of_nodes():
        found = nx.community.louvain_communities(und, seed=seed)
        ordered = sorted((sorted(c) for c in found), key=lambda c: (-len(c), c[0]))
        a.communities = ordered
        a.community = {n: i for i, c in enumerate(ordered) for n in c}
    return a


def top(a: Analytics, measure: str, n: int = 10) -> list[tuple[str, float]]:
    """The n best nodes by one measure ("degree", "pagerank", "betweenness"), ties by IRI."""
    scores = getattr(a, measure)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def centrality_report(build_dir: Path | None = None, *, n: int = 10, seed: int = SEED) -> dict:
    """Top entities by degree, PageRank and betweenness, and the largest communities.

    Returns: {"nodes", "edges", "betweenness_exact", "seed", "top": {measure: [{iri, label_zh,
    label_en, score}]}, "communities": [{"id", "size", "members": [label_zh, …]}]}.
    """
    from kg import paths
    from kg.read.store import open_store
    from kg.read.network import label_vocabulary, to_networkx

    store = open_store(Path(build_dir or paths.build_dir()))
    g = to_networkx(store)
    a = analyse(g, seed=seed, exclude=label_vocabulary(store, g))

    def row(iri, score):
        d = g.nodes[iri]
        return {"iri": iri, "label_zh": d["label_zh"], "label_en": d["label_en"],
                "score": round(score, 6) if isinstance(score, float) else score}

    return {
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "betweenness_exact": a.betweenness_exact,
        "seed": seed,
        "top": {m: [row(i, s) for i, s in top(a, m, n)] for m in ("degree", "pagerank", "betweenness")},
        "communities": [
            {"id": i, "size": len(c),
             "members": [g.nodes[m]["label_zh"] for m in sorted(c, key=lambda m: (-a.pagerank[m], m))[:8]]}
            for i, c in enumerate(a.communities[:n])
        ],
    }


def report_text(r: dict) -> str:
    """The centrality report as aligned text."""
    lines = [f"{r['nodes']} nodes, {r['edges']} edges; betweenness "
             f"{'exact' if r['betweenness_exact'] else 'sampled'}; seed {r['seed']}"]
    names = {"degree": "degree (links)", "pagerank": "PageRank", "betweenness": "betweenness"}
    for m, rows in r["top"].items():
        lines.append(f"\ntop by {names[m]}:")
        for i, x in enumerate(rows, 1):
            score = f"{x['score']:d}" if isinstance(x["score"], int) else f"{x['score']:.4f}"
            lines.append(f"  {i:2d}. {score:>8}  {x['label_zh']} / {x['label_en']}")
    lines.append(f"\ncommunities (Louvain, largest {len(r['communities'])}):")
    for c in r["communities"]:
        lines.append(f"  #{c['id']:<3d} {c['size']:4d} nodes: {'、'.join(c['members'])}")
    return "\n".join(lines)


def cmd_centrality(args) -> int:
    """`kg stats --centrality`: the report on stdout (text or JSON)."""
    import json

    r = centrality_report(args.build, n=args.top)
    print(json.dumps(r, ensure_ascii=False, indent=2) if args.format == "json" else report_text(r))
    return 0
