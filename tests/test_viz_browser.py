"""The explorer in a real browser: Debian's chromium driven by Playwright, from file://.

Every request the page makes is recorded; anything but file:// (or data:/blob:) fails the test.
Leaves screenshots in build/ (graph.png: the first screen; graph-panel.png: 金嗓子 and its
evidence; graph-open.png: a campaign's measures opened; graph-webgl.png: 4,000 nodes in WebGL).
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from kg.pipeline.evidence import compact

from kg.read.store import open_store
from kg.views.viz import WEBGL_THRESHOLD, payload, render_html, write_html

from .conftest import ROOT, real_sources
from .vizfixture import EVIL, EVIL_IRI, HUB, MEMBERS, fixture_store

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ID = "https://w3id.org/yufeng-kg/id/"
JINSANGZI = ID + "jinsangzi"
CENTRE = ID + "yufeng-qu"
GONGYE = ID + "gongye-zhenxing-huizhan"
CAMPAIGNS = [ID + c for c in ("chengzhen-jianshe-huizhan", "gongye-zhenxing-huizhan", "xiangcun-zhenxing-huizhan",
                              "zhaoshang-yinzi-xiangmu-jianshe-huizhan")]
GOALS = [ID + z for z in ("chengxiang-tongchou-shifanqu", "gongye-zhenxing-zhongxinqu", "shangmao-fanrong-jijuqu",
                          "wenhua-chuancheng-hexinqu", "xingfu-yiju-shoushanqu", "zhihui-chengshi-xianxingqu")]
MEASURES = "group:yfid:gongye-zhenxing-huizhan:measures"
FIRMS = "group:yfid:gongye-zhenxing-huizhan:organisations"
SCREENSHOTS = ROOT / "build"

pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason="Debian chromium (/usr/bin/chromium) is not installed: `make system` installs it")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Page:
    """A page opened from file:// with every request recorded and the non-local ones refused."""

    def __init__(self, browser, html_path: Path, fragment: str = ""):
        self.context = browser.new_context(viewport={"width": 1600, "height": 1000}, service_workers="block")
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", self._seen)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(html_path.as_uri() + fragment)
        self.page.wait_for_selector("body[data-ready='1']", timeout=30000)

    def _seen(self, request):
        if not request.url.startswith(("file://", "data:", "blob:")):
            self.outside.append(request.url)

    def _route(self, route):
        if route.request.url.startswith(("file://", "data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def js(self, expr, arg=None):
        return self.page.evaluate(expr, arg) if arg is not None else self.page.evaluate(expr)

    def click_node(self, node_id: str, shift: bool = False):
        """A real mouse click where the node (or group) is drawn."""
        x, y = self.js("id => kgExplorer.domPosition(id)", node_id)
        if shift:
            self.page.keyboard.down("Shift")
        self.page.mouse.click(x, y)
        if shift:
            self.page.keyboard.up("Shift")

    def shown(self) -> set[str]:
        return set(self.js("kgExplorer.visibleIds()"))

    def close(self):
        assert not self.errors, f"script errors: {self.errors}"
        assert not self.outside, f"requests left file://: {self.outside}"
        self.context.close()


def wait_until(page, expr: str, timeout_s: float = 15.0):
    """Poll a JS expression from Python (the page's CSP forbids the eval Playwright's
    wait_for_function needs when it has to poll)."""
    import time

    end = time.monotonic() + timeout_s
    while not page.evaluate(expr):
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {expr}")
        page.wait_for_timeout(50)


def overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of label boxes (DOM pixels) that intersect."""
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]:
                out.append((a["text"], b["text"]))
    return out


@pytest.fixture(scope="module")
def real_html(real_build):
    data = payload(open_store(real_build))
    path = write_html(render_html(data), real_build / "graph.html")
    return path, data


@pytest.fixture
def real_page(browser, real_html):
    page = Page(browser, real_html[0])
    page.data = real_html[1]
    yield page
    page.close()


def test_first_screen_shows_the_backbone_with_readable_labels(real_page):
    p = real_page
    shown = p.shown()
    # the district, its four campaigns (CQ1) and six zone goals (CQ2), and nothing else of the 284
    assert {CENTRE, *CAMPAIGNS, *GOALS} <= shown
    assert len(shown) < 20
    boxes = p.js("kgExplorer.labelBoxes()")
    texts = {b["text"] for b in boxes}
    assert {"鱼峰区", "工业振兴大会战", "城乡统筹示范区"} <= texts
    assert any(t.startswith("▸ 举措 ") for t in texts)  # closed groups, with their counts
    assert not overlaps(boxes), overlaps(boxes)
    # readable at the default zoom: every label at least 11 px high on screen
    assert min(b["bottom"] - b["top"] for b in boxes) >= 11
    SCREENSHOTS.mkdir(exist_ok=True)
    p.page.screenshot(path=str(SCREENSHOTS / "graph.png"))


def test_a_group_opens_and_closes(real_page):
    p = real_page
    before = p.shown()
    p.click_node(MEASURES)
    wait_until(p.page, f"kgExplorer.state.open.has({MEASURES!r})")
    opened = p.shown() - before
    members = p.js(f"kgExplorer.groups.get({MEASURES!r}).members")
    assert opened == set(members) and len(members) >= 5
    assert all(p.js(f"kgExplorer.info.get({m!r}).group") == "yf:Measure" for m in members)
    assert not overlaps(p.js("kgExplorer.labelBoxes()"))
    assert "open=" + MEASURES in p.js("decodeURIComponent(location.hash)")
    SCREENSHOTS.mkdir(exist_ok=True)
    p.page.screenshot(path=str(SCREENSHOTS / "graph-open.png"))
    p.click_node(MEASURES)
    wait_until(p.page, f"!kgExplorer.state.open.has({MEASURES!r})")
    assert p.shown() == before


def test_every_group_opens_without_overlapping_labels(real_page):
    p = real_page
    found = p.js("""(() => { const out = {}; kgExplorer.groups.forEach((g, id) => {
        if (!kgExplorer.visibleIds().length) return;
        kgExplorer.toggleGroup(id);
        const b = kgExplorer.labelBoxes(), bad = [];
        for (let i = 0; i < b.length; i++) for (let j = i + 1; j < b.length; j++)
          if (b[i].left < b[j].right && b[j].left < b[i].right && b[i].top < b[j].bottom && b[j].top < b[i].bottom)
            bad.push([b[i].text, b[j].text]);
        out[id] = [b.length, bad];
        kgExplorer.toggleGroup(id); }); return out; })()""")
    hidden = set(p.data["meta"]["hidden_groups"])
    assert len(found) >= 20
    assert all(n > 15 for n, _ in found.values())
    assert {g: bad for g, (_, bad) in found.items() if bad} == {}
    assert hidden  # the vocabulary classes start hidden (their group shows only what is ticked)


def test_two_clicks_to_evidence_with_source_titles(real_page):
    p = real_page
    p.click_node(FIRMS)                                   # click 1: the campaign's organisations
    wait_until(p.page, f"kgExplorer.visibleIds().includes({JINSANGZI!r})")
    p.click_node(JINSANGZI)                               # click 2: 金嗓子, its facts and evidence
    p.page.wait_for_selector("#kg-panel .evidence .src")
    assert p.page.text_content("#kg-panel-title") == "金嗓子"
    sources = p.page.eval_on_selector_all("#kg-panel .evidence .src-title", "ls => ls.map(l => l.textContent)")
    title = p.data["sources"]["https://w3id.org/yufeng-kg/source/000_b3b90ce150a63deb"]["title_zh"]
    assert sources and all(s == f"来源: {title} (2024-01)" for s in sources)
    quotes = p.page.eval_on_selector_all("#kg-panel .evidence blockquote", "ls => ls.map(l => l.textContent)")
    src = real_sources()
    if src is not None:
        text = (src / "000_b3b90ce150a63deb.txt").read_text(encoding="utf-8")
        assert quotes and all(compact(q) in compact(text) for q in quotes)
        assert any("金嗓子" in q for q in quotes)
    links = p.page.eval_on_selector_all("#kg-panel a[href]", "ls => ls.map(a => [a.target, a.rel])")
    assert all(t == "_blank" and "noopener" in r for t, r in links)
    SCREENSHOTS.mkdir(exist_ok=True)
    p.page.screenshot(path=str(SCREENSHOTS / "graph-panel.png"))


def test_selection_highlights_neighbours_and_dims_the_rest(real_page):
    p = real_page
    p.page.fill("#kg-search", "jin sang zi")
    p.page.wait_for_selector(f"#kg-hits li[data-iri='{JINSANGZI}']")
    p.page.fill("#kg-search", "金嗓子")
    p.page.press("#kg-search", "Enter")
    wait_until(p.page, f"kgExplorer.selected === {JINSANGZI!r} && !!document.getElementById('kg-panel-title')")
    opacity = p.js("""(() => { const out = {}; kgExplorer.renderer.nodes.forEach(v => { if (!v.hidden) out[v.id] = v.opacity; });
        return out; })()""")
    neighbours = {x for e in p.data["edges"] for x in (e["from"], e["to"]) if JINSANGZI in (e["from"], e["to"])}
    assert opacity[JINSANGZI] == 1 and GONGYE in neighbours and opacity[GONGYE] == 1
    # its neighbours are shown (labelled) even inside closed groups
    assert neighbours - {n["id"] for n in p.data["nodes"] if n["group"] in p.data["meta"]["hidden_groups"]} <= set(opacity)
    far = [n for n in opacity if n not in neighbours and not n.startswith("group:")]
    assert far and all(opacity[n] < 0.5 for n in far)
    p.page.click("#kg-close")
    assert p.js("kgExplorer.selected") is None
    assert all(v == 1 for v in p.js("""(() => { const out = []; kgExplorer.renderer.nodes.forEach(v => { if (!v.hidden
        && !v.id.startsWith('group:')) out.push(v.opacity); }); return out; })()"""))


def test_path_between_two_selected_nodes(real_page):
    p = real_page
    p.js(f"kgExplorer.select({JINSANGZI!r})")
    p.page.click("#kg-path-from")
    p.click_node(CENTRE)
    p.page.wait_for_selector("#kg-pathbar button.val")
    chain = p.page.eval_on_selector_all("#kg-pathbar button.val", "bs => bs.map(b => b.getAttribute('data-iri'))")
    assert chain[0] == JINSANGZI and chain[-1] == CENTRE and len(chain) >= 3
    edges = {(e["from"], e["to"]) for e in p.data["edges"]}
    assert all((a, b) in edges or (b, a) in edges for a, b in zip(chain, chain[1:]))
    assert set(chain) <= p.shown()
    assert "path=yfid:jinsangzi,yfid:yufeng-qu" in p.js("decodeURIComponent(location.hash)")
    p.page.click("#kg-path-clear")
    assert p.page.is_hidden("#kg-pathbar")


def test_a_copied_link_reopens_the_same_view(browser, real_html, real_page):
    p = real_page
    p.click_node(MEASURES)
    p.page.select_option("#kg-lang", "en")
    p.page.select_option("#kg-year", "2023")
    p.js(f"kgExplorer.select({JINSANGZI!r})")
    p.page.wait_for_selector("#kg-panel-title")
    url = p.page.url
    state = p.js("JSON.stringify([kgExplorer.visibleIds().sort(), kgExplorer.lang, kgExplorer.state.year, kgExplorer.selected])")
    again = Page(browser, real_html[0], "#" + url.split("#", 1)[1])
    try:
        again.page.wait_for_selector("#kg-panel-title")
        assert again.js("JSON.stringify([kgExplorer.visibleIds().sort(), kgExplorer.lang, kgExplorer.state.year, kgExplorer.selected])") == state
        assert again.page.text_content("#kg-panel-title") == "Golden Throat"
        assert again.page.input_value("#kg-year") == "2023" and again.page.input_value("#kg-lang") == "en"
    finally:
        again.close()


def test_focus_view_from_a_link(browser, real_html):
    page = Page(browser, real_html[0], "#focus=yfid:jinsangzi&depth=1&lang=zh")
    try:
        near = {x for e in real_html[1]["edges"] for x in (e["from"], e["to"]) if JINSANGZI in (e["from"], e["to"])}
        hidden = {n["id"] for n in real_html[1]["nodes"] if n["group"] in real_html[1]["meta"]["hidden_groups"]}
        assert page.shown() == (near | {JINSANGZI}) - hidden
        assert not overlaps(page.js("kgExplorer.labelBoxes()"))
        page.page.click("#kg-overview")
        assert {CENTRE, *CAMPAIGNS, *GOALS} <= page.shown() and JINSANGZI not in page.shown()
        assert "focus=" not in page.js("location.hash")
    finally:
        page.close()


def test_time_control_hides_and_restores(real_page):
    p = real_page
    stats = "group:yfid:yufeng-qu:statistics"
    p.click_node(stats)
    p.js(f"kgExplorer.toggleGroup({MEASURES!r})")  # the opened column may have moved the view
    wait_until(p.page, "kgExplorer.state.open.size === 2")
    before = p.shown()
    nodes = {n["id"]: n for n in p.data["nodes"]}
    backbone = {CENTRE, *CAMPAIGNS, *GOALS, ID + "sida-huizhan", ID + "liuqu"}
    plans = {i for i in before - backbone if (nodes[i].get("time") or {}).get("m") == ["plan"]}
    dated_2023 = {i for i in before if (nodes[i].get("time") or {}).get("y") == 2023}
    assert plans and dated_2023
    p.page.select_option("#kg-mod", "result")
    p.page.select_option("#kg-year", "2023")
    after = p.shown()
    assert not plans & after and dated_2023 <= after
    assert {CENTRE, *CAMPAIGNS, *GOALS} <= after  # the backbone stays, whatever the time
    apart = p.js("(() => { const a = []; kgExplorer.shown.forEach((v, k) => { if (v === 'apart') a.push(k); }); return a; })()")
    assert apart and all(nodes[i]["time"]["y"] is None and "result" in nodes[i]["time"]["m"] for i in apart)
    p.page.uncheck("#kg-undated")
    assert not set(apart) & p.shown()
    p.page.select_option("#kg-mod", "plan")
    p.page.check("#kg-undated")
    assert not dated_2023 & p.shown()
    p.page.select_option("#kg-mod", "both")
    p.page.select_option("#kg-year", "all")
    assert p.shown() == before


def test_class_filter_hides_and_shows(real_page):
    p = real_page
    p.click_node(FIRMS)
    wait_until(p.page, f"kgExplorer.visibleIds().includes({JINSANGZI!r})")
    before = p.shown()
    p.page.uncheck("#kg-legend-list input[data-group='yf:Enterprise']")
    assert JINSANGZI not in p.shown()
    p.page.check("#kg-legend-list input[data-group='yf:Enterprise']")
    assert p.shown() == before
    p.page.click("button[data-only='yf:Campaign']")
    assert p.shown() == set(CAMPAIGNS) | {ID + "sida-huizhan"}
    p.page.click("#kg-all")
    assert before <= p.shown()


def test_language_toggle(real_page):
    p = real_page
    en = next(n["label_en"] for n in p.data["nodes"] if n["id"] == GONGYE)
    p.page.select_option("#kg-lang", "en")
    assert p.js(f"kgExplorer.renderer.nodes.get({GONGYE!r}).label") == (en if len(en) <= 24 else en[:23] + "…")
    assert "lang=en" in p.js("location.hash")
    p.page.select_option("#kg-lang", "zh")
    assert p.js(f"kgExplorer.renderer.nodes.get({GONGYE!r}).label") == "工业振兴大会战"


def test_hostile_label_and_expand_with_more(browser, tmp_path):
    data = payload(fixture_store(), focus=HUB, depth=0)
    assert len(data["nodes"]) == 1
    page = Page(browser, write_html(render_html(data), tmp_path / "fixture.html"))
    try:
        page.page.check("#kg-expand")
        page.page.fill("#kg-search", "枢纽企业")
        page.page.press("#kg-search", "Enter")
        page.page.wait_for_selector("#kg-groups .group .more")
        assert page.js("kgExplorer.renderer.nodes.length") == 1 + 50
        page.page.click("#kg-groups .group .more")
        wait_until(page.page, "kgExplorer.renderer.nodes.length === 101")
        page.page.click("#kg-groups .group .more")
        wait_until(page.page, f"kgExplorer.renderer.nodes.length === {MEMBERS + 2}")
        assert page.page.query_selector("#kg-groups .group .more") is None
        page.page.fill("#kg-search", "恶意标签")
        page.page.press("#kg-search", "Enter")
        wait_until(page.page, f"kgExplorer.selected === {EVIL_IRI!r} && !!document.getElementById('kg-panel-title')")
        assert page.page.text_content("#kg-panel-title") == EVIL
        x, y = page.js("id => kgExplorer.domPosition(id)", EVIL_IRI)
        page.page.mouse.move(x + 1, y + 1)
        page.page.mouse.move(x, y)
        page.page.wait_for_selector(".vis-tooltip", state="visible", timeout=5000)
        assert page.page.inner_text(".vis-tooltip") == EVIL  # the hover label is text too
        assert page.js("window.__pwned === undefined")
        assert page.js("document.querySelectorAll('#kg-panel img, #kg-panel script, #kg-legend img, .vis-tooltip img').length") == 0
    finally:
        page.close()


def synthetic(n: int, seed: int = 7) -> dict:
    """A payload of n nodes in communities with precomputed positions (as kg.views.viz.add_layout
    gives big graphs)."""
    rnd = random.Random(seed)
    nodes, edges = [], []
    for i in range(n):
        nodes.append({"id": f"{ID}syn-{i}", "label_zh": f"节点{i}", "label_en": f"node {i}", "pinyin": None,
                      "aliases": [], "types": ["yf:Enterprise"], "group": "yf:Enterprise", "size": 10 + (i % 7),
                      "community": i // 100, "external": False, "keys": "", "time": {"m": ["result"], "y": 2023 if i % 2 else None}})
        if i:
            edges.append({"from": f"{ID}syn-{i}", "to": f"{ID}syn-{rnd.randrange(i)}", "predicate": "https://w3id.org/yufeng-kg/ontology#involves",
                          "label_zh": "涉及", "label_en": "involves", "inferred": False})
    legend = [{"group": "yf:Enterprise", "label_zh": "企业", "label_en": "enterprise", "color": "#1f6fb4", "shape": "dot",
               "count": n, "family": "organisations"}]
    return {"nodes": nodes, "edges": edges, "details": {}, "legend": legend, "overview": None, "sources": {},
            "meta": {"title": "synthetic", "built_from": "test", "seed": 42, "hidden_groups": [], "years": [2023]},
            "context": {"nodes": [], "edges": []}}


def synthetic_details(n: int) -> dict:
    """One fact per node whose value only the details carry (so the panel shows it only if the
    details block was decoded)."""
    return {f"{ID}syn-{i}": {"iri": f"{ID}syn-{i}", "label_zh": f"节点{i}", "label_en": f"node {i}", "types": ["yf:Enterprise"],
                             "external": [], "incoming": [],
                             "out": [{"predicate": "https://w3id.org/yufeng-kg/ontology#note", "predicate_label_zh": "备注",
                                      "predicate_label_en": "note", "value": f"值{i}号", "is_resource": False,
                                      "value_label_zh": f"值{i}号", "value_label_en": f"value {i}", "datatype": None,
                                      "lang": None, "inferred": False, "evidence": []}]} for i in range(n)}


def test_big_graph_draws_with_webgl(browser, tmp_path):
    n = WEBGL_THRESHOLD + 1000
    data = synthetic(n)
    data["details"] = synthetic_details(n)
    html = render_html(data)
    assert 'data-encoding="gzip-base64"' in html  # big enough for the compressed details block
    page = Page(browser, write_html(html, tmp_path / "big.html"))
    try:
        assert page.js("kgExplorer.webgl") is True
        assert page.js("kgExplorer.renderer.graph.order") == n
        assert page.js("kgExplorer.visibleCount()") == n
        # ready means drawn and usable: the mark comes after the first draw, not at it
        assert page.js("kgExplorer.timings.ready > kgExplorer.timings.drawn")
        # one vertex per node and two per edge (see SigmaRenderer.create): sigma's point and line programs
        assert page.js("kgExplorer.renderer.sigma.nodePrograms.circle instanceof Sigma.rendering.NodePointProgram")
        assert page.js("Object.values(kgExplorer.renderer.sigma.edgePrograms).every(p => p instanceof Sigma.rendering.EdgeLineProgram)")
        assert page.js("typeof vis") == "undefined"  # only the renderer the page uses is inlined
        first = f"{ID}syn-1"
        page.js(f"kgExplorer.select({first!r})")
        page.page.wait_for_selector("#kg-panel-title")
        assert page.page.text_content("#kg-panel-title") == "节点1"
        page.page.wait_for_selector("#kg-panel :text('值1号')")  # the fact from the gzipped details
        # the rest veiled by the overlay, the neighbourhood drawn on it: sample its pixels
        veil = page.js(f"""(() => {{ const r = kgExplorer.renderer, s = r.sigma, c = r.overlay.getContext('2d');
            const px = (id) => {{ const d = s.framedGraphToViewport(r.displayData(id)), k = window.devicePixelRatio || 1;
              return Array.from(c.getImageData(Math.round(d.x * k), Math.round(d.y * k), 1, 1).data); }};
            return [px({first!r}), px('{ID}syn-{n - 1}'), Array.from(c.getImageData(2, 2, 1, 1).data)]; }})()""")
        assert veil[2][3] > 150                       # the veil is over everything else
        assert veil[0][:3] != veil[2][:3]             # the selected node is drawn over the veil
        assert page.js("kgExplorer.renderer.keep.size") >= 2
        page.page.select_option("#kg-year", "2023")
        page.page.uncheck("#kg-undated")
        assert page.js("kgExplorer.visibleCount()") == n // 2  # odd nodes are dated 2023, even ones undated
        SCREENSHOTS.mkdir(exist_ok=True)
        page.page.screenshot(path=str(SCREENSHOTS / "graph-webgl.png"))
    finally:
        page.close()


def test_big_graph_moves_as_a_picture_and_draws_at_rest(browser, tmp_path):
    """Dragging and wheel-zooming the WebGL view move the last frame as a picture (a CSS transform
    of sigma's layers): no WebGL draw, no edges drawn, while the camera moves; the full graph,
    edges included, drawn once it rests; and no reprocessing of every node after a drag."""
    n = WEBGL_THRESHOLD + 1000
    page = Page(browser, write_html(render_html(synthetic(n)), tmp_path / "big.html"))
    try:
        # count what sigma draws and processes, and whether the camera was moving when edges were drawn
        page.js("""(() => { const s = kgExplorer.renderer.sigma, cam = s.getCamera(), cap = s.getMouseCaptor();
            window.__seen = { edges: [], process: 0, moved: 0 };
            for (const p of Object.values(s.edgePrograms)) { const r = p.render; p.render = function () {
              __seen.edges.push(cam.isAnimated() || cap.isMoving || cap.draggedEvents > 0 || !!cap.currentWheelDirection);
              return r.apply(this, arguments); }; }
            const pr = s.process; s.process = function () { __seen.process += 1; return pr.apply(this, arguments); };
            s.on('kgMoved', () => { __seen.moved += 1; }); })()""")
        box = page.js("(() => { const b = document.getElementById('kg-network').getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; })()")
        start = None
        for dx in range(0, 400, 20):  # a point with no node under it: a drag there pans the view
            x, y = box[0] + box[2] / 2 + dx, box[1] + box[3] / 2 + dx / 2
            if not page.js(f"kgExplorer.renderer.sigma.getNodeAtPosition({{ x: {x - box[0]}, y: {y - box[1]} }})"):
                start = (x, y)
                break
        assert start is not None
        draws = page.js("kgExplorer.renderer.draws")
        edges = page.js("__seen.edges.length")
        page.js("kgExplorer.renderer.pauseMs = 1e9")  # no pause draw until asked for below, however slow the test runs
        page.page.mouse.move(*start)
        page.page.mouse.down()
        for i in range(1, 6):
            page.page.mouse.move(start[0] + 8 * i, start[1] + 4 * i)
            page.page.wait_for_timeout(40)
        wait_until(page.page, "__seen.moved >= 3")
        # while dragging: the last frame moved with the mouse (40 px right, 20 down), nothing redrawn
        assert page.js("kgExplorer.renderer.moved") is True
        assert page.js("kgExplorer.renderer.draws") == draws
        assert page.js("__seen.edges.length") == edges
        transform = page.js("kgExplorer.renderer.sigma.elements.nodes.style.transform")
        assert transform.startswith("matrix(1, 0, 0, 1, ")
        tx, ty = [float(v) for v in transform[len("matrix("):-1].split(",")[4:]]
        assert abs(tx - 40) < 1.5 and abs(ty - 20) < 1.5, transform
        assert page.js("""(() => { const e = kgExplorer.renderer.sigma.elements;
            return e.edges.style.transform === e.nodes.style.transform && e.labels.style.transform === e.nodes.style.transform
              && e.hovers.style.visibility === 'hidden'; })()""")
        # the moved picture stays inside the graph's box: the status bar below is not covered by it
        assert page.js("""(() => { const s = document.getElementById('kg-status'), b = s.getBoundingClientRect();
            return s.contains(document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2)); })()""")
        # held still, button down: the uncovered parts drawn, nodes only; moving again moves that picture
        page.js("kgExplorer.renderer.pauseMs = 50")
        page.page.mouse.move(start[0] + 44, start[1] + 22)
        wait_until(page.page, f"kgExplorer.renderer.draws > {draws} && !kgExplorer.renderer.moved")
        assert page.js("__seen.edges.length") == edges
        draws = page.js("kgExplorer.renderer.draws")
        page.page.mouse.move(start[0] + 60, start[1] + 30)
        wait_until(page.page, "kgExplorer.renderer.moved")
        assert page.js("kgExplorer.renderer.draws") == draws
        page.page.wait_for_timeout(150)
        page.page.mouse.up()
        # at rest: drawn for real, edges included, the picture back in place, nothing reprocessed
        wait_until(page.page, f"kgExplorer.renderer.draws > {draws} && !kgExplorer.renderer.moved")
        wait_until(page.page, f"__seen.edges.length > {edges}")
        assert page.js("kgExplorer.renderer.sigma.elements.nodes.style.transform") == ""
        assert page.js("kgExplorer.renderer.sigma.elements.hovers.style.visibility") == ""
        assert page.js("__seen.process") == 0
        # the wheel zooms the picture while sigma's zoom animation runs, then draws at rest
        moved = page.js("__seen.moved")
        draws = page.js("kgExplorer.renderer.draws")
        page.page.mouse.wheel(0, -120)
        wait_until(page.page, f"__seen.moved > {moved}")
        wait_until(page.page, f"kgExplorer.renderer.draws > {draws} && !kgExplorer.renderer.moved")
        assert page.js("kgExplorer.renderer.sigma.getCamera().getState().ratio") < 0.9
        assert page.js("__seen.edges.length") > edges + 1
        assert page.js("__seen.edges.some(moving => moving)") is False  # edges are drawn only at rest
        assert page.js("__seen.process") == 0
    finally:
        page.close()


def test_server_mode_uses_the_api(browser, real_store):
    """The same page in server mode, its /api answered through kg.server.explorer_api."""
    from urllib.parse import parse_qs, urlparse

    from kg.server.explorer_api import ExplorerAPI

    api = ExplorerAPI(real_store)
    html = render_html(mode="server", api_base="/api", hidden_groups=api.viz.vocabulary_groups())
    assert "<script type=\"application/json\" id=\"kg-data\">" not in html
    asked: list[str] = []

    def answer(route):
        url = urlparse(route.request.url)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        asked.append(url.path)
        if url.path == "/":
            return route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        handlers = {
            "/api/graph": lambda: api.graph_json(q.get("focus"), int(q.get("depth", 1))),
            "/api/search": lambda: api.search(q["q"], int(q.get("limit", 20))),
            "/api/node": lambda: api.detail(q["iri"]),
            "/api/expand": lambda: api.expand(q["iri"], q.get("predicate"), int(q.get("offset", 0)), int(q.get("limit", 50))),
        }
        if url.path not in handlers:
            return route.fulfill(status=404, content_type="application/json", body='{"error": "not found"}')
        body = json.dumps(handlers[url.path](), ensure_ascii=False)
        route.fulfill(status=200, content_type="application/json; charset=utf-8", body=body)

    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    outside: list[str] = []
    ctx.route("**/*", lambda r: answer(r) if r.request.url.startswith("http://kg.test/")
              else (outside.append(r.request.url), r.abort()))
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto("http://kg.test/#lang=zh&open=" + MEASURES)
        page.wait_for_selector("body[data-ready='1']", timeout=30000)
        shown = set(page.evaluate("kgExplorer.visibleIds()"))
        assert {CENTRE, *CAMPAIGNS, *GOALS} <= shown
        assert set(page.evaluate(f"kgExplorer.groups.get({MEASURES!r}).members")) <= shown
        page.fill("#kg-search", "金嗓子")
        page.press("#kg-search", "Enter")
        page.wait_for_selector("#kg-panel .evidence .src")
        assert page.text_content("#kg-panel-title") == "金嗓子"
        assert "2024-01" in page.text_content("#kg-panel .evidence .src-title")
        page.wait_for_selector("#kg-groups .group")
        assert {"/api/graph", "/api/search", "/api/node", "/api/expand"} <= set(asked)
        assert not errors and not outside
    finally:
        ctx.close()


def test_observation_chart_in_the_panel(real_page):
    """kg.views.chart's SVG of an indicator's observations, in the panel, scripts and handlers out."""
    pytest.importorskip("kg.views.chart")
    p = real_page
    p.js(f"kgExplorer.select({ID + 'gdp'!r})")
    p.page.wait_for_selector("#kg-panel .chart svg")
    assert p.js("document.querySelectorAll('#kg-panel .chart svg use').length") > 0  # its text, as glyphs
    assert p.js("document.querySelectorAll('#kg-panel .chart script, #kg-panel .chart foreignObject').length") == 0


def test_support_and_qualifier_fields_are_shown_when_present(browser, tmp_path):
    """The fidelity fields (support, its reason, qualifier, value as written) in the panel, as text."""
    data = payload(fixture_store(), focus=HUB, depth=1)
    fact = next(f for f in data["details"][HUB]["out"] if f["evidence"])
    fact["evidence"][0].update({"support": "implied", "supportReason": {"zh": "由上下文推断", "en": "inferred from context"},
                                "qualifier": "about", "valueAsWritten": "约<b>10</b>亿元"})
    page = Page(browser, write_html(render_html(data), tmp_path / "fidelity.html"))
    try:
        page.js(f"kgExplorer.select({HUB!r})")
        page.page.wait_for_selector("#kg-panel .evidence .badge.support")
        assert page.page.text_content("#kg-panel .evidence .badge.support") == "推断"
        assert page.page.text_content("#kg-panel .evidence .badge.qualifier") == "约"
        assert page.page.text_content("#kg-panel .evidence .written") == "原文写法: 约<b>10</b>亿元"
        assert page.page.text_content("#kg-panel .evidence .reason") == "由上下文推断"
        assert page.js("document.querySelectorAll('#kg-panel b').length") == 0
    finally:
        page.close()
