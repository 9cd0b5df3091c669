"""The library side: pyvis views, notebook display, DataFrames, charts, and the house rules
(typed, no private imports from other packages, no import circles, cited documents exist).

Expected values are the source's: GDP 193.49 亿元 (19349000000 yuan) with 2.5 % growth, 879
grassroots party organisations, as in the hand-checked queries/cq/cq06-indicators-2023.tsv.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KG = ROOT / "kg"
YF = "https://w3id.org/yufeng-kg/id/"


# -- the house -------------------------------------------------------------------------------------

def test_mypy_is_clean_on_kg():
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            out.extend((a.name, node.lineno) for a in node.names)
    return out


def test_no_private_imports_from_other_packages():
    bad = [f"{p.relative_to(ROOT)}:{line} {mod}" for p in KG.rglob("*.py") for mod, line in _imports(p)
           if not mod.startswith("kg") and any(part.startswith("_") and not part.startswith("__")
                                                for part in mod.split("."))]
    assert not bad, bad


def test_no_import_circles_between_modules():
    """Module-level imports form no cycle (function-level imports are how a layer reaches up lazily,
    but a module never imports, even lazily, a module that imports it at load time)."""
    def module_of(path: Path) -> str:
        return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")

    graph: dict[str, set[str]] = {}
    for p in KG.rglob("*.py"):
        graph[module_of(p)] = {m for m, _ in _imports(p) if m.startswith("kg.") or m == "kg"}
    modules = set(graph)

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                target = nxt if nxt in modules else nxt.rsplit(".", 1)[0]
                if target not in seen and target != "kg":
                    seen.add(target)
                    todo.append(target)
        return seen

    circles = sorted(f"{a} <-> {b}" for a in modules for b in graph[a] if b in modules and b != "kg"
                     and a in reach(b) and a < b)
    assert not circles, circles


def test_every_document_a_docstring_cites_exists():
    cited = set()
    for p in list(KG.rglob("*.py")) + list((KG / "web" / "static").glob("*.js")):
        for m in re.finditer(r"\b((?:spec|docs)/[\w.-]+\.(?:md|png|svg))", p.read_text(encoding="utf-8")):
            cited.add(m.group(1))
    assert cited, "the test found no citations: its pattern is wrong"
    assert not [c for c in sorted(cited) if not (ROOT / c).is_file()]


def test_core_import_needs_no_notebook_extras():
    code = ("import sys, kg, kg.cli; kg.cli.make_parser();"
            "bad = [m for m in ('pyvis', 'pandas', 'matplotlib', 'IPython') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- pyvis -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def explorer(real_store):
    from kg.views.viz import Explorer

    return Explorer(real_store)


def test_to_pyvis_focus_is_a_pyvis_network_styled_like_the_explorer(real_build, explorer, tmp_path):
    from pyvis.network import Network

    from kg.views.pyvis_view import to_pyvis

    net = to_pyvis(real_build, focus="金嗓子", explorer=explorer)
    assert isinstance(net, Network)
    view = explorer.view(focus="金嗓子", depth=1)
    assert sorted(n["id"] for n in net.nodes) == sorted(n["id"] for n in view["nodes"])
    assert len(net.edges) == len(view["edges"]) and net.get_nodes() == net.node_ids
    jsz = net.get_node(YF + "jinsangzi")
    assert jsz["label"] == "金嗓子"
    color, shape = explorer.styles[explorer.group_of[YF + "jinsangzi"]]
    assert (jsz["color"], jsz["shape"]) == (color, shape)
    assert "Golden Throat" in jsz["title"]
    # evidence in the edge tooltips: a character span of the source
    assert any(re.search(r"\[\d+–\d+\]", e["title"]) for e in net.edges)

    en = to_pyvis(real_build, focus="yfid:jinsangzi", lang="en", explorer=explorer)
    assert en.get_node(YF + "jinsangzi")["label"] == "Golden Throat"


def test_pyvis_page_is_offline_utf8_and_stops_its_physics(real_build, explorer, tmp_path):
    from kg.views.pyvis_view import to_pyvis

    net = to_pyvis(real_build, focus="金嗓子", depth=2, explorer=explorer)
    out = tmp_path / "金嗓子.html"
    net.write_html(str(out))
    html = out.read_bytes().decode("utf-8")  # raises if not UTF-8
    assert "金嗓子" in html and "new vis.Network" in html
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"?https?:", html)
    assert "cdnjs.cloudflare.com" not in html and "cdn.jsdelivr.net" not in html  # pyvis's template has both
    assert 'stabilizationIterationsDone' in html and "physics: false" in html
    assert not (tmp_path / "lib").exists()  # pyvis's "local" mode copies a lib/ folder; ours does not
    assert net._repr_html_().startswith("<iframe srcdoc=")


def test_pyvis_views_by_class_and_query(real_build, explorer):
    from kg.views.pyvis_view import to_pyvis

    campaigns = to_pyvis(real_build, classes="yf:Campaign", explorer=explorer)
    assert {n["group"] for n in campaigns.nodes} == {"yf:Campaign"} and len(campaigns.nodes) == 5
    awards = to_pyvis(real_build, query="cq05-awards-2023", explorer=explorer)
    assert YF + "yufeng-qu" in awards.node_ids


def test_fill_matches_pyvis_add_node_by_value():
    """The fast fill gives the nodes and edges pyvis's own add_node/add_edge would."""
    from pyvis.network import Network

    from kg.views.pyvis_view import fill, new_network

    view = {"nodes": [{"id": f"n{i}", "label_zh": f"节点{i}", "label_en": f"node {i}", "group": "g",
                       "size": 10 + i} for i in range(30)],
            "edges": [{"from": f"n{i}", "to": f"n{(i * 7) % 30}", "predicate": "p", "label_zh": "连",
                       "label_en": "links", "inferred": False} for i in range(30) if i != (i * 7) % 30],
            "legend": [{"group": "g", "color": "#123456", "shape": "dot", "label_zh": "类", "label_en": "class"}]}
    fast = fill(new_network(), view)
    slow = Network(directed=True)
    for n in fast.nodes:
        slow.add_node(n["id"], **{k: v for k, v in n.items() if k != "id"})
    for e in fast.edges:
        slow.add_edge(e["from"], e["to"], **{k: v for k, v in e.items() if k not in ("from", "to")})
    # pyvis drops `color` when a node has a group (vis-network then colours by group); ours keeps
    # the explorer's colour explicitly
    strip = lambda d: {k: v for k, v in d.items() if k not in ("font", "color")}  # noqa: E731
    assert [strip(n) for n in fast.nodes] == [strip(n) for n in slow.nodes]
    assert {n["color"] for n in fast.nodes} == {"#123456"}
    assert fast.edges == slow.edges and fast.node_ids == slow.node_ids


# -- notebook display and DataFrames ---------------------------------------------------------------

def test_query_result_html_table_has_labels_links_and_escapes(real_build):
    import kg

    r = kg.query("cq06-indicators-2023", real_build)
    html = r._repr_html_()
    assert f'<a href="{YF}gdp"' in html and "地区生产总值" in html
    r2 = kg.query('SELECT ?x WHERE { BIND("<script>alert(1)</script>" AS ?x) }', real_build)
    assert "<script>alert" not in r2._repr_html_() and "&lt;script&gt;" in r2._repr_html_()


def test_to_dataframe_types_numbers_dates_and_labels(real_build):
    import pandas as pd

    import kg

    df = kg.query("cq06-indicators-2023", real_build).to_dataframe()
    gdp = df[df["indicator"] == YF + "gdp"].iloc[0]
    assert gdp["value"] == 19349000000 and gdp["growth_percent"] == pytest.approx(2.5)
    assert pd.api.types.is_numeric_dtype(df["value"]) and pd.api.types.is_float_dtype(df["growth_percent"])
    assert df.loc[df["indicator"] == YF + "grassroots-party-organisations", "value"].iloc[0] == 879
    assert "unit_label" not in df and "indicator_label" not in df  # the query has _zh/_en columns
    dated = kg.query('SELECT ?d ?e WHERE { VALUES (?d ?e) { ("2024-01-05"^^<http://www.w3.org/2001/XMLSchema#date> '
                     '<https://w3id.org/yufeng-kg/id/jinsangzi>) } }', real_build).to_dataframe()
    assert pd.api.types.is_datetime64_any_dtype(dated["d"]) and dated["d"].iloc[0] == pd.Timestamp("2024-01-05")
    assert dated["e_label"].iloc[0] == "金嗓子"


def test_explore_shows_the_offline_explorer_in_a_cell(real_build, tmp_path):
    import kg

    view = kg.explore(real_build, focus="金嗓子")
    cell = view._repr_html_()
    assert cell.startswith("<iframe srcdoc=") and "金嗓子" in cell
    assert not re.search(r"src=&quot;https?:", cell)
    assert view.save(tmp_path / "v.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# -- charts ----------------------------------------------------------------------------------------

def test_chart_directive_parsing():
    from kg.errors import InputError
    from kg.views.chart import chart_directive, parse_chart

    spec = parse_chart("barh label=indicator value=value facet=unit growth=growth_percent written=w of=area")
    assert spec.kind == "barh" and spec.options["growth"] == "growth_percent"
    for bad in ("pie label=a value=b", "barh label=a", "barh label=a value=b colour=red"):
        with pytest.raises(InputError):
            parse_chart(bad)
    assert chart_directive("# zh: q\n# chart: barh label=a value=b\nSELECT") == "barh label=a value=b"


def test_kg_chart_draws_the_indicators_with_the_cjk_font(real_build, tmp_path):
    from kg.cli import main
    from kg.views.chart import cjk_family

    out = tmp_path / "indicators.svg"
    assert main(["chart", "cq06-indicators-2023", "--build", str(real_build), "-o", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    # text is drawn as glyph paths; matplotlib keeps each label as a comment beside them
    assert "<!-- 地区生产总值 -->" in svg and "<!-- 2.5% -->" in svg and "<!-- 879个 -->" in svg
    # the lower bound keeps its qualifier as written, and names whose output it is
    assert "<!-- 超10亿元 -->" in svg and "<!-- 产值（金嗓子一期） -->" in svg
    if cjk_family():
        assert "CJK" in svg
    assert main(["chart", "no-such-thing", "--build", str(real_build)]) == 2
    assert main(["chart", "cq05-awards-2023", "--build", str(real_build)]) == 2  # no directive


def test_entity_observation_chart(real_store):
    from kg.views.chart import observation_chart_svg

    svg = observation_chart_svg(real_store, YF + "yufeng-qu")
    assert svg and "<!-- 地区生产总值 2023 -->" in svg
    assert observation_chart_svg(real_store, YF + "jinsangzi") is None  # no observation about it


def test_entity_page_embeds_the_chart(real_build):
    from starlette.testclient import TestClient

    from kg.server.serve import create_app

    with TestClient(create_app(real_build)) as client:
        page = client.get("/id/yufeng-qu", headers={"Accept": "text/html"}).text
        assert '<img src="data:image/svg+xml;base64,' in page
        other = client.get("/id/jinsangzi", headers={"Accept": "text/html"}).text
        assert "data:image/svg+xml" not in other


# -- the example notebook --------------------------------------------------------------------------

def test_tour_notebook_runs(real_build, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "examples" / "tour.ipynb", as_version=4)
    monkeypatch.setenv("KG_BUILD", str(real_build))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    rich = [o for o in outputs if o.get("output_type") in ("display_data", "execute_result")]
    kinds = {k for o in rich for k in o.get("data", {})}
    assert {"text/html", "image/svg+xml"} <= kinds
    assert (tmp_path / "jinsangzi.html").is_file()
