"""The explorer's payload and page (fast, no browser): contract shapes, counts, escaping, CLI."""
from __future__ import annotations

import json
import re

import pytest

from kg.read.analytics import analyse, top
from kg.cli import main
from kg.errors import InputError
from kg.read.network import to_networkx
from kg.views.viz import Explorer, payload, render_html, write_html

from .vizfixture import EVIL, EVIL_IRI, HUB, MEMBERS, QUOTE, fixture_store

JINSANGZI = "https://w3id.org/yufeng-kg/id/jinsangzi"
NODE_KEYS = {"id", "label_zh", "label_en", "pinyin", "aliases", "types", "group", "size", "community", "external"}
EDGE_KEYS = {"from", "to", "predicate", "label_zh", "label_en", "inferred"}
LEGEND_KEYS = {"group", "label_zh", "label_en", "color", "shape", "count"}


@pytest.fixture(scope="module")
def fixture():
    return fixture_store()


@pytest.fixture(scope="module")
def real_payload(real_store):
    return payload(real_store)


def embedded_data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="kg-data">(.*?)</script>', html, re.S)
    assert m, "no kg-data block"
    return json.loads(m.group(1))


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
    assert set(detail) == {"iri", "label_zh", "label_en", "types", "out", "incoming", "external"}
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
    assert html.count("</script>") == 4
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
    data = embedded_data(out.read_text(encoding="utf-8"))
    assert JINSANGZI in {n["id"] for n in data["nodes"]}
    capsys.readouterr()
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
