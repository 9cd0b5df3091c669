"""External identifiers: link tables, the links graph, its check, the report, Wikidata proposals,
and the VoID/DCAT description. Offline: the Wikidata client runs against saved responses."""
from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from kg.publish import link
from kg.cli import main
from kg.errors import InputError, KGError
from kg.namespaces import GEO, ID, LINKS_GRAPH, VOID, YF

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHECK = ROOT / "queries" / "checks" / "unverified-external-id.rq"
XSD_STRING = URIRef("http://www.w3.org/2001/XMLSchema#string")  # not rdflib's closed XSD (pytest probes globals)
XSD_ANYURI = URIRef("http://www.w3.org/2001/XMLSchema#anyURI")
HEADER = "entity\tscheme\tidentifier\tconfidence\tevidence\n"
# Fictional identifiers for the made-up entities of the mini dataset (never real links).
MINI_LINKS = HEADER + (
    "shili-qu\twikidata\tQ999999999\tverified\ttest fixture: fictional\n"
    "shili-qu\tgb2260\t999999\tverified\ttest fixture: fictional\n"
    "shili-qu\tcoordinates\t24.5 109.5\tverified\ttest fixture: fictional\n"
    "shili-qu\tnbs-12\t999999000000\tlikely\ttest fixture: one third-party source\n"
    "shili-gongsi\twebsite\thttps://example.invalid\tlikely\ttest fixture: unconfirmed\n"
    "shili-gongsi\thkex\t09999\tverified\ttest fixture: fictional\n"
)


def write_links(mini: Path, text: str = MINI_LINKS) -> Path:
    path = mini / "data" / "links" / "external-ids.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def build_mini(mini: Path, out: Path) -> int:
    return main(["build", "-q", "--no-reason", "--data", str(mini / "data"), "--sources", str(mini / "sources"),
                 "--out", str(out)])


def check_rows(store: ox.Store) -> list[dict[str, str]]:
    result = store.query(CHECK.read_text(encoding="utf-8"), use_default_graph_as_union=True)
    return [{v.value: sol[v].value for v in result.variables} for sol in result]


# -- tables ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message, line, field", [
    ("entity\tscheme\tidentifier\n", "lacks column(s) confidence, evidence", 1, None),
    (HEADER + "shili-qu\twikidata\tQ1\tcertain\tx\n", "confidence 'certain'", 2, "confidence"),
    (HEADER + "shili-qu\tosm\t123\tverified\tx\n", "unknown scheme 'osm'", 2, "scheme"),
    (HEADER + "shili-qu\twikidata\tq148\tverified\tx\n", "not a well-formed wikidata", 2, "identifier"),
    (HEADER + "shili-qu\tgb2260\t45020\tverified\tx\n", "not a well-formed gb2260", 2, "identifier"),
    (HEADER + "# comment\nshili-qu\tcoordinates\t124.3 109.4\tverified\tx\n", "WGS84", 3, "identifier"),
    (HEADER + "shili-qu\twikidata\tQ1\tverified\t\n", "needs its evidence", 2, "evidence"),
    (HEADER + "shili-qu\twikidata\tQ1\tverified\tx\textra\n", "6 cells but the header has 5", 2, None),
])
def test_bad_table_names_file_line_and_field(tmp_path, text, message, line, field):
    path = tmp_path / "t.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        link.read_table(path)
    assert message in str(err.value)
    assert err.value.position.file == str(path)
    assert err.value.position.line == line
    assert err.value.position.field == field


def test_only_verified_and_accepted_rows_make_triples(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text(HEADER + "a\twikidata\tQ1\tverified\te\nb\twikidata\tQ2\taccepted\te\n"
                    "c\twikidata\tQ3\tlikely\t\nd\twikidata\tQ4\tproposed\t\ne\twikidata\tQ5\trejected\t\n"
                    "f\twikidata\t\tunknown\tnothing found\n", encoding="utf-8")
    g = link.links_graph(link.read_table(path))
    assert set(g) == {(ID.a, SKOS.exactMatch, URIRef("http://www.wikidata.org/entity/Q1")),
                      (ID.b, SKOS.exactMatch, URIRef("http://www.wikidata.org/entity/Q2"))}


def test_each_scheme_has_its_property_and_datatype(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text(HEADER + "x\tgeonames\t1803300\tverified\te\nx\tgb2260\t450200\tverified\te\n"
                    "x\twebsite\thttp://www.liuzhou.gov.cn\tverified\te\nx\tcoordinates\t24.32778 109.42778\tverified\te\n"
                    "y\tiso3166-2\tCN-GX\tverified\te\nz\thkex\t06896\tverified\te\n", encoding="utf-8")
    g = link.links_graph(link.read_table(path), labels={"x": {"zh": "柳州市", "en": "Liuzhou"}})
    assert (ID.x, SKOS.exactMatch, URIRef("https://sws.geonames.org/1803300/")) in g
    assert (ID.x, YF.gb2260Code, Literal("450200", datatype=XSD_STRING)) in g
    assert (ID.x, URIRef("http://schema.org/url"), Literal("http://www.liuzhou.gov.cn", datatype=XSD_ANYURI)) in g
    assert (ID.z, YF.hkexCode, Literal("06896", datatype=XSD_STRING)) in g  # leading zero kept
    assert (ID.y, YF.iso3166Code, Literal("CN-GX", datatype=XSD_STRING)) in g
    geom = link.geometry_iri("x")
    assert (ID.x, GEO.hasGeometry, geom) in g and (geom, RDF.type, GEO.Geometry) in g
    assert g.value(geom, GEO.asWKT) == Literal("POINT(109.42778 24.32778)", datatype=GEO.wktLiteral)  # lon lat
    assert Literal("柳州市 坐标点", lang="zh") in set(g.objects(geom, URIRef("http://www.w3.org/2000/01/rdf-schema#label")))


def test_conflicting_and_dangling_rows_are_input_errors(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text(HEADER + "x\twikidata\tQ1\tverified\te\nx\twikidata\tQ2\taccepted\te\n", encoding="utf-8")
    with pytest.raises(InputError, match="two wikidata identifiers") as err:
        link.links_graph(link.read_table(path))
    assert err.value.position.line == 3
    path.write_text(HEADER + "nowhere\twikidata\tQ1\tverified\te\n", encoding="utf-8")
    with pytest.raises(InputError, match="dangling entity 'nowhere'"):
        link.links_graph(link.read_table(path), known={"x"})


def test_build_states_verified_links_and_keeps_likely_ones_out(mini, tmp_path):
    write_links(mini)
    out = tmp_path / "out"
    assert build_mini(mini, out) == 0
    store = ox.Store()
    store.load(path=str(out / "kg.nq"), format=ox.RdfFormat.N_QUADS)
    links = {(q.subject.value, q.predicate.value, q.object.value) for q in store.quads_for_pattern(None, None, None, ox.NamedNode(str(LINKS_GRAPH)))}
    assert (str(ID["shili-qu"]), str(SKOS.exactMatch), "http://www.wikidata.org/entity/Q999999999") in links
    assert (str(ID["shili-gongsi"]), str(YF.hkexCode), "09999") in links
    nq = (out / "kg.nq").read_text(encoding="utf-8")
    assert "999999000000" not in nq and "example.invalid" not in nq  # likely rows: never stated
    assert check_rows(store) == []


def test_unverified_identifier_in_the_registry_fails_the_build(mini, tmp_path, capsys):
    write_links(mini)
    reg = mini / "data" / "entities.yaml"
    reg.write_text(reg.read_text(encoding="utf-8").replace(
        "    pinyin: Shìlì Qū\n", "    pinyin: Shìlì Qū\n    nbsCode: '999999000000'\n"), encoding="utf-8")
    assert build_mini(mini, tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert "unverified-external-id" in err and "999999000000" in err


def test_check_query_flags_the_breaking_fixture():
    store = ox.Store()
    store.load(path=str(FIXTURES / "checks" / "unverified-external-id.trig"), format=ox.RdfFormat.TRIG)
    rows = check_rows(store)
    flagged = {(r["entity"].rsplit("/", 1)[-1], r["property"].rsplit("#", 1)[-1].rsplit("/", 1)[-1], r["value"]) for r in rows}
    assert flagged == {
        ("shili-qu", "exactMatch", "http://www.wikidata.org/entity/Q999999999"),
        ("shili-qu", "closeMatch", "https://sws.geonames.org/999999999/"),
        ("shili-qu", "gb2260Code", "450203"),
        ("shili-qu", "nbsCode", "450203000000"),
        ("shili-gongsi", "url", "https://example.invalid"),
    }


@pytest.mark.skipif(not (ROOT / "data" / "links" / "external-ids.tsv").is_file() or not (ROOT / "data" / "entities.yaml").is_file(),
                    reason="the curated data (data/) is not in this checkout")
def test_real_build_holds_the_verified_identifiers_and_no_likely_one(real_store):
    def has(s, p, o):
        return any(True for _ in real_store.quads_for_pattern(ox.NamedNode(str(ID[s])), ox.NamedNode(str(p)), o))
    assert has("liuzhou-shi", SKOS.exactMatch, ox.NamedNode("http://www.wikidata.org/entity/Q38968"))
    assert has("guangxi", YF.gb2260Code, ox.Literal("450000"))
    assert has("yufeng-qu", YF.gb2260Code, ox.Literal("450203"))
    # the HKEX code belongs to the listed holding group, not to the enterprise the text names
    assert has("jinsangzi-konggu-jituan", YF.hkexCode, ox.Literal("06896"))
    assert not has("jinsangzi", YF.hkexCode, None)
    assert not any(True for _ in real_store.quads_for_pattern(None, None, ox.Literal("450203000000")))
    assert not has("yufeng-qu", SKOS.exactMatch, None)  # no verified QID exists for 鱼峰区
    assert check_rows(real_store) == []


# -- the report ------------------------------------------------------------------------------

def test_link_report_in_json_csv_and_table(mini, tmp_path, capsys):
    write_links(mini)
    out = tmp_path / "out"
    assert build_mini(mini, out) == 0
    capsys.readouterr()
    assert main(["link", "--build", str(out), "--data", str(mini / "data"), "--format", "json"]) == 0
    rows = {r["entity"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["shili-qu"]["identifiers"] == {"wikidata": ["Q999999999"], "gb2260": ["999999"],
                                              "coordinates": ["POINT(109.5 24.5)"]}
    assert rows["shili-qu"]["unconfirmed"] == ["nbs-12:999999000000 (likely)"]
    assert rows["gdp"]["identifiers"] == {}
    assert main(["link", "--build", str(out), "--data", str(mini / "data"), "--format", "csv", "--missing"]) == 0
    csv_out = capsys.readouterr().out.splitlines()
    assert csv_out[0].startswith("entity,label_zh,label_en,types,wikidata")
    assert [line.split(",")[0] for line in csv_out[1:]] == ["gdp", "zhongguo"]
    assert main(["link", "--build", str(out), "--data", str(mini / "data")]) == 0
    assert "2 of 4 registry entities have at least one external identifier" in capsys.readouterr().out


# -- Wikidata proposals (offline) ------------------------------------------------------------

def saved(name: str):
    data = json.loads((FIXTURES / "wikidata" / name).read_text(encoding="utf-8"))
    calls = []

    def fetch(url, params):
        calls.append((url, dict(params)))
        return data
    fetch.calls = calls
    return fetch


def test_search_client_reads_wikidatas_format():
    fetch = saved("wbsearchentities-liuzhou.json")
    hits = link.search_wikidata("柳州市", fetch=fetch)
    assert [(c.qid, c.label, c.match_type) for c in hits] == [("Q38968", "柳州市", "label")]  # the property is skipped
    url, params = fetch.calls[0]
    assert url == "https://www.wikidata.org/w/api.php"
    assert params["action"] == "wbsearchentities" and params["search"] == "柳州市" and params["language"] == "zh"
    assert link.search_wikidata("示例区", fetch=saved("wbsearchentities-empty.json")) == []
    with pytest.raises(KGError, match="param-missing"):
        link.search_wikidata("x", fetch=saved("wbsearchentities-error.json"))


def test_propose_writes_candidates_and_keeps_reviewed_rows(tmp_path):
    review = tmp_path / "links" / link.REVIEW_FILE
    entities = [link.EntityLinks(str(ID["liuzhou-shi"]), ["yf:PrefectureCity"], "柳州市", "Liuzhou"),
                link.EntityLinks(str(ID["guangxi"]), ["yf:ProvincialDivision"], "广西壮族自治区", "Guangxi",
                                 ids={"wikidata": ["Q15176"]})]
    rows = link.propose(entities, [], str(review), fetch=saved("wbsearchentities-liuzhou.json"))
    assert [(r["entity"], r["identifier"], r["confidence"]) for r in rows] == [("liuzhou-shi", "Q38968", "proposed")]
    link.write_review(review, rows)
    parsed = link.read_table(review)
    assert [(r.entity, r.identifier, r.confidence, r.in_graph) for r in parsed] == [("liuzhou-shi", "Q38968", "proposed", False)]
    assert link.links_graph(parsed).__len__() == 0  # proposed: not in the graph
    # a reviewer accepts it: the next proposal keeps the row and does not search that entity again
    text = review.read_text(encoding="utf-8").replace("\tproposed\t\t", "\taccepted\titem label and location match (test)\t")
    review.write_text(text, encoding="utf-8")
    accepted = link.read_table(review)
    fetch = saved("wbsearchentities-liuzhou.json")
    again = link.propose(entities, accepted, str(review), fetch=fetch)
    assert fetch.calls == []
    assert [(r["identifier"], r["confidence"]) for r in again] == [("Q38968", "accepted")]
    assert (ID["liuzhou-shi"], SKOS.exactMatch, URIRef("http://www.wikidata.org/entity/Q38968")) in link.links_graph(accepted)


def test_rejected_candidates_are_not_proposed_again(tmp_path):
    review = tmp_path / link.REVIEW_FILE
    review.write_text(HEADER.rstrip("\n") + "\tlabel_zh\nliuzhou-shi\twikidata\tQ38968\trejected\tnot this one\t柳州市\n",
                      encoding="utf-8")
    entities = [link.EntityLinks(str(ID["liuzhou-shi"]), [], "柳州市", "Liuzhou")]
    rows = link.propose(entities, link.read_table(review), str(review), fetch=saved("wbsearchentities-liuzhou.json"))
    assert [(r["identifier"], r["confidence"]) for r in rows] == [("Q38968", "rejected")]


# -- VoID / DCAT -----------------------------------------------------------------------------

def test_void_describes_the_build(mini, tmp_path):
    write_links(mini)
    out = tmp_path / "out"
    assert build_mini(mini, out) == 0
    g = Graph().parse(out / "void.ttl", format="turtle")
    ds = URIRef("https://w3id.org/yufeng-kg/dataset")
    nq = [line for line in (out / "kg.nq").read_text(encoding="utf-8").splitlines() if line.strip()]
    # the union default graph holds a triple once however many graphs state it (issue 9 point 8)
    distinct = {(q.subject, q.predicate, q.object) for q in ox.parse(path=str(out / "kg.nq"), format=ox.RdfFormat.N_QUADS)}
    assert len(distinct) < len(nq)
    assert g.value(ds, VOID.triples).toPython() == len(distinct)
    assert {l.language for l in g.objects(ds, URIRef("http://purl.org/dc/terms/title"))} == {"zh", "en"}
    assert g.value(ds, URIRef("http://purl.org/dc/terms/license")) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert g.value(ds, VOID.sparqlEndpoint) == URIRef("http://127.0.0.1:8000/sparql")
    assert URIRef("http://127.0.0.1:8000/dumps/kg.nq") in set(g.objects(ds, VOID.dataDump))
    sizes = {str(ls).rsplit("/", 1)[-1]: g.value(ls, VOID.triples).toPython() for ls in g.subjects(RDF.type, VOID.Linkset)}
    assert sizes == {"wikidata": 1, "geonames": 0}
    classes = {g.value(p, VOID["class"]): g.value(p, VOID.entities).toPython() for p in g.objects(ds, VOID.classPartition)}
    assert classes[YF.District] == 1 and classes[GEO.Geometry] == 1
    props = {g.value(p, VOID.property): g.value(p, VOID.triples).toPython() for p in g.objects(ds, VOID.propertyPartition)}
    assert sum(props.values()) == len(distinct)
    assert props[SKOS.exactMatch] >= 1
