"""Benchmark of kg.to_pyvis's fill against pyvis's own add_node/add_edge on the same view.

For each size (default 1k and 5k nodes) the seeded synthetic view of bench/viz_bench.py (the
explorer's payload shape, about 2.5 links per node) is put into a pyvis Network two ways,
interleaved run by run: ``kg.views.pyvis_view.fill`` (one pass into net.nodes/net.edges) and
the pyvis way (``Network.add_node`` per node, then ``add_edge`` per edge, with the same
attributes). Each run's two networks are compared by value (same node ids in order, same
edges). Medians are printed as a Markdown table for BENCHMARKS.md.

Usage: python -m bench.pyvis_bench [--sizes 1000 5000] [--runs 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from bench.viz_bench import synthetic_payload


def ours(view: dict):
    from kg.views.pyvis_view import fill, new_network

    return fill(new_network(), view)


def pyvis_way(view: dict, template):
    """pyvis's documented API, fed the same node and edge dicts."""
    from pyvis.network import Network

    net = Network(directed=True, cdn_resources="in_line")
    for n in template.nodes:
        net.add_node(n["id"], **{k: v for k, v in n.items() if k != "id"})
    for e in template.edges:
        net.add_edge(e["from"], e["to"], **{k: v for k, v in e.items() if k not in ("from", "to")})
    return net


def run(sizes: list[int], runs: int) -> dict:
    results = {}
    for n in sizes:
        view = synthetic_payload(n)
        view = {"nodes": view["nodes"], "edges": view["edges"], "legend": view["legend"]}
        template = ours(view)
        t_ours, t_pyvis = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            a = ours(view)
            t1 = time.perf_counter()
            b = pyvis_way(view, template)
            t2 = time.perf_counter()
            t_ours.append(t1 - t0)
            t_pyvis.append(t2 - t1)
            assert a.node_ids == b.node_ids and len(a.edges) == len(b.edges)
            assert [(e["from"], e["to"]) for e in a.edges] == [(e["from"], e["to"]) for e in b.edges]
        results[n] = {"nodes": len(view["nodes"]), "edges": len(view["edges"]),
                      "ours_s": statistics.median(t_ours), "pyvis_s": statistics.median(t_pyvis)}
    return results


def table(results: dict, runs: int) -> str:
    lines = [f"| nodes | edges | kg fill (median of {runs}) | pyvis add_node/add_edge | ratio |", "|---|---|---|---|---|"]
    for r in results.values():
        lines.append(f"| {r['nodes']} | {r['edges']} | {r['ours_s'] * 1000:.1f} ms | {r['pyvis_s'] * 1000:.0f} ms "
                     f"| {r['pyvis_s'] / r['ours_s']:.0f}× |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    print(table(run(args.sizes, args.runs), args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
