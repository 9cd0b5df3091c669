"""The explorer in a real browser: Debian's chromium driven by Playwright, from file://.

Every request the page makes is recorded; anything but file:// (or data:/blob:) fails the test.
Leaves build/graph.png (the whole graph) and build/graph-panel.png (金嗓子 and its evidence).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from kg.pipeline.evidence import compact

from kg.read.store import open_store
from kg.views.viz import payload, render_html, write_html

from .conftest import ROOT, real_sources
from .vizfixture import EVIL, EVIL_IRI, HUB, MEMBERS, fixture_store

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
JINSANGZI = "https://w3id.org/yufeng-kg/id/jinsangzi"
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

    def __init__(self, browser, html_path: Path):
        self.context = browser.new_context(viewport={"width": 1600, "height": 1000}, service_workers="block")
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", self._seen)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(html_path.as_uri())
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

    def js(self, expr):
        return self.page.evaluate(expr)

    def click_node(self, iri: str):
        """A real mouse click where the node is drawn."""
        x, y = self.page.evaluate("""iri => { const n = kgExplorer.network, p = n.canvasToDOM(n.getPosition(iri)),
            r = document.getElementById('kg-network').getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }""", iri)
        self.page.mouse.click(x, y)

    def close(self):
        assert not self.errors, f"script errors: {self.errors}"
        assert not self.outside, f"requests left file://: {self.outside}"
        self.context.close()


@pytest.fixture(scope="module")
def real_page(browser, real_build):
    data = payload(open_store(real_build))
    path = write_html(render_html(data), real_build / "graph.html")
    page = Page(browser, path)
    page.data = data
    yield page
    page.close()


def visible_groups(page: Page) -> dict[str, int]:
    return page.js("""(() => { const out = {}; kgExplorer.nodes.forEach(v => { if (!v.hidden) {
        const g = kgExplorer.info.get(v.id).group; out[g] = (out[g] || 0) + 1; } }); return out; })()""")


def test_shows_every_node_and_no_request_leaves(real_page):
    p, data = real_page, real_page.data
    assert p.js("kgExplorer.nodes.length") == len(data["nodes"])
    assert p.js("kgExplorer.edges.length") == len(data["edges"])
    vocabulary = sum(1 for n in data["nodes"] if n["group"] in data["meta"]["hidden_groups"])
    assert 0 < vocabulary < len(data["nodes"])
    assert p.js("kgExplorer.visibleCount()") == len(data["nodes"]) - vocabulary
    assert p.js("kgExplorer.network.physics.options.enabled") is False  # stabilised, then stopped
    SCREENSHOTS.mkdir(exist_ok=True)
    p.page.screenshot(path=str(SCREENSHOTS / "graph.png"))
    assert not p.outside


def test_search_focuses_jinsangzi_and_click_shows_evidence(real_page):
    p = real_page
    p.page.fill("#kg-search", "jin sang zi")
    p.page.wait_for_selector(f"#kg-hits li[data-iri='{JINSANGZI}']")
    p.page.fill("#kg-search", "金嗓子")
    p.page.press("#kg-search", "Enter")
    p.page.wait_for_function(f"kgExplorer.selected === {JINSANGZI!r} && !!document.getElementById('kg-panel-title')")
    assert p.js("kgExplorer.network.getSelectedNodes()") == [JINSANGZI]
    assert p.page.text_content("#kg-panel-title") == "金嗓子"
    p.page.click("#kg-close")
    assert p.js("kgExplorer.selected") is None
    p.click_node(JINSANGZI)
    p.page.wait_for_selector("#kg-panel .evidence .src")
    assert p.js("kgExplorer.selected") == JINSANGZI
    sources = p.page.eval_on_selector_all("#kg-panel .evidence .src", "ls => ls.map(l => l.textContent)")
    assert any("yfsrc:000_b3b90ce150a63deb [" in s for s in sources)
    quotes = p.page.eval_on_selector_all("#kg-panel .evidence blockquote", "ls => ls.map(l => l.textContent)")
    src = real_sources()
    if src is not None:
        text = (src / "000_b3b90ce150a63deb.txt").read_text(encoding="utf-8")
        # quotes are shown readable (line breaks and spacing-out removed): compare without white space
        assert quotes and all(compact(q) in compact(text) for q in quotes)
        assert any("金嗓子" in q for q in quotes)
    links = p.page.eval_on_selector_all("#kg-panel a[href]", "ls => ls.map(a => [a.target, a.rel])")
    assert all(t == "_blank" and "noopener" in r for t, r in links)
    SCREENSHOTS.mkdir(exist_ok=True)
    p.page.screenshot(path=str(SCREENSHOTS / "graph-panel.png"))


def test_class_filter_hides_and_shows(real_page):
    p = real_page
    before = visible_groups(p)
    assert before.get("yf:Enterprise") == 7
    p.page.uncheck("#kg-legend-list input[data-group='yf:Enterprise']")
    hidden = visible_groups(p)
    assert "yf:Enterprise" not in hidden and hidden == {g: n for g, n in before.items() if g != "yf:Enterprise"}
    p.page.check("#kg-legend-list input[data-group='yf:Enterprise']")
    assert visible_groups(p) == before
    p.page.click("button[data-only='yf:Enterprise']")
    assert visible_groups(p) == {"yf:Enterprise": 7}
    p.page.click("#kg-all")
    assert sum(visible_groups(p).values()) == len(p.data["nodes"])


def test_language_toggle(real_page):
    p = real_page
    p.page.select_option("#kg-lang", "en")
    assert p.js(f"kgExplorer.nodes.get({JINSANGZI!r}).label") == "Golden Throat"
    p.page.select_option("#kg-lang", "zh")
    assert p.js(f"kgExplorer.nodes.get({JINSANGZI!r}).label") == "金嗓子"


def test_hostile_label_and_expand_with_more(browser, tmp_path):
    data = payload(fixture_store(), focus=HUB, depth=0)
    assert len(data["nodes"]) == 1
    page = Page(browser, write_html(render_html(data), tmp_path / "fixture.html"))
    try:
        page.click_node(HUB)
        page.page.wait_for_selector("#kg-groups .group .more")
        assert page.js("kgExplorer.nodes.length") == 1 + 50
        page.page.click("#kg-groups .group .more")
        page.page.wait_for_function("kgExplorer.nodes.length === 101")
        page.page.click("#kg-groups .group .more")
        page.page.wait_for_function(f"kgExplorer.nodes.length === {MEMBERS + 2}")
        assert page.page.query_selector("#kg-groups .group .more") is None
        page.page.fill("#kg-search", "恶意标签")
        page.page.press("#kg-search", "Enter")
        page.page.wait_for_function(f"kgExplorer.selected === {EVIL_IRI!r} && !!document.getElementById('kg-panel-title')")
        assert page.page.text_content("#kg-panel-title") == EVIL
        assert page.js("window.__pwned === undefined")
        assert page.js("document.querySelectorAll('#kg-panel img, #kg-panel script').length") == 0
    finally:
        page.close()


def test_server_mode_uses_the_api(browser, real_store):
    """The same page in server mode, its /api answered by kg.views.viz.Explorer through the contract."""
    import json
    from urllib.parse import parse_qs, urlparse

    from kg.views.viz import Explorer

    ex = Explorer(real_store)
    html = render_html(mode="server", api_base="/api", hidden_groups=ex.vocabulary_groups())
    assert "<script type=\"application/json\" id=\"kg-data\">" not in html
    asked: list[str] = []

    def answer(route):
        url = urlparse(route.request.url)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        asked.append(url.path)
        if url.path == "/":
            return route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        handlers = {
            "/api/graph": lambda: ex.view(focus=q.get("focus"), depth=int(q.get("depth", 1))),
            "/api/search": lambda: ex.search(q["q"], int(q.get("limit", 20))),
            "/api/node": lambda: ex.detail(q["iri"]),
            "/api/expand": lambda: ex.expand(q["iri"], q.get("predicate"), int(q.get("offset", 0)),
                                             int(q.get("limit", 50))),
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
        page.goto("http://kg.test/")
        page.wait_for_selector("body[data-ready='1']", timeout=30000)
        assert page.evaluate("kgExplorer.nodes.length") == ex.graph.number_of_nodes()
        page.fill("#kg-search", "金嗓子")
        page.press("#kg-search", "Enter")
        page.wait_for_selector("#kg-panel .evidence .src")
        assert page.text_content("#kg-panel-title") == "金嗓子"
        page.wait_for_selector("#kg-groups .group")
        assert {"/api/graph", "/api/search", "/api/node", "/api/expand"} <= set(asked)
        assert not errors and not outside
    finally:
        ctx.close()
