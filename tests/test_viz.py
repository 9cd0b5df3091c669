"""The explorer's payload and page (fast, no browser): contract shapes, counts, escaping, CLI."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kg.read.analytics import analyse, top
from kg.cli import main
from kg.errors import InputError
from kg.read.network import to_networkx
from kg.views.viz import (DETAILS_GZIP_MIN, FAMILIES, VENDOR_GRAPHOLOGY, VENDOR_JS, VENDOR_SIGMA, WEBGL_THRESHOLD, Explorer,
                         decode_details, encode_details, pack, payload, read_page, render_html, unpack, view_name,
                         write_html)

from .conftest import ROOT
from .vizfixture import EVIL, EVIL_IRI, HUB, MEMBERS, QUOTE, fixture_store

JINSANGZI = "https://w3id.org/yufeng-kg/id/jinsangzi"
NODE_KEYS = {"id", "label_zh", "label_en", "pinyin", "aliases", "types", "group", "size", "community", "external",
             "label", "color", "shape", "family"}
EDGE_KEYS = {"from", "to", "predicate", "label_zh", "label_en", "inferred"}
LEGEND_KEYS = {"group", "label_zh", "label_en", "color", "shape", "count", "family"}
ID = "https://w3id.org/yufeng-kg/id/"
SOURCE = "https://w3id.org/yufeng-kg/source/000_b3b90ce150a63deb"


def tsv_iris(name: str) -> set[str]:
    """The IRIs in the first column of a competency question's expected result."""
    lines = (ROOT / "queries" / "cq" / name).read_text(encoding="utf-8").splitlines()[1:]
    return {line.split("\t")[0].strip("<>") for line in lines if line.strip()}


@pytest.fixture(scope="module")
def fixture():
    return fixture_store()


@pytest.fixture(scope="module")
def real_payload(real_store):
    return payload(real_store)


def embedded_data(html: str) -> dict:
    assert '<script type="application/json" id="kg-data">' in html, "no kg-data block"
    assert re.search(r'<script type="[^"]+" id="kg-details"', html), "no kg-details block"
    return read_page(html)


def test_payload_counts_match_networkx(real_store, real_payload):
    g = to_networkx(real_store)
    assert len(real_payload["nodes"]) == g.number_of_nodes()
    assert len(real_payload["edges"]) == g.number_of_edges()
    assert {n["id"] for n in real_payload["nodes"]} == set(g.nodes)
    assert sum(x["count"] for x in real_payload["legend"]) == g.number_of_nodes()


def test_payload_follows_the_contract(real_payload):
    assert set(real_payload) >= {"nodes", "edges", "details", "legend", "meta"}
    assert all(NODE_KEYS <= set(n) for n in real_payload["nodes"])
    assert all(EDGE_KEYS <= set(e) for e in real_payload["edges"])
    assert all(set(x) == LEGEND_KEYS for x in real_payload["legend"])
    assert all(re.fullmatch(r"#[0-9a-f]{6}", x["color"]) for x in real_payload["legend"])
    assert {"title", "built_from", "seed"} <= set(real_payload["meta"])
    detail = real_payload["details"][JINSANGZI]
    assert {"iri", "label_zh", "label_en", "types", "out", "incoming", "external"} <= set(detail) <= \
        {"iri", "label_zh", "label_en", "types", "out", "incoming", "external", "chart_svg"}
    assert any(ev["quote"] is not None or ev["start"] >= 0 for f in detail["out"] for ev in f["evidence"])


def test_literals_are_attributes_not_nodes(real_payload):
    ids = {n["id"] for n in real_payload["nodes"]}
    assert all(i.startswith(("http://", "https://")) for i in ids)
    assert "06896" not in ids  # the 金嗓子 group's stock code: a literal, so in the panel only
    codes = [f for f in real_payload["details"][JINSANGZI.replace("jinsangzi", "jinsangzi-konggu-jituan")]["out"]
             if f["value"] == "06896"]
    assert codes and not codes[0]["is_resource"]
    assert all(e["to"] in ids and e["from"] in ids for e in real_payload["edges"])


def test_sizes_follow_centrality(real_payload):
    by_id = {n["id"]: n for n in real_payload["nodes"]}
    district = by_id["https://w3id.org/yufeng-kg/id/yufeng-qu"]
    assert district["size"] == max(n["size"] for n in real_payload["nodes"])
    assert district["community"] is not None


def test_search_keys_cover_zh_en_and_pinyin(real_payload):
    node = next(n for n in real_payload["nodes"] if n["id"] == JINSANGZI)
    keys = node["keys"].split("\n")
    assert {"金嗓子", "goldenthroat", "jinsangzi"} <= set(keys)


def test_hostile_label_stays_text(fixture, tmp_path):
    data = payload(fixture)
    html = render_html(data)
    # only the page's own script elements end; the label's "</script>" is escaped
    assert html.count("</script>") == 5  # config, data, details, vis-network, the app
    assert EVIL not in html
    assert "</script><img" not in html
    round_trip = embedded_data(html)
    node = next(n for n in round_trip["nodes"] if n["id"] == EVIL_IRI)
    assert node["label_zh"] == EVIL
    out = write_html(html, tmp_path / "x" / "graph.html")
    assert out.read_bytes().decode("utf-8") == html


def test_expand_pages_by_fifty(fixture):
    ex = Explorer(fixture)
    first = ex.expand(HUB)
    group = next(g for g in first["groups"] if g["predicate"].endswith("#involves"))
    assert (group["total"], group["returned"], group["next_offset"]) == (MEMBERS + 1, 50, 50)
    last = ex.expand(HUB, predicate=group["predicate"], offset=100)
    assert (last["groups"][0]["returned"], last["groups"][0]["next_offset"]) == (MEMBERS + 1 - 100, None)
    assert len(last["nodes"]) == MEMBERS + 1 - 100


def test_fixture_detail_has_evidence(fixture):
    d = Explorer(fixture).detail(HUB)
    quotes = [ev["quote"] for f in d["out"] for ev in f["evidence"]]
    assert QUOTE in quotes


def test_focus_and_class_views(real_store):
    ex = Explorer(real_store)
    near = ex.view(focus="金嗓子", depth=1)
    ids = {n["id"] for n in near["nodes"]}
    assert JINSANGZI in ids and 2 <= len(ids) < 40
    firms = ex.view(classes=["企业"])
    assert {n["group"] for n in firms["nodes"]} == {"yf:Enterprise"}
    assert ex.view(classes=["Enterprise"])["nodes"] == firms["nodes"]


def test_query_views(real_store):
    ex = Explorer(real_store)
    sel = ex.query_view("PREFIX yf: <https://w3id.org/yufeng-kg/ontology#> SELECT ?e WHERE { ?e a yf:Enterprise }")
    assert len(sel["nodes"]) == 7  # 6 named by the text and 金嗓子's listed holding group
    con = ex.query_view("PREFIX yf: <https://w3id.org/yufeng-kg/ontology#> "
                        "CONSTRUCT { ?e yf:inIndustry ?i } WHERE { ?e yf:inIndustry ?i }")
    assert con["edges"] and all(e["predicate"].endswith("#inIndustry") for e in con["edges"])
    with pytest.raises(InputError, match="SERVICE"):
        ex.query_view("SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }")
    with pytest.raises(InputError, match="ASK"):
        ex.query_view("ASK { ?s ?p ?o }")


def test_analytics_seeded_and_sampled(real_store):
    g = to_networkx(real_store)
    a, b = analyse(g, seed=7), analyse(g, seed=7)
    assert a.communities == b.communities and a.betweenness_exact
    sampled = analyse(g, exact_below=10, sample=20, seed=7)
    assert not sampled.betweenness_exact
    # raw, the plan/result hub links to every measure; the explorer leaves vocabulary out
    assert top(a, "degree", 1)[0][0].endswith("/modality-result")
    ex = Explorer(real_store)
    assert top(ex.analytics, "degree", 1)[0][0] == "https://w3id.org/yufeng-kg/id/yufeng-qu"


def test_cli_viz_and_errors(real_build, tmp_path, capsys):
    out = tmp_path / "g.html"
    assert main(["viz", "--build", str(real_build), "--out", str(out), "--focus", "jinsangzi", "--depth", "1"]) == 0
    assert capsys.readouterr().out.strip() == str(out)  # the path, on stdout
    data = embedded_data(out.read_text(encoding="utf-8"))
    assert JINSANGZI in {n["id"] for n in data["nodes"]}
    assert main(["viz", "--build", str(real_build), "--out", str(out), "--class", "Enterprize"]) == 2
    err = capsys.readouterr().err
    assert "closest" in err and "yf:Enterprise" in err
    assert main(["viz", "--build", str(real_build), "--out", str(out), "--focus", "金桑子集团"]) == 2
    assert "closest" in capsys.readouterr().err


def test_cli_stats_centrality(real_build, capsys):
    assert main(["stats", "--build", str(real_build), "--centrality", "--top", "3", "--format", "json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["top"]["degree"][0]["label_zh"] == "鱼峰区"
    assert len(r["top"]["pagerank"]) == 3 and r["communities"]


def test_partial_views_go_under_views_and_never_replace_graph_html(real_build, capsys):
    whole = real_build / "graph.html"
    whole.write_text("the whole graph", encoding="utf-8")
    assert main(["viz", "--build", str(real_build), "--class", "企业"]) == 0
    printed = Path(capsys.readouterr().out.strip())
    assert printed == real_build / "views" / "class-qi-ye.html" and printed.is_file()
    assert main(["viz", "--build", str(real_build), "--focus", "金嗓子", "--depth", "2"]) == 0
    assert Path(capsys.readouterr().out.strip()) == real_build / "views" / "focus-jin-sang-zi-d2.html"
    assert whole.read_text(encoding="utf-8") == "the whole graph"
    assert view_name() is None
    assert view_name(query="cq01-campaigns") == "query-cq01-campaigns"
    assert view_name(query="SELECT * WHERE { ?s ?p ?o }").startswith("query-sparql-")


def test_overview_backbone_matches_the_competency_questions(real_store):
    ov = Explorer(real_store).overview()
    assert ov["centre"] == ID + "yufeng-qu"
    # CQ1's campaigns and CQ2's six zones, as hand-checked against the source
    assert set(ov["campaigns"]) == tsv_iris("cq01-campaigns.tsv") and len(ov["campaigns"]) == 4
    assert set(ov["goals"]) == tsv_iris("cq02-six-zones.tsv") and len(ov["goals"]) == 6
    assert ov["programmes"] == [ID + "sida-huizhan"] and ov["umbrellas"] == [ID + "liuqu"]


def test_overview_groups_cover_every_node_once(real_store):
    ex = Explorer(real_store)
    ov = ex.overview()
    backbone = {ov["centre"], *ov["programmes"], *ov["campaigns"], *ov["umbrellas"], *ov["goals"]}
    members = [m for g in ov["groups"] for m in g["members"]]
    assert len(members) == len(set(members))
    assert set(members) | backbone == set(ex.graph)
    homes = {g["home"] for g in ov["groups"]}
    assert homes <= backbone
    by_id = {g["id"]: g for g in ov["groups"]}
    # 金嗓子 is named in the industrial campaign's measures (工业振兴大会战), so it hangs there
    firms = by_id["group:yfid:gongye-zhenxing-huizhan:organisations"]["members"]
    assert JINSANGZI in firms
    measures = by_id["group:yfid:gongye-zhenxing-huizhan:measures"]["members"]
    assert measures and all(ex.group_of[m] == "yf:Measure" for m in measures)
    assert all(ex.graph.has_edge(ID + "gongye-zhenxing-huizhan", m) or ex.graph.has_edge(m, ID + "gongye-zhenxing-huizhan")
               for m in measures)


def test_families_are_few_and_colour_the_classes(real_payload):
    fams = {x["family"] for x in real_payload["legend"]}
    assert fams <= set(FAMILIES) and len(fams) <= 9
    by_group = {x["group"]: x for x in real_payload["legend"]}
    assert by_group["yf:Enterprise"]["family"] == "organisations"
    assert by_group["yf:District"]["family"] == "places"
    assert by_group["yf:Campaign"]["family"] == by_group["yf:ZoneGoal"]["family"] == "initiatives"
    assert by_group["yf:Meeting"]["family"] == "events"  # through its superclass yf:Event
    for x in real_payload["legend"]:
        assert x["color"] == FAMILIES[x["family"]][0]
    # inside a family, classes differ by shape
    for fam in fams - {"external"}:
        shapes = [x["shape"] for x in real_payload["legend"] if x["family"] == fam]
        assert len(shapes) == len(set(shapes)) or len(shapes) > 7


def test_time_facets_come_from_the_graph(real_store):
    ex = Explorer(real_store)
    facets = ex.time_facets
    gdp = next(n for n, d in ex.graph.nodes(data=True)
               if "yf:StatisticalObservation" in d["types"] and d["attributes"].get("yf:period") == ["2023"])
    assert facets[gdp]["y"] == 2023 and "result" in facets[gdp]["m"]
    # measures are stated as plans without a date of their own: undated, never a guessed year
    plans = [n for n, t in facets.items() if t["m"] == ["plan"] and ex.group_of[n] == "yf:Measure"]
    assert plans and all(facets[n]["y"] is None for n in plans)


def test_sources_carry_title_and_date(real_store):
    src = Explorer(real_store).sources[SOURCE]
    assert src["date"] == "2024-01"
    assert "四大会战" in src["title_zh"] and src["title_en"]


def test_pack_round_trips_and_is_smaller(real_payload):
    packed = pack(real_payload)
    back = unpack(json.loads(json.dumps(packed)))
    assert [e for e in back["edges"]] == [{k: e[k] for k in ("from", "to", "predicate", "label_zh", "label_en", "inferred")}
                                          for e in real_payload["edges"]]
    for a, b in zip(back["nodes"], real_payload["nodes"]):
        assert {k: a.get(k) for k in ("id", "label_zh", "label_en", "group", "types", "aliases", "size")} == \
            {k: b.get(k) for k in ("id", "label_zh", "label_en", "group", "types", "aliases", "size")}
    small = lambda d: len(json.dumps({"nodes": d["nodes"], "edges": d["edges"]}, ensure_ascii=False))
    assert small(packed) < 0.6 * small(real_payload)


def test_webgl_scripts_only_above_the_threshold(fixture):
    sigma_head = VENDOR_SIGMA.read_text(encoding="utf-8")[:300]
    graphology_head = VENDOR_GRAPHOLOGY.read_text(encoding="utf-8")[:300]
    small = render_html(payload(fixture))
    assert sigma_head not in small and graphology_head not in small
    assert small.count("</script>") == 5
    server = render_html(mode="server")
    assert sigma_head in server and graphology_head in server
    assert json.loads(re.search(r'id="kg-config">(.*?)</script>', server).group(1))["webgl_threshold"] == WEBGL_THRESHOLD


def _big_details(n: int) -> dict:
    """n details with varied text (a quote each), more than DETAILS_GZIP_MIN bytes as JSON."""
    return {f"{ID}d-{i}": {"iri": f"{ID}d-{i}", "label_zh": f"节点{i}", "label_en": f"node {i}", "types": ["yf:Measure"],
                           "out": [{"predicate": "https://w3id.org/yufeng-kg/ontology#period", "value": str(2000 + i % 30),
                                    "evidence": [{"start": i, "end": i + 9, "quote": f"第{i}段\n引文 </script> \u2028"}]}],
                           "incoming": [], "external": []} for i in range(n)}


def test_details_are_gzipped_only_when_big_and_read_back_whole():
    small = {HUB: {"iri": HUB, "label_zh": "甲", "out": []}}
    text, encoding = encode_details(small)
    assert encoding is None and json.loads(text) == small
    big = _big_details(3000)
    assert len(json.dumps(big, ensure_ascii=False).encode()) > DETAILS_GZIP_MIN
    text, encoding = encode_details(big)
    assert encoding == "gzip-base64"
    assert re.fullmatch(r"[A-Za-z0-9+/=]+", text)  # nothing in it can end the script element
    assert len(text) < len(json.dumps(big, ensure_ascii=False).encode()) / 4
    assert decode_details(text, encoding) == big  # newlines and U+2028 inside strings survive the lines format
    assert encode_details(big) == (text, encoding)  # deterministic: same input, same bytes


def test_big_page_carries_gzipped_details_and_only_the_webgl_renderer():
    n = WEBGL_THRESHOLD + 1
    nodes = [{"id": f"{ID}d-{i}", "label_zh": f"节点{i}", "label_en": f"node {i}", "pinyin": None, "aliases": [],
              "types": ["yf:Measure"], "group": "yf:Measure", "size": 10, "community": i // 50, "external": False,
              "keys": ""} for i in range(n)]
    data = {"nodes": nodes, "edges": [], "details": _big_details(n), "overview": None, "sources": {},
            "legend": [{"group": "yf:Measure", "label_zh": "举措", "label_en": "measure", "color": "#e07b00", "shape": "dot",
                        "count": n, "family": "measures"}],
            "meta": {"title": "big", "hidden_groups": []}, "context": {"nodes": [], "edges": []}}
    html = render_html(json.loads(json.dumps(data)))
    assert 'id="kg-details" data-encoding="gzip-base64"' in html
    assert "第7段" not in html  # the quotes travel compressed
    back = read_page(html)
    assert back["details"] == data["details"]
    assert [x["id"] for x in back["nodes"]] == [x["id"] for x in nodes]
    vis_head = VENDOR_JS.read_text(encoding="utf-8")[:300]
    assert vis_head not in html and VENDOR_SIGMA.read_text(encoding="utf-8")[:300] in html
    assert vis_head in render_html(payload(fixture_store()))  # a small page draws with vis-network


def test_charts_in_details_reuse_the_explorers_labels(real_store, monkeypatch):
    """The panel's chart is kg.views.chart's own SVG, drawn with the explorer's label index
    instead of a new Describer (and label index over the whole store) per chart."""
    chart = pytest.importorskip("kg.views.chart")
    import kg.read.describe as describe

    gdp = ID + "gdp"
    expected = chart.observation_chart_svg(real_store, gdp)
    assert expected and "<svg" in expected
    ex = Explorer(real_store)
    ex.describer  # noqa: B018 - built before counting
    built = []

    class Counting(describe.Index):
        def __init__(self, *a, **k):
            built.append(1)
            super().__init__(*a, **k)

    monkeypatch.setattr(describe, "Index", Counting)
    assert ex.detail(gdp)["chart_svg"] == expected
    assert built == []


def test_charts_are_read_from_the_cache_when_their_data_is_the_same(real_store, tmp_path, monkeypatch):
    """`kg viz` keeps the observation charts it drew under build/cache/charts, keyed by their
    data: the next page reads them (the same bytes as a fresh drawing) instead of drawing again,
    and a chart whose data changed is drawn anew."""
    chart = pytest.importorskip("kg.views.chart")
    gdp = ID + "gdp"
    fresh = chart.observation_chart_svg(real_store, gdp)
    cache = tmp_path / "charts"
    first = Explorer(real_store, chart_cache=cache).detail(gdp)["chart_svg"]
    assert first == fresh
    assert len(list(cache.glob("*.svg"))) == 1

    def no_drawing(*a, **k):
        raise AssertionError("drawn again")

    monkeypatch.setattr(chart, "_svg", no_drawing)
    assert Explorer(real_store, chart_cache=cache).detail(gdp)["chart_svg"] == fresh
    rows = [{"label": "a", "value": 1.0}]
    with pytest.raises(AssertionError, match="drawn again"):  # other data: not in the cache
        chart.draw_bars(rows, title="t", lang="en", cache=cache)
