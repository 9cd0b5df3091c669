"""Benchmark of the graph explorer: time to write the HTML and time until it is interactive.

For each size (default 1k, 5k, 20k nodes) a seeded synthetic graph in the explorer's payload
shape (spec/explorer-api.md) is written by ``kg.views.viz.render_html`` + ``write_html`` and opened
from file:// in headless Debian chromium; "interactive" is the moment the page says it is ready
(layout stabilised and physics stopped, or precomputed positions drawn), taken from the page's
own performance clock (navigation start = 0). After that, one frame (select a node, redraw) is
timed to show the page answers.

The baseline is a plain pyvis script on the same graph (``Network.add_node``/``add_edge``, then
``write_html`` with vis-network inlined); its page is timed until vis-network reports
"stabilizationIterationsDone" (pyvis keeps physics running afterwards). Its Bootstrap and
tom-select requests go to CDNs: they are aborted, as they would fail offline.

Usage: python -m bench.viz_bench [--sizes 1000 5000 20000] [--runs 3] [--out bench/results/viz.json]
Medians of the runs are printed as a Markdown table for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kg.views.viz import PALETTE, SHAPES, render_html, write_html

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
GROUPS = ["yf:Measure", "yf:StatisticalObservation", "yf:Industry", "yf:Indicator", "yf:Designation",
          "yf:DesignationConferral", "yf:Programme", "yf:Strategy", "yf:Enterprise", "yf:Project",
          "yf:ZoneGoal", "yf:PartyBody", "yf:Campaign", "yf:Event", "yf:Brand"]
HAN = "鱼峰区柳州市工业振兴城镇建设乡村招商引资项目产业园螺蛳粉新能源汽车医药数字经济物流基地示范带会战企业品牌称号"
PRED = ["yf:involves", "yf:partOf", "yf:locatedIn", "yf:inIndustry", "yf:recipient", "yf:pursues"]


def synthetic_payload(n: int, seed: int = 42, degree: float = 2.5) -> dict:
    """A graph of n nodes in the explorer's payload shape: communities of 10-200 nodes,
    about ``degree`` links per node (the real graph has 2.5), 90% inside a community,
    preferential attachment so hubs form, a small detail (two facts) per node."""
    rnd = random.Random(seed)
    comm, sizes, left = [], [], n
    while left > 0:
        k = min(left, rnd.randint(10, 200))
        sizes.append(k)
        left -= k
    for c, k in enumerate(sizes):
        comm += [c] * k
    starts = [sum(sizes[:c]) for c in range(len(sizes))]
    weights = [1.0] * n
    edges, seen = [], set()
    for _ in range(int(n * degree)):
        u = rnd.randrange(n)
        if rnd.random() < 0.9:
            c = comm[u]
            lo, hi = starts[c], starts[c] + sizes[c]
            v = rnd.choices(range(lo, hi), weights=weights[lo:hi])[0]
        else:
            v = rnd.randrange(n)
        if u == v or (u, v) in seen:
            continue
        seen.add((u, v))
        weights[v] += 1.0
        edges.append((u, v))
    deg = [0] * n
    for u, v in edges:
        deg[u] += 1
        deg[v] += 1
    top = max(deg) or 1
    iri = [f"https://w3id.org/yufeng-kg/id/syn-{i:06d}" for i in range(n)]
    nodes, details = [], {}
    for i in range(n):
        zh = "".join(rnd.choice(HAN) for _ in range(rnd.randint(3, 9))) + str(i)
        en = f"Synthetic node {i}"
        group = GROUPS[min(int(rnd.expovariate(0.35)), len(GROUPS) - 1)]
        nodes.append({"id": iri[i], "label_zh": zh, "label_en": en, "pinyin": None, "aliases": [],
                      "types": [group], "group": group, "size": round(10 + 32 * math.sqrt(deg[i] / top), 2),
                      "community": comm[i], "external": False, "keys": f"{zh}\nsyntheticnode{i}"})
        details[iri[i]] = {"iri": iri[i], "label_zh": zh, "label_en": en, "types": [group], "external": [],
                           "out": [{"predicate": "https://w3id.org/yufeng-kg/ontology#period", "predicate_label_zh": "时期",
                                    "predicate_label_en": "period", "value": "2023", "is_resource": False,
                                    "value_label_zh": "2023", "value_label_en": "2023", "datatype": None, "lang": None,
                                    "inferred": False, "evidence": [{"document": "https://w3id.org/yufeng-kg/source/syn",
                                                                     "start": i, "end": i + 20, "quote": zh,
                                                                     "modality": "result"}]}],
                           "incoming": []}
    edge_rows = [{"from": iri[u], "to": iri[v], "predicate": "https://w3id.org/yufeng-kg/ontology#" + PRED[(u + v) % 6][3:],
                  "label_zh": "涉及", "label_en": PRED[(u + v) % 6][3:], "inferred": False} for u, v in edges]
    counts = {g: 0 for g in GROUPS}
    for x in nodes:
        counts[x["group"]] += 1
    legend = [{"group": g, "label_zh": g, "label_en": g, "color": PALETTE[i % len(PALETTE)],
               "shape": SHAPES[i // len(PALETTE)], "count": counts[g]} for i, g in enumerate(GROUPS) if counts[g]]
    return {"nodes": nodes, "edges": edge_rows, "details": details, "legend": legend,
            "meta": {"title": f"synthetic {n}", "built_from": "bench", "seed": seed, "hidden_groups": []},
            "context": {"nodes": [], "edges": []}}


def write_ours(data: dict, out: Path) -> float:
    data = json.loads(json.dumps(data))  # fresh copy: the layout writes x/y into the nodes
    t = time.perf_counter()
    write_html(render_html(data), out)
    return time.perf_counter() - t


def write_pyvis(data: dict, out: Path) -> float:
    from pyvis.network import Network

    colors = {x["group"]: x["color"] for x in data["legend"]}
    t = time.perf_counter()
    net = Network(height="900px", width="100%", directed=True, cdn_resources="in_line")
    for x in data["nodes"]:
        net.add_node(x["id"], label=x["label_zh"], color=colors[x["group"]], size=x["size"])
    for e in data["edges"]:
        net.add_edge(e["from"], e["to"], label=e["label_zh"])
    net.write_html(str(out))  # the locale's encoding: run under a UTF-8 locale
    return time.perf_counter() - t


_PYVIS_HOOK = """
(() => { let net; Object.defineProperty(window, 'network', { configurable: true,
  get() { return net; },
  set(v) { net = v; v.once('stabilizationIterationsDone', () => { window.__stable = performance.now(); }); } }); })();
"""


def open_page(browser, path: Path, *, pyvis: bool, timeout_s: float) -> dict:
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    outside = []

    def route(r):
        if r.request.url.startswith(("file://", "data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    page = ctx.new_page()
    if pyvis:
        page.add_init_script(_PYVIS_HOOK)
    result = {"outside_requests": 0}
    t = time.perf_counter()
    try:
        page.goto(path.as_uri(), timeout=timeout_s * 1000)
        cond = "window.__stable !== undefined" if pyvis else "document.body.getAttribute('data-ready') === '1'"
        page.wait_for_function(cond, timeout=timeout_s * 1000, polling=50)
        result["wall_s"] = time.perf_counter() - t
        result["interactive_s"] = page.evaluate("window.__stable" if pyvis else "kgExplorer.timings.ready") / 1000
        result["frame_ms"] = page.evaluate("""(() => { const n = window.network || kgExplorer.network;
            const ids = n.body.nodeIndices; const t = performance.now();
            n.selectNodes([ids[Math.floor(ids.length / 2)]]); n.redraw(); return performance.now() - t; })()""")
    except Exception as exc:  # noqa: BLE001 - a timeout is a result here
        result["error"] = type(exc).__name__
        result["interactive_s"] = None
    result["outside_requests"] = len(outside) if not pyvis else len(outside)
    ctx.close()
    return result


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def run(sizes: list[int], runs: int, pyvis_timeout: float, seed: int = 42) -> dict:
    from playwright.sync_api import sync_playwright

    results = {}
    tmp = Path(tempfile.mkdtemp(prefix="viz-bench-"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for n in sizes:
            data = synthetic_payload(n, seed)
            rows = {"ours": [], "pyvis": []}
            for r in range(runs):
                ours, base = tmp / f"ours-{n}.html", tmp / f"pyvis-{n}.html"
                w = write_ours(data, ours)
                page = open_page(browser, ours, pyvis=False, timeout_s=60)
                rows["ours"].append({"write_s": w, "bytes": ours.stat().st_size, **page})
                w = write_pyvis(data, base)
                page = open_page(browser, base, pyvis=True, timeout_s=pyvis_timeout)
                rows["pyvis"].append({"write_s": w, "bytes": base.stat().st_size, **page})
                print(f"n={n} run {r + 1}: ours {rows['ours'][-1]}\n           pyvis {rows['pyvis'][-1]}",
                      file=sys.stderr, flush=True)
            results[n] = {
                "edges": len(data["edges"]),
                **{f"{m}_{k}": median([x.get(m) for x in v]) for k, v in rows.items()
                   for m in ("write_s", "interactive_s", "frame_ms", "bytes")},
                "pyvis_timeouts": sum(1 for x in rows["pyvis"] if x["interactive_s"] is None),
                "ours_outside_requests": sum(x["outside_requests"] for x in rows["ours"]),
                "runs": rows,
            }
        browser.close()
    return results


def table(results: dict, runs: int, pyvis_timeout: float) -> str:
    def s(x, unit="s", nd=2):
        return "—" if x is None else f"{x:.{nd}f} {unit}"

    lines = ["| nodes | edges | write HTML (ours) | interactive (ours) | frame after (ours) | HTML size (ours) "
             "| write HTML (pyvis) | stabilised (pyvis) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, r in results.items():
        py = s(r["interactive_s_pyvis"]) if not r["pyvis_timeouts"] else \
            (f"> {pyvis_timeout:.0f} s ({r['pyvis_timeouts']}/{runs} runs)" if r["pyvis_timeouts"] == runs
             else f"{s(r['interactive_s_pyvis'])} ({r['pyvis_timeouts']}/{runs} over {pyvis_timeout:.0f} s)")
        lines.append(f"| {n:,} | {r['edges']:,} | {s(r['write_s_ours'])} | {s(r['interactive_s_ours'])} | "
                     f"{s(r['frame_ms_ours'], 'ms', 0)} | {r['bytes_ours'] / 1e6:.1f} MB | "
                     f"{s(r['write_s_pyvis'])} | {py} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pyvis-timeout", type=float, default=60.0)
    ap.add_argument("--out", type=Path, default=Path("bench/results/viz.json"))
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).is_file():
        print(f"viz_bench: {CHROMIUM} not found (Debian package chromium)", file=sys.stderr)
        return 2
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    results = run(args.sizes, args.runs, args.pyvis_timeout)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({str(k): v for k, v in results.items()}, indent=2), encoding="utf-8")
    print(table(results, args.runs, args.pyvis_timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
