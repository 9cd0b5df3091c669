"""Benchmark of the graph explorer: time to interactive and frame time, three pages side by side.

For each size (default 1k, 5k, 20k, 50k nodes) a seeded synthetic graph in the explorer's payload
shape (spec/explorer-api.md) is written by three writers and opened from file:// in headless
Debian chromium (every request to another host aborted and counted):

- ``new``: this checkout's ``kg.views.viz.render_html`` (vis-network up to the WebGL threshold,
  sigma.js above it; packed payload);
- ``old``: the page as it was before this work, ``git show BASE:kg/views/viz.py`` and its template
  and static files put in a temporary folder and imported from there (BASE: ``--base``, default
  the merge base with main);
- ``pyvis``: a plain pyvis script (``Network.add_node``/``add_edge``, ``write_html`` with
  vis-network inlined); its page is ready when vis-network reports
  "stabilizationIterationsDone". pyvis's ``add_node`` is linear per call, so it is skipped
  above ``--pyvis-max`` nodes (building 50k nodes alone takes minutes);
- ``before`` (with ``--before COMMIT``): a second earlier page, loaded the same way (e.g. the
  page a branch started from, so one run shows old, before and new side by side).

Measured, from the page's own performance clock (navigation start = 0):
- ready mark: the moment the page says it is ready (``body[data-ready]`` / the stabilisation
  event). Pages before explorer2 set it right after issuing their first draw, which with
  software WebGL is seconds before anything is on screen or a click is answered;
- interactive: from that mark, until a frame after it has been presented and the main thread has
  run a task posted then (two animation frames, then a timeout): the page shows its first
  picture and answers a click, drag or wheel. The same hook for every page;
- frame (JS): the median of 10 synchronous redraws after moving the camera (pan and zoom a
  little): the script's share of a frame of dragging;
- frame (presented): the median of 3 camera moves each waited until presented (two animation
  frames and a task): what a frame of dragging costs on screen, GPU (here software) included;
- select: clicking a node (highlight + draw, the script's share);
- drag frame: the view dragged with the mouse (input from outside the page, as a user's: 8 moves
  of 8 px from a point with no node under it, each timed from the event's timestamp until a frame
  after it is presented and the main thread is free; median), then held still 150 ms (so that no
  page starts an inertia animation) and released; at rest after drag: from the release until the
  full picture (edges included) is drawn and presented;
- wheel frame: one wheel notch, until the first frame after it is presented (median of 3, zooming
  in, out, in); at rest after wheel: until the zoom has ended and the full picture is presented.
  Sigma animates a zoom over 250 ms and its first frame may show no change yet, so for sigma
  pages also zoom frame: the median interval between animation frames from the notch until the
  camera stops (a frame cannot begin while the previous one is still being put on screen: with
  software WebGL the page's main thread waits for its canvases to be read back). vis-network
  zooms in one step: its wheel frame is its zoom.

The engines are interleaved (the order rotates every run) so that machine noise falls on all of
them alike; medians of ``--runs`` runs are printed as a Markdown table for BENCHMARKS.md, every
run is kept in ``--out``. Each page is checked by value: the number of nodes it holds must be n.

Usage: python -m bench.viz_bench [--sizes 1000 5000 20000 50000] [--runs 3] [--out bench/results/viz.json]
"""
from __future__ import annotations

import argparse
import json
import math
import importlib.util
import os
import random
import subprocess
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kg.views.viz import PALETTE, SHAPES, render_html, write_html

ROOT = Path(__file__).resolve().parent.parent

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



def load_old(base: str, tmp: Path, name: str = "viz_old"):
    """The explorer module as it was at commit ``base``, importable from a temporary folder with
    its own template and static files beside it (its WEB path is relative to the module)."""
    root = tmp / f"old-{base[:10]}"
    files = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "-r", "--name-only", base, "kg/web/"],
                           check=True, capture_output=True, text=True).stdout.split()
    module_path = None
    for candidate in ("kg/views/viz.py", "kg/viz.py"):
        if subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{base}:{candidate}"]).returncode == 0:
            module_path = candidate
            break
    if module_path is None:
        raise SystemExit(f"viz_bench: no explorer module at {base}")
    for f in [module_path, *files]:
        out = root / f
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(subprocess.run(["git", "-C", str(ROOT), "show", f"{base}:{f}"], check=True,
                                       capture_output=True).stdout)
    spec = importlib.util.spec_from_file_location(name, root / module_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def write_page(engine: str, data: dict, out: Path, old=None, before=None) -> float:
    data = json.loads(json.dumps(data))  # fresh copy: the layout writes x/y into the nodes
    t = time.perf_counter()
    if engine == "new":
        write_html(render_html(data), out)
    elif engine == "old":
        old.write_html(old.render_html(data), out)
    elif engine == "before":
        before.write_html(before.render_html(data), out)
    else:
        return write_pyvis(data, out)
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
  set(v) { net = v; v.once('stabilizationIterationsDone', () => { window.__stable = performance.now();
    window.__kgMarkUsable(); }); } }); })();
"""

# An honest "interactive" for every page alike: from the page's ready signal (data-ready, or
# pyvis's stabilisation), wait until a frame after it has been presented (two animation frames:
# the compositor has drawn what the GPU, here software, had to draw) and a task posted then has run
# (the main thread is free to take a click). The page's own clock, navigation start = 0.
_USABLE_HOOK = """
(() => { const mark = () => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => {
    window.__usable = performance.now(); }, 0)));
  window.__kgMarkUsable = mark;
  new MutationObserver((l, o) => { if (document.body && document.body.getAttribute('data-ready') === '1') {
    o.disconnect(); mark(); } }).observe(document, { attributes: true, subtree: true }); })();
"""

# Frames of real interaction, the same for every page: input events come from outside the page
# (Playwright's mouse, i.e. Chrome DevTools Input events, as a user's would), and each one is timed
# from the event's own timestamp (so time spent queued is counted) until a frame after it has been
# presented and the main thread has run a task (two animation frames, then a timeout), as above.
# A capture listener on window sees the event before the page does. While one is being waited
# for, further events of that kind are not timed (the driver waits for each anyway).
_INPUT_HOOK = """
(() => { const rec = window.__kgInput = { times: { mousemove: [], wheel: [], mouseup: [] }, armed: false, busy: {} };
  const presented = (t0, kind) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => {
    rec.times[kind].push(performance.now() - t0); rec.busy[kind] = false; }, 0)));
  for (const kind of ['mousemove', 'wheel']) window.addEventListener(kind, e => {
    if (!rec.armed || rec.busy[kind]) return; rec.busy[kind] = true; presented(e.timeStamp, kind); }, { capture: true });
  window.__kgWait = (kind, n) => new Promise(r => { const f = () => rec.times[kind].length >= n ? r() : setTimeout(f, 2); f(); });
})();
"""

# Is a point of the graph's area empty (no node under it)? Drags start there, so that every page
# pans the view (vis-network would drag a node instead).
_EMPTY_AT = """([x, y]) => { const app = window.kgExplorer;
  const box = document.getElementById(app ? 'kg-network' : 'mynetwork').getBoundingClientRect();
  const px = x - box.left, py = y - box.top;
  if (app && app.webgl) return !app.renderer.sigma.getNodeAtPosition({ x: px, y: py });
  const net = window.network || app.network;
  return net.getNodeAt({ x: px, y: py }) === undefined; }"""

_BOX = """() => { const app = window.kgExplorer;
  const b = document.getElementById(app ? 'kg-network' : 'mynetwork').getBoundingClientRect();
  return [b.left, b.top, b.width, b.height]; }"""

# After a release or a wheel: until the page is at rest again, its full picture (edges included)
# drawn and presented and the main thread free, from the event's timestamp. Armed before the event
# is sent. Sigma pages: the first afterRender after the event with the camera still and no drag or
# wheel under way (sigma's own "moving" test), then presented; vis-network pages redraw in the
# next animation frame, so presented is enough. null if nothing was drawn within 20 s. On sigma
# pages the animation frames from the event to the zoom's end (the camera still) are counted too
# (``__kgTicks``, one per animation frame that began): their intervals are the frames of a zoom.
_ARM_SETTLE = """(kind) => { const app = window.kgExplorer, sig = app && app.webgl ? app.renderer.sigma : null;
  const ticks = window.__kgTicks = [];
  window.__kgSettled = new Promise(resolve => {
    let t0 = null, done = false;
    const finish = v => { done = true; resolve(v); };
    const presented = () => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => finish(performance.now() - t0), 0)));
    const cam = sig ? sig.getCamera() : null, cap = sig ? sig.getMouseCaptor() : null;
    const tick = () => { if (done) return; ticks.push([performance.now(), cam.isAnimated()]); requestAnimationFrame(tick); };
    const seen = e => { t0 = e.timeStamp; window.removeEventListener(kind, seen, true); if (!sig) presented(); else requestAnimationFrame(tick); };
    window.addEventListener(kind, seen, true);
    if (sig) {
      const on = () => { if (t0 !== null && !cam.isAnimated() && !cap.isMoving && !cap.draggedEvents && !cap.currentWheelDirection) {
        sig.off('afterRender', on); presented(); } };
      sig.on('afterRender', on); }
    setTimeout(() => finish(null), 20000);
  }); }"""


def interaction(page, steps: int = 8, wheels: int = 3) -> dict:
    """Drag the view with the mouse (``steps`` moves of 8 px, each waited until presented), hold
    still 150 ms (no inertia on any page), release; then ``wheels`` wheel notches, each waited
    until the page rests. Returns medians in ms: drag frame, settle after release, wheel frame
    (the first frame after a notch), settle after a wheel notch."""
    left, top, w, h = page.evaluate(_BOX)
    start = None
    spots = [(0, 0)] + [(dx * r, dy * r) for r in (37, 89, 151, 233) for dx, dy in ((1, 0.6), (-1, 0.7), (1, -0.8), (-1, -0.5))]
    for dx, dy in spots:
        x, y = left + w / 2 + dx, top + h / 2 + dy
        if page.evaluate(_EMPTY_AT, [x, y]):
            start = (x, y)
            break
    if start is None:
        return {"error": "no empty point to drag from"}
    x, y = start
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.down()
    page.evaluate("window.__kgInput.armed = true")
    for i in range(steps):
        x, y = x + 8, y + 3
        page.mouse.move(x, y)
        page.evaluate(f"window.__kgWait('mousemove', {i + 1})")
    page.evaluate("window.__kgInput.armed = false")
    page.wait_for_timeout(150)
    page.evaluate(_ARM_SETTLE, "mouseup")
    page.mouse.up()
    release = page.evaluate("window.__kgSettled")
    page.wait_for_timeout(300)
    settles, intervals = [], []
    for i in range(wheels):
        page.evaluate("window.__kgInput.armed = true")
        page.evaluate(_ARM_SETTLE, "wheel")
        page.mouse.wheel(0, -120 if i % 2 == 0 else 120)
        page.evaluate(f"window.__kgWait('wheel', {i + 1})")
        page.evaluate("window.__kgInput.armed = false")
        settles.append(page.evaluate("window.__kgSettled"))
        ticks = page.evaluate("window.__kgTicks")  # [time, camera animating] per animation frame
        intervals += [b[0] - a[0] for a, b in zip(ticks, ticks[1:]) if a[1]]
        page.wait_for_timeout(300)
    times = page.evaluate("window.__kgInput.times")
    return {"drag_ms": statistics.median(times["mousemove"]), "drag_all_ms": times["mousemove"],
            "release_settle_ms": release, "wheel_ms": statistics.median(times["wheel"]),
            "wheel_settle_ms": median(settles), "zoom_frame_ms": median(intervals)}


# a presented frame: move the camera a little, draw, and wait until the frame is on screen and the
# main thread is free again (two animation frames and a task): what panning costs, GPU included
_FRAME_PRESENTED = """(async () => {
  const app = window.kgExplorer, times = [];
  const sig = app && app.webgl ? app.renderer.sigma : null;
  const net = sig ? null : (window.network || app.network);
  const presented = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 0))));
  await presented();
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    if (sig) { const c = sig.getCamera(), s = c.getState(); c.setState({ x: s.x + 0.01, y: s.y, ratio: s.ratio * 0.98 }); sig.render(); }
    else { const p = net.getViewPosition(); net.moveTo({ position: { x: p.x + 20, y: p.y }, scale: net.getScale() * 0.98, animation: false }); net.redraw(); }
    await presented();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[1];
})()"""

# one frame = move the camera a little and draw synchronously; median of 10
_FRAME = """(() => {
  const app = window.kgExplorer, times = [];
  const sig = app && app.webgl ? app.renderer.sigma : null;
  const net = sig ? null : (window.network || app.network);
  for (let i = 0; i < 11; i++) {
    const t = performance.now();
    if (sig) { const c = sig.getCamera(), s = c.getState(); c.setState({ x: s.x + 0.01, y: s.y, ratio: s.ratio * 0.98 }); sig.render(); }
    else { const p = net.getViewPosition(); net.moveTo({ position: { x: p.x + 20, y: p.y }, scale: net.getScale() * 0.98, animation: false }); net.redraw(); }
    if (i) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
})()"""

_SELECT = """(() => {
  const app = window.kgExplorer, t = performance.now();
  if (app && app.webgl) { const r = app.renderer, k = r.graph.nodes()[7];
    app.select(r.iris ? r.iri(k) : k); r.sigma.render(); }
  else if (app) { const ids = app.renderer ? app.renderer.nodes.getIds() : app.nodes.getIds();
    const id = ids.find(i => !String(i).startsWith('group:'));
    if (app.renderer) app.select(id); else { app.network.selectNodes([id]); }
    app.network.redraw(); }
  else { const ids = window.network.body.nodeIndices; window.network.selectNodes([ids[7]]); window.network.redraw(); }
  return performance.now() - t;
})()"""

_COUNT = """(() => { const app = window.kgExplorer;
  if (!app) return window.network.body.data.nodes.length;
  if (app.webgl) return app.renderer.graph.order;
  const ds = app.renderer ? app.renderer.nodes : app.nodes;
  return ds.getIds().filter(i => !String(i).startsWith('group:')).length; })()"""


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
    page.add_init_script(_USABLE_HOOK)
    page.add_init_script(_INPUT_HOOK)
    if pyvis:
        page.add_init_script(_PYVIS_HOOK)
    result = {}
    t = time.perf_counter()
    try:
        page.goto(path.as_uri(), timeout=timeout_s * 1000)
        cond = "() => window.__stable !== undefined" if pyvis else "() => document.body.getAttribute('data-ready') === '1'"
        page.wait_for_function(cond, timeout=timeout_s * 1000, polling=50)
        result["wall_s"] = time.perf_counter() - t
        result["interactive_s"] = page.evaluate("window.__stable" if pyvis else "kgExplorer.timings.ready") / 1000
        if pyvis:  # pyvis keeps physics running after stabilisation; stop it so frames are frames
            page.evaluate("window.network.setOptions({ physics: false })")
        page.wait_for_function("() => window.__usable !== undefined", timeout=timeout_s * 1000, polling=50)
        result["usable_s"] = page.evaluate("window.__usable") / 1000
        result["nodes_held"] = page.evaluate(_COUNT)
        result["frame_ms"] = page.evaluate(_FRAME)
        result["frame_presented_ms"] = page.evaluate(_FRAME_PRESENTED)
        result["select_ms"] = page.evaluate(_SELECT)
        page.evaluate("kgExplorer.unselect && kgExplorer.unselect()" if not pyvis else "0")
        result.update(interaction(page))
    except Exception as exc:  # noqa: BLE001 - a timeout is a result here
        result["error"] = type(exc).__name__
        result["interactive_s"] = None
        result["usable_s"] = None
    result["outside_requests"] = len(outside)
    ctx.close()
    return result


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


ENGINES = ("new", "before", "old", "pyvis")


def run(sizes: list[int], runs: int, timeout: float, pyvis_max: int, base: str, seed: int = 42,
        before_commit: str | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="viz-bench-"))
    old = load_old(base, tmp)
    before = load_old(before_commit, tmp, "viz_before") if before_commit else None
    engines = tuple(e for e in ENGINES if e != "before" or before)
    datas = {n: synthetic_payload(n, seed) for n in sizes}
    rows = {n: {e: [] for e in ENGINES} for n in sizes}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for r in range(runs):
            for n in sizes:
                k = r % len(engines)
                order = engines[k:] + engines[:k]  # interleaved, the order rotating
                for engine in order:
                    if engine == "pyvis" and n > pyvis_max:
                        continue
                    out = tmp / f"{engine}-{n}.html"
                    w = write_page(engine, datas[n], out, old, before)
                    page = open_page(browser, out, pyvis=engine == "pyvis", timeout_s=timeout)
                    if page.get("nodes_held") not in (None, n):
                        raise SystemExit(f"viz_bench: the {engine} page holds {page['nodes_held']} nodes, not {n}")
                    rows[n][engine].append({"write_s": w, "bytes": out.stat().st_size, **page})
                    print(f"run {r + 1} n={n} {engine}: {rows[n][engine][-1]}", file=sys.stderr, flush=True)
        browser.close()
    results = {}
    for n in sizes:
        res = {"edges": len(datas[n]["edges"]), "runs": rows[n]}
        for engine in engines:
            for m in ("write_s", "interactive_s", "usable_s", "frame_ms", "frame_presented_ms", "select_ms", "bytes",
                      "drag_ms", "release_settle_ms", "wheel_ms", "wheel_settle_ms", "zoom_frame_ms"):
                res[f"{m}_{engine}"] = median([x.get(m) for x in rows[n][engine]])
            res[f"timeouts_{engine}"] = sum(1 for x in rows[n][engine] if x["usable_s"] is None)
            res[f"outside_{engine}"] = sum(x["outside_requests"] for x in rows[n][engine])
            res[f"ran_{engine}"] = len(rows[n][engine])
        results[n] = res
    return results


def table(results: dict, runs: int, timeout: float) -> str:
    def s(x, unit="s", nd=2):
        return "—" if x is None else f"{x:.{nd}f} {unit}"

    def cell(r, engine, metric, unit, nd):
        if not r[f"ran_{engine}"]:
            return "not run"
        if r[f"timeouts_{engine}"] == r[f"ran_{engine}"]:
            return f"> {timeout:.0f} s"
        return s(r[f"{metric}_{engine}"], unit, nd)

    lines = ["| nodes | edges | page | HTML size | write | ready mark | interactive | frame (JS) | frame at rest (presented) "
             "| select | drag frame | at rest after drag | wheel frame | zoom frame | at rest after wheel |",
             "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, r in results.items():
        for engine in ENGINES:
            if f"ran_{engine}" not in r:
                continue
            size = "—" if r[f"bytes_{engine}"] is None else f"{r[f'bytes_{engine}'] / 1e6:.1f} MB"
            lines.append(f"| {n:,} | {r['edges']:,} | {engine} | {size} | {s(r[f'write_s_{engine}'])} | "
                         f"{cell(r, engine, 'interactive_s', 's', 2)} | {cell(r, engine, 'usable_s', 's', 2)} | "
                         f"{cell(r, engine, 'frame_ms', 'ms', 1)} | {cell(r, engine, 'frame_presented_ms', 'ms', 0)} | "
                         f"{cell(r, engine, 'select_ms', 'ms', 0)} | {cell(r, engine, 'drag_ms', 'ms', 0)} | "
                         f"{cell(r, engine, 'release_settle_ms', 'ms', 0)} | {cell(r, engine, 'wheel_ms', 'ms', 0)} | "
                         f"{cell(r, engine, 'zoom_frame_ms', 'ms', 0)} | {cell(r, engine, 'wheel_settle_ms', 'ms', 0)} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000, 50000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=90.0, help="seconds a page may take to become interactive")
    ap.add_argument("--pyvis-max", type=int, default=20000, help="largest graph given to plain pyvis")
    ap.add_argument("--base", default=None, help="commit of the old page (default: merge base with main)")
    ap.add_argument("--before", default=None, help="a second earlier commit measured beside (engine 'before'), "
                    "e.g. the page this branch started from")
    ap.add_argument("--out", type=Path, default=Path("bench/results/viz.json"))
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).is_file():
        print(f"viz_bench: {CHROMIUM} not found (Debian package chromium)", file=sys.stderr)
        return 2
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    base = args.base or subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], check=True,
                                       capture_output=True, text=True).stdout.strip()
    results = run(args.sizes, args.runs, args.timeout, args.pyvis_max, base, before_commit=args.before)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"base": base, "before": args.before, "results": {str(k): v for k, v in results.items()}}, indent=2),
                        encoding="utf-8")
    print(f"old page: {base}" + (f"; before: {args.before}" if args.before else ""))
    print(table(results, args.runs, args.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
