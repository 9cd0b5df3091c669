"""`kg serve` in-process through its ASGI app: the SPARQL 1.1 Protocol, content negotiation,
Linked Data pages, the explorer API and hostile input."""
from __future__ import annotations

import io
import json
import re
import shutil
import threading
import warnings
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.pipeline.evidence import readable
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.query import Result

from kg.server import conneg
from kg.server import sparql as sp
from kg.server.serve import Settings, create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

YF = "https://w3id.org/yufeng-kg/ontology#"
ID = "https://w3id.org/yufeng-kg/id/"
JINSANGZI = ID + "jinsangzi"
LABELS = f"""SELECT ?s ?l WHERE {{ <{JINSANGZI}> <http://www.w3.org/2000/01/rdf-schema#label> ?l BIND(<{JINSANGZI}> AS ?s) }}
ORDER BY ?l"""
CONSTRUCT = f"CONSTRUCT {{ <{JINSANGZI}> ?p ?o }} WHERE {{ <{JINSANGZI}> ?p ?o }}"
HOSTILE_LABEL = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def client(real_build):
    return TestClient(create_app(real_build, Settings()))


@pytest.fixture(scope="module")
def expected_labels(real_store):
    rows = real_store.query(LABELS, use_default_graph_as_union=True)
    return sorted((r["s"].value, r["l"].value, r["l"].language) for r in rows)


def rows_of(result: Result) -> list[tuple]:
    return sorted((str(r["s"]), str(r["l"]), getattr(r["l"], "language", None)) for r in result)


# ----- content negotiation --------------------------------------------------------------------

def test_accept_parser_reads_q_values_and_parameters():
    ranges = conneg.parse_accept('text/html;level=1;q=0.7, application/json ; q=0.25, */*;q=0.1, bad, ;q=1')
    assert [(r.type, r.subtype, r.q) for r in ranges] == [("text", "html", 0.7), ("application", "json", 0.25),
                                                         ("*", "*", 0.1)]
    assert ranges[0].params == (("level", "1"),)


@pytest.mark.parametrize("accept, offers, chosen", [
    (None, ["text/turtle", "application/ld+json"], "text/turtle"),
    ("", ["text/turtle", "application/ld+json"], "text/turtle"),
    ("application/ld+json", ["text/turtle", "application/ld+json"], "application/ld+json"),
    # the most specific range sets the quality: turtle 0.2 loses to json-ld via */* 0.5
    ("text/turtle;q=0.2, text/*;q=0.9, */*;q=0.5", ["text/turtle", "application/ld+json"], "application/ld+json"),
    ("text/*;q=0.9, application/ld+json;q=0.8", ["application/ld+json", "text/turtle"], "text/turtle"),
    # equal quality: the server's order decides
    ("application/ld+json, text/turtle", ["text/turtle", "application/ld+json"], "text/turtle"),
    # combined headers as real clients send them
    ("application/sparql-results+json,application/json;q=0.9,*/*;q=0.1",
     sp.RESULT_TYPES, "application/sparql-results+json"),
    ("application/sparql-results+xml, text/csv;q=0.5, */*;q=0.1", sp.RESULT_TYPES, "application/sparql-results+xml"),
    ("text/csv;q=1.0, application/sparql-results+json;q=0.3", sp.RESULT_TYPES, "text/csv"),
    ("*/*", sp.RESULT_TYPES, "application/sparql-results+json"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", ["text/html", "text/turtle"], "text/html"),
    ("application/json, text/turtle;q=0", ["text/turtle", "application/json"], "application/json"),
])
def test_negotiate_honours_q_values_wildcards_and_server_order(accept, offers, chosen):
    assert conneg.negotiate(accept, offers) == chosen


@pytest.mark.parametrize("accept", ["image/png", "text/turtle;q=0, */*;q=0", "text/*;q=0"])
def test_negotiate_raises_when_nothing_fits(accept):
    with pytest.raises(conneg.NotAcceptable):
        conneg.negotiate(accept, ["text/turtle", "text/html"] if "text" in accept else ["application/ld+json"])


# ----- the protocol ---------------------------------------------------------------------------

@pytest.mark.parametrize("accept, fmt", [
    ("application/sparql-results+json", "json"),
    ("application/sparql-results+xml", "xml"),
    ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"),
])
def test_select_in_every_format_parses_back(client, expected_labels, accept, fmt):
    r = client.get("/sparql", params={"query": LABELS}, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(accept)
    assert r.headers["vary"] == "Accept"
    result = Result.parse(io.BytesIO(r.content), format=fmt)
    got = rows_of(result)
    if fmt == "csv":  # CSV keeps values only, no language tags
        assert [(s, l) for s, l, _ in got] == [(s, l) for s, l, _ in expected_labels]
    else:
        assert got == expected_labels
    assert ("金嗓子" in r.content.decode("utf-8"))


def test_select_json_matches_the_store(client, real_store):
    # the HKEX code is the listed holding group's (金嗓子控股集团), not the enterprise's
    q = f"SELECT ?p ?o WHERE {{ <{ID}jinsangzi-konggu-jituan> ?p ?o }}"
    r = client.get("/sparql", params={"query": q})
    data = r.json()
    assert data["head"]["vars"] == ["p", "o"]
    direct = {(x["p"].value, x["o"].value) for x in real_store.query(q, use_default_graph_as_union=True)}
    assert {(b["p"]["value"], b["o"]["value"]) for b in data["results"]["bindings"]} == direct
    typed = [b["o"] for b in data["results"]["bindings"] if b["o"]["value"] == "06896"]
    assert typed == [{"type": "literal", "value": "06896"}]  # xsd:string has no datatype key


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/csv", "text/tab-separated-values"])
def test_ask(client, accept):
    for query, answer in ((f"ASK {{ <{JINSANGZI}> ?p ?o }}", True), ("ASK { <urn:nothing> ?p ?o }", False)):
        r = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
        assert r.status_code == 200
        if accept.endswith("json"):
            assert r.json()["boolean"] is answer
        elif accept.endswith("xml"):
            assert Result.parse(io.BytesIO(r.content), format="xml").askAnswer is answer
        else:
            assert r.text.split()[-1] == str(answer).lower()


@pytest.mark.parametrize("accept, fmt", [
    ("text/turtle", "turtle"),
    ("application/n-triples", "nt"),
    ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "xml"),
])
def test_construct_in_every_format_parses_back(client, real_store, accept, fmt):
    r = client.post("/sparql", data={"query": CONSTRUCT}, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(accept)
    g = Graph().parse(data=r.content, format=fmt)
    assert (URIRef(JINSANGZI), RDFS.label, Literal("金嗓子", lang="zh")) in g
    assert len(g) == len(list(real_store.query(CONSTRUCT, use_default_graph_as_union=True)))


def test_describe(client):
    r = client.get("/sparql", params={"query": f"DESCRIBE <{JINSANGZI}>"}, headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    assert (URIRef(JINSANGZI), RDF.type, URIRef(YF + "Enterprise")) in Graph().parse(data=r.text, format="turtle")


def test_direct_post_and_form_post_agree(client):
    direct = client.post("/sparql", content=LABELS.encode(), headers={"Content-Type": "application/sparql-query"})
    form = client.post("/sparql", data={"query": LABELS})
    get = client.get("/sparql", params={"query": LABELS})
    assert direct.status_code == form.status_code == get.status_code == 200
    assert direct.json() == form.json() == get.json()


@pytest.mark.parametrize("accept, chosen", [
    ("application/sparql-results+xml;q=0.9, application/sparql-results+json", "application/sparql-results+json"),
    ("text/csv;q=0.5, */*;q=0.1", "text/csv"),
    ("text/*", "text/csv"),
    ("application/json", "application/json"),
    # rdflib SPARQLStore's default (a mix of result and graph types)
    ("application/sparql-results+xml, application/rdf+xml", "application/sparql-results+xml"),
])
def test_combined_accept_headers(client, accept, chosen):
    r = client.get("/sparql", params={"query": LABELS}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == chosen


def test_406_when_no_format_fits(client):
    r = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "text/turtle"})
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.text
    r = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": "text/csv"})
    assert r.status_code == 406
    r = client.get("/id/jinsangzi", headers={"Accept": "image/png"})
    assert r.status_code == 406


def test_format_parameter_overrides_accept(client):
    r = client.get("/sparql", params={"query": LABELS, "format": "csv"}, headers={"Accept": "application/json"})
    assert r.headers["content-type"].startswith("text/csv")
    r = client.get("/sparql", params={"query": CONSTRUCT, "format": "nt"})
    assert r.headers["content-type"].startswith("application/n-triples")
    r = client.get("/sparql", params={"query": LABELS, "format": "pdf"})
    assert r.status_code == 400 and "unknown format" in r.text


def test_service_description(client):
    r = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = Graph().parse(data=r.text, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    service = next(g.subjects(RDF.type, URIRef(sd + "Service")))
    # the endpoint comes from the server's own address, never from the request's Host header
    assert str(g.value(service, URIRef(sd + "endpoint"))) == "http://127.0.0.1:8000/sparql"
    forged = client.get("/sparql", headers={"Accept": "text/turtle", "Host": "evil.example"})
    assert "evil.example" not in forged.text
    assert (service, URIRef(sd + "supportedLanguage"), URIRef(sd + "SPARQL11Query")) in g
    assert (service, URIRef(sd + "feature"), URIRef(sd + "UnionDefaultGraph")) in g
    assert len(set(g.objects(None, URIRef(sd + "resultFormat")))) == 8
    r = client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert len(Graph().parse(data=r.text, format="json-ld")) == len(g)
    r = client.get("/sparql", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/query"


def test_cors_and_security_headers(client):
    r = client.get("/sparql", params={"query": LABELS}, headers={"Origin": "http://elsewhere.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    pre = client.options("/sparql", headers={"Origin": "http://elsewhere.example",
                                             "Access-Control-Request-Method": "POST",
                                             "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 204
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "Content-Type" in pre.headers["access-control-allow-headers"]
    page = client.get("/id/jinsangzi")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"]


def test_row_cap_truncates_and_says_so(real_build):
    c = TestClient(create_app(real_build, Settings(max_rows=5)))
    r = c.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert len(r.json()["results"]["bindings"]) == 5
    assert r.headers["x-sparql-truncated"] == "true" and r.headers["x-sparql-maxrows"] == "5"
    r = c.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 5"})
    assert "x-sparql-truncated" not in r.headers
    r = c.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "application/n-triples"})
    assert len(r.text.strip().splitlines()) == 5 and r.headers["x-sparql-truncated"] == "true"


EDGE_TERMS = """SELECT ?a ?b ?d ?e WHERE {
  VALUES (?a ?b) { ("x\\u0001y\\"\\\\/\\u2028\\u007f\\t\\n中"@zh-Hans 1.50) (UNDEF "2"^^<http://example.org/dt>)
                   (<http://e.org/é> UNDEF) }
  BIND(<<( <http://a> <http://b> "c" )>> AS ?d) BIND(1e3 AS ?e) }"""


def _worker_job(text: str, media_type: str = "application/sparql-results+json", max_rows: int = 10000) -> dict:
    return {"text": text, "admitted": sp.check_query(text), "media_type": media_type, "max_rows": max_rows,
            "timeout": 30}


def test_results_json_written_by_oxigraph_is_the_python_writers_bytes(real_store):
    from kg.server.serve import examples
    import time as _time

    local = [e.text for e in examples() if "SERVICE" not in e.text.upper()]  # federation examples reach out
    texts = local + [EDGE_TERMS, LABELS.replace("ORDER BY ?l", "")]
    native_count = 0
    for text in texts:
        job = _worker_job(text)
        native = sp._answer_natively(real_store, job)
        outcome = sp.execute(real_store, text, deadline=_time.monotonic() + 30, max_rows=10000,
                             admitted=job["admitted"])
        if native is None:  # an outer ORDER BY sorted in Python, or not a SELECT
            assert job["admitted"].order is not None or job["admitted"].form != "SELECT", text
            continue
        native_count += 1
        assert native[2] == sp.results_json(outcome), text
    assert native_count >= len(texts) // 2


def test_results_json_keeps_a_literals_direction_on_either_path(real_store):
    import time as _time

    text = 'SELECT ?x WHERE { VALUES ?x { "a"@ar--rtl "b"@en } }'
    job = _worker_job(text)
    native = sp._answer_natively(real_store, job)[2]
    python = sp.results_json(sp.execute(real_store, text, deadline=_time.monotonic() + 30, max_rows=10,
                                        admitted=job["admitted"]))
    assert python == native
    assert json.loads(python)["results"]["bindings"][0]["x"] == {"type": "literal", "value": "a", "xml:lang": "ar",
                                                                 "its:dir": "rtl"}


def test_results_json_natively_falls_back_where_it_must(real_store, monkeypatch):
    everything = "SELECT * WHERE { ?s ?p ?o }"
    assert sp._answer_natively(real_store, _worker_job(everything, "text/csv")) is None
    assert sp._answer_natively(real_store, _worker_job(LABELS)) is None  # ORDER BY done in Python
    assert sp._answer_natively(real_store, _worker_job("SELECT * WHERE { ?s ?p }")) is None
    # over the row cap: the Python reader cuts it to max_rows and marks it
    assert sp._answer_natively(real_store, _worker_job(everything, max_rows=7)) is None
    status, _, body, headers = sp.answer_in_worker(real_store, _worker_job(everything, max_rows=7))
    assert len(json.loads(body)["results"]["bindings"]) == 7 and headers["X-SPARQL-Truncated"] == "true"
    # at the row cap exactly: native, whole, not marked
    status, _, body, headers = sp._answer_natively(real_store, _worker_job(everything + " LIMIT 7", max_rows=7))
    assert len(json.loads(body)["results"]["bindings"]) == 7 and "X-SPARQL-Truncated" not in headers
    # over the byte cap: the Python reader answers instead, with the whole answer
    monkeypatch.setattr(sp, "NATIVE_CAP", 1000)
    assert sp._answer_natively(real_store, _worker_job(everything, max_rows=50)) is None
    status, _, body, headers = sp.answer_in_worker(real_store, _worker_job(everything, max_rows=50))
    assert status == 200 and len(json.loads(body)["results"]["bindings"]) == 50
    # a long answer still being written at the deadline stops there, in the worker
    monkeypatch.setattr(sp, "NATIVE_CAP", 1 << 40)
    job = _worker_job("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }", max_rows=10**9)
    job["timeout"] = 0.2
    with pytest.raises(sp.QueryTimeout):
        sp._answer_natively(real_store, job)
    # a syntax error is reported by the ordinary path, with the user's own line and column
    with pytest.raises(sp.Refused, match=r"query:1:"):
        sp.answer_in_worker(real_store, _worker_job("SELECT * WHERE { ?s ?p }"))


def test_results_json_natively_reads_no_further_than_the_row_cap(real_store, monkeypatch):
    """Rows past max_rows are never computed, natively or not: the Python reader stops there, and
    the native writer must too (it computed every row and cut afterwards: a query whose rows past
    the cap are many or slow took seconds, or ran into the time limit, for a 200 the Python reader
    gives at once)."""
    computed = []

    def count(x):
        computed.append(x)
        return x

    def query(store, text):
        return store.query(text, custom_functions={ox.NamedNode("urn:count"): count})
    monkeypatch.setattr(sp, "_query", query)
    values = " ".join(str(i) for i in range(20000))
    text = f"SELECT ?y WHERE {{ VALUES ?x {{ {values} }} BIND(<urn:count>(?x) AS ?y) }}"
    status, _, body, headers = sp.answer_in_worker(real_store, _worker_job(text, max_rows=10))
    rows = json.loads(body)["results"]["bindings"]
    assert status == 200 and [r["y"]["value"] for r in rows] == [str(i) for i in range(10)]
    assert headers["X-SPARQL-Truncated"] == "true" and headers["X-SPARQL-MaxRows"] == "10"
    assert len(computed) < 2000, len(computed)  # ~11 read in Python, plus what one write of the writer held
    computed.clear()
    text = "SELECT ?y WHERE { VALUES ?x { 1 2 3 } BIND(<urn:count>(?x) AS ?y) }"  # under the cap: native
    assert sp._answer_natively(real_store, _worker_job(text, max_rows=10)) is not None and len(computed) == 3


def test_time_limit_gives_504(real_build):
    c = TestClient(create_app(real_build, Settings(timeout=0.05)))
    slow = "SELECT * WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"
    r = c.get("/sparql", params={"query": slow})
    assert r.status_code == 504
    assert "time limit of 0.05 s" in r.text
    # a quick query on the same server still answers
    assert c.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200


# ----- hostile input --------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o . OPTIONAL { SERVICE SILENT <http://example.org/x> { ?s ?q ?r } } }",
    "select * where { { ?s ?p ?o } union { service <http://example.org/x> { ?s ?p ?o } } }",
    "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <http://example.org/x> { ?s ?p ?o } } }",
    "SELECT * WHERE { \\u0053ERVICE <http://example.org/x> { ?s ?p ?o } }",
])
def test_service_is_refused(client, query):
    r = client.get("/sparql", params={"query": query})
    assert r.status_code == 403, r.text
    assert "SERVICE" in r.text and "--allow-federation" in r.text


@pytest.mark.parametrize("query", [
    'SELECT ?x WHERE { BIND("SERVICE <http://example.org/x> { }" AS ?x) }',
    "SELECT ?x WHERE { BIND('LOAD <http://x> ; FROM NAMED' AS ?x) }",
    "# SERVICE <http://example.org/x>\nSELECT ?x WHERE { BIND(1 AS ?x) }",
    "PREFIX service: <http://example.org/service#>\nSELECT ?x WHERE { BIND(service:from AS ?x) }",
])
def test_words_in_strings_comments_and_names_are_not_refused(client, query):
    r = client.get("/sparql", params={"query": query})
    assert r.status_code == 200, r.text
    assert len(r.json()["results"]["bindings"]) == 1


def test_federation_flag_allows_service_only():
    assert sp.check_query("SELECT * WHERE { SERVICE <http://e.example/> { ?s ?p ?o } }", allow_service=True).uses_service
    with pytest.raises(sp.Refused):
        sp.check_query("SELECT * FROM <http://e.example/g> WHERE { ?s ?p ?o }", allow_service=True)
    with pytest.raises(sp.Refused):
        sp.check_query("LOAD <http://e.example/data.ttl>", allow_service=True)


@pytest.mark.parametrize("query", [
    "LOAD <http://example.org/data.ttl>",
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "DELETE WHERE { ?s ?p ?o }",
    "DROP ALL",
    "CLEAR DEFAULT",
    "CREATE GRAPH <urn:g>",
    "PREFIX x: <urn:x#> WITH <urn:g> DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
])
def test_updates_are_refused_every_way(client, real_store, query):
    before = len(real_store)
    for r in (client.get("/sparql", params={"query": query}),
              client.post("/sparql", data={"query": query}),
              client.post("/sparql", data={"update": query}),
              client.post("/sparql", content=query, headers={"Content-Type": "application/sparql-update"}),
              client.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})):
        assert r.status_code == 403, (r.status_code, r.text)
        assert "read-only" in r.text
    assert client.post("/update", data={"update": query}).status_code in (404, 405)
    assert len(real_store) == before


@pytest.mark.parametrize("query", [
    "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "CONSTRUCT { ?s ?p ?o } FROM <https://w3id.org/yufeng-kg/graph/registry> WHERE { ?s ?p ?o }",
])
def test_from_and_from_named_are_refused(client, query):
    r = client.get("/sparql", params={"query": query})
    assert r.status_code == 403 and "FROM" in r.text


def test_protocol_dataset_parameters_are_refused(client):
    for name in ("default-graph-uri", "named-graph-uri"):
        r = client.get("/sparql", params={"query": LABELS, name: "http://example.org/g"})
        assert r.status_code == 403 and name in r.text


def test_huge_queries_get_413(client, real_build):
    huge = "SELECT * WHERE { ?s ?p ?o } #" + "x" * (70 * 1024)
    for r in (client.post("/sparql", data={"query": huge}),
              client.post("/sparql", content=huge, headers={"Content-Type": "application/sparql-query"})):
        assert r.status_code == 413 and "at most 65536 bytes" in r.text
    small = TestClient(create_app(real_build, Settings(max_query_bytes=1024)))  # URLs this long stay in httpx's limit
    long = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 2000
    assert small.get("/sparql", params={"query": long}).status_code == 413
    assert small.get("/sparql", params={"query": long[:900]}).status_code == 200


def test_bad_requests_say_what_is_wrong(client):
    r = client.get("/sparql", params={"query": "SELEKT * WHERE { ?s ?p ?o }"})
    assert r.status_code == 400 and "syntax error" in r.text
    r = client.post("/sparql", content="query=ASK{}", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and "application/sparql-query" in r.text
    r = client.post("/sparql", content="", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "no query" in r.text
    r = client.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D")
    assert r.status_code == 400 and "more than one" in r.text
    r = client.get("/sparql", params={"query": "SELECT * WHERE { " + "{ " * 400 + "?s ?p ?o" + " }" * 400 + " }"})
    assert r.status_code == 400


@pytest.mark.parametrize("path", [
    "/id/../pyproject.toml", "/id/%2e%2e/%2e%2e/pyproject.toml", "/id/..%2f..%2fpyproject.toml",
    "/id/%2E%2E%2Fserve.py", "/source/../../etc/passwd", "/source/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/static/../serve.py", "/static/%2e%2e/serve.py", "/static/%2e%2e%2fserve.py", "/static/..%2f..%2fpyproject.toml",
    "/static/vendor/yasgui/../../../serve.py", "/ontology.%2e%2e", "/id/jinsangzi/..", "/id/",
])
def test_no_path_traversal(client, path):
    r = client.get(path)
    assert r.status_code in (400, 404), (path, r.status_code)
    assert b"def create_app" not in r.content and b"[project]" not in r.content and b"root:" not in r.content


# ----- Linked Data ----------------------------------------------------------------------------

def test_entity_page_html(client):
    r = client.get("/id/jinsangzi", headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.headers["vary"] == "Accept"
    page = r.text
    assert "金嗓子" in page and "Golden Throat" in page
    assert 'href="/id/yiyao"' in page  # internal IRIs link to their local path
    assert 'href="/ontology#Enterprise"' in page
    assert 'href="/source/000_b3b90ce150a63deb"' in page  # each fact cites its document
    assert "<svg" in page  # the neighbourhood
    assert 'href="/id/jinsangzi.ttl"' in page


def test_entity_page_shows_quotes(client, real_store):
    q = f"""PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> PREFIX oa: <http://www.w3.org/ns/oa#>
    SELECT ?quote WHERE {{ ?st rdf:subject <{JINSANGZI}> ; <{YF}evidence> ?span . ?span oa:hasSelector ?q . ?q oa:exact ?quote }}"""
    quotes = [r["quote"].value for r in real_store.query(q, use_default_graph_as_union=True)]
    if not quotes:
        pytest.skip("the build has no quotes (source document not on this machine)")
    page = client.get("/id/jinsangzi").text
    # shown as readers want them: the column breaks and spacing-out removed (kg.pipeline.evidence.readable)
    assert all(readable(quote) in page for quote in quotes)


@pytest.mark.parametrize("path, headers, fmt, media_type", [
    ("/id/jinsangzi", {"Accept": "text/turtle"}, "turtle", "text/turtle"),
    ("/id/jinsangzi", {"Accept": "application/ld+json"}, "json-ld", "application/ld+json"),
    ("/id/jinsangzi", {"Accept": "application/ld+json;q=0.5, text/turtle;q=0.9"}, "turtle", "text/turtle"),
    ("/id/jinsangzi.ttl", {"Accept": "text/html"}, "turtle", "text/turtle"),
    ("/id/jinsangzi.jsonld", {}, "json-ld", "application/ld+json"),
    ("/id/jinsangzi.nt", {}, "nt", "application/n-triples"),
    ("/id/jinsangzi.rdf", {}, "xml", "application/rdf+xml"),
])
def test_entity_rdf_by_accept_and_suffix(client, path, headers, fmt, media_type):
    r = client.get(path, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media_type)
    g = Graph().parse(data=r.content, format=fmt)
    assert (URIRef(JINSANGZI), RDFS.label, Literal("金嗓子", lang="zh")) in g
    assert (URIRef(ID + "gongye-zhenxing-huizhan"), URIRef(YF + "involves"), URIRef(JINSANGZI)) in g
    # provenance travels with the data: the statements about it and their evidence spans
    statements = set(g.subjects(RDF.subject, URIRef(JINSANGZI)))
    assert statements and all(g.value(st, URIRef(YF + "evidence")) is not None for st in statements)
    assert r.headers["content-location"].startswith("/id/jinsangzi.")


def test_source_document_page(client):
    r = client.get("/source/000_b3b90ce150a63deb")
    assert r.status_code == 200 and "000_b3b90ce150a63deb" in r.text
    assert "<h1>鱼峰区2023年工作成效与2024年“四大会战”部署综述" in r.text  # its title as the heading
    r = client.get("/source/000_b3b90ce150a63deb.ttl")
    g = Graph().parse(data=r.text, format="turtle")
    assert (URIRef("https://w3id.org/yufeng-kg/source/000_b3b90ce150a63deb"), RDF.type, URIRef(YF + "SourceDocument")) in g


def test_unknown_resource_is_404(client):
    r = client.get("/id/no-such-thing")
    assert r.status_code == 404 and "no-such-thing" in r.text
    assert client.get("/id/no-such-thing.ttl").status_code == 404


def test_ontology_page_and_turtle(client):
    r = client.get("/ontology")
    assert r.status_code == 200 and r.headers["vary"] == "Accept"
    assert 'id="Enterprise"' in r.text and "企业" in r.text and "enterprise" in r.text
    assert "从事生产经营活动的公司或企业集团" in r.text  # definitions
    assert 'href="/ontology#Organization"' in r.text  # superclass link
    for resp in (client.get("/ontology", headers={"Accept": "text/turtle"}), client.get("/ontology.ttl")):
        g = Graph().parse(data=resp.text, format="turtle")
        assert (URIRef(YF + "Enterprise"), RDF.type, OWL.Class) in g
    g = Graph().parse(data=client.get("/ontology.jsonld").content, format="json-ld")
    assert (URIRef(YF + "Enterprise"), RDFS.subClassOf, URIRef(YF + "Organization")) in g
    assert client.get("/ontology.exe").status_code == 404


def test_void_missing_then_present(real_build, tmp_path):
    build = tmp_path / "b"
    shutil.copytree(real_build / "current", build,
                    ignore=shutil.ignore_patterns("store", "void.ttl", "BUILD.json"))
    c = TestClient(create_app(build, Settings(threads=1)))
    r = c.get("/.well-known/void")
    assert r.status_code == 404 and "void.ttl" in r.text
    (build / "void.ttl").write_text("<urn:d> a <http://rdfs.org/ns/void#Dataset> .\n", encoding="utf-8")
    r = TestClient(create_app(build, Settings(threads=1))).get("/.well-known/void")  # read at start
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    assert len(Graph().parse(data=r.text, format="turtle")) == 1


def test_query_page_lists_named_queries_offline(client):
    r = client.get("/query")
    assert r.status_code == 200
    page = r.text
    assert '/static/vendor/yasgui/yasgui.min.js' in page and "/static/query.js" in page
    data = json.loads(page.split('id="kg-queries">')[1].split("</script>")[0])
    assert data and all(e["query"].strip() and e["name"] for e in data)
    assert any(e["zh"] for e in data) and any(e["en"] for e in data)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing loaded from elsewhere
    for asset in ("/static/vendor/yasgui/yasgui.min.js", "/static/vendor/yasgui/yasgui.min.css", "/static/query.js",
                  "/static/vendor/yasgui/LICENSE"):
        assert client.get(asset).status_code == 200, asset


def test_example_queries_all_run(client):
    page = client.get("/query").text
    data = json.loads(page.split('id="kg-queries">')[1].split("</script>")[0])
    for e in data:
        r = client.post("/sparql", data={"query": e["query"]}, headers={"Accept": "application/sparql-results+json, text/turtle;q=0.9"})
        if sp.check_query(e["query"], allow_service=True).uses_service:  # federated: refused by default
            assert r.status_code == 403 and "--allow-federation" in r.text
            continue
        assert r.status_code == 200, (e["name"], r.text)
        if r.headers["content-type"].startswith("application/sparql-results+json"):
            assert "results" in r.json() or "boolean" in r.json(), e["name"]
        else:
            assert len(Graph().parse(data=r.text, format="turtle")), e["name"]


# ----- the explorer API -----------------------------------------------------------------------

def test_api_search(client):
    r = client.get("/api/search", params={"q": "金嗓子"})
    hits = r.json()["hits"]
    assert hits[0]["iri"] == JINSANGZI and hits[0]["score"] == 1.0
    assert set(hits[0]) == {"iri", "label_zh", "label_en", "types", "score", "matched"}
    assert client.get("/api/search", params={"q": "jinsangzi", "limit": 3}).json()["hits"][0]["iri"] == JINSANGZI
    assert client.get("/api/search").status_code == 400
    assert client.get("/api/search", params={"q": "x", "limit": "many"}).status_code == 400


def test_api_node(client, real_store):
    from dataclasses import asdict

    from kg.read.describe import Describer

    r = client.get("/api/node", params={"iri": JINSANGZI})
    assert r.status_code == 200
    assert r.json() == json.loads(json.dumps(asdict(Describer(real_store).describe(JINSANGZI))))
    assert client.get("/api/node", params={"iri": ID + "nothing-here"}).status_code == 404
    assert client.get("/api/node", params={"iri": "nope:x"}).json()["error"]
    assert client.get("/api/node").status_code == 400


def test_api_expand_pages_each_predicate(client):
    r = client.get("/api/expand", params={"iri": JINSANGZI}).json()
    groups = {g["predicate"]: g for g in r["groups"]}
    involves = groups[YF + "involves"]
    assert involves["total"] == involves["returned"] >= 2 and involves["next_offset"] is None
    assert {e["from"] for e in r["edges"] if e["predicate"] == YF + "involves"} >= {ID + "gongye-zhenxing-huizhan"}
    node_ids = {n["id"] for n in r["nodes"]} | {JINSANGZI}  # the expanded node itself is already shown
    assert all(e["from"] in node_ids and e["to"] in node_ids for e in r["edges"])
    first = client.get("/api/expand", params={"iri": JINSANGZI, "predicate": YF + "involves", "limit": 1}).json()
    assert first["groups"][0]["returned"] == 1 and first["groups"][0]["next_offset"] == 1
    second = client.get("/api/expand", params={"iri": JINSANGZI, "predicate": YF + "involves", "limit": 1,
                                               "offset": 1}).json()
    assert second["edges"] != first["edges"]
    assert client.get("/api/expand", params={"iri": JINSANGZI, "predicate": YF + "nothing"}).status_code == 404


def test_api_graph(client):
    whole = client.get("/api/graph").json()
    ids = {n["id"] for n in whole["nodes"]}
    assert JINSANGZI in ids and len(ids) > 100
    assert all(e["from"] in ids and e["to"] in ids for e in whole["edges"])
    node = next(n for n in whole["nodes"] if n["id"] == JINSANGZI)
    assert set(node) >= {"id", "label_zh", "label_en", "pinyin", "aliases", "types", "group", "size", "community",
                         "external"}
    assert {entry["group"] for entry in whole["legend"]} == {n["group"] for n in whole["nodes"]}
    assert all(entry["color"].startswith("#") and len(entry["color"]) == 7 for entry in whole["legend"])
    focus = client.get("/api/graph", params={"focus": JINSANGZI, "depth": 1}).json()
    assert JINSANGZI in {n["id"] for n in focus["nodes"]} and len(focus["nodes"]) < len(whole["nodes"])
    assert client.get("/api/graph", params={"focus": JINSANGZI, "depth": 9}).status_code == 400
    assert client.get("/api/graph", params={"focus": ID + "nothing-here"}).status_code == 404


def test_default_bindings_become_values():
    from kg.server.serve import with_bindings

    text = "PREFIX yfid: <https://w3id.org/yufeng-kg/id/>\nSELECT ?p WHERE { ?entity ?p ?o } ORDER BY ?o"
    bound = with_bindings(text, {"entity": "yfid:jinsangzi"})
    assert f"WHERE {{\n  # default binding (kg query --bind entity)\n  VALUES (?entity) {{ (<{JINSANGZI}>) }}" in bound
    assert sp.check_query(bound).form == "SELECT"
    odd = "SELECT ?p { ?entity ?p ?o }"  # no WHERE keyword: the trailing form
    assert with_bindings(odd, {"entity": "yfid:jinsangzi"}).rstrip().endswith(f"VALUES (?entity) {{ (<{JINSANGZI}>) }}")
    assert with_bindings(text, {}) == text


def test_home_page(client):
    r = client.get("/")
    assert r.status_code == 200
    try:
        from kg.views import viz  # noqa: F401
    except ImportError:  # without the explorer: a page of links
        assert 'href="/query"' in r.text and 'href="/ontology"' in r.text
        return
    config = json.loads(r.text.split('id="kg-config">')[1].split("</script>")[0])
    assert config["mode"] == "server" and config["api_base"] == "/api"
    assert '<script type="application/json" id="kg-data">' not in r.text  # the data comes from /api
    csp = r.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


# ----- labels are text, never markup ----------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory):
    from kg.pipeline.build import build

    root = tmp_path_factory.mktemp("hostile")
    mini = Path(__file__).parent / "fixtures" / "mini"
    shutil.copytree(mini, root / "mini")
    entities = root / "mini" / "data" / "entities.yaml"
    entities.write_text(entities.read_text(encoding="utf-8").replace(
        "label: {zh: 示例公司, en: Example Company}", f"label: {{zh: '{HOSTILE_LABEL}', en: '{HOSTILE_LABEL} & co'}}"),
        encoding="utf-8")
    build(root / "mini" / "data", root / "mini" / "sources", root / "build", with_reasoning=False)
    return TestClient(create_app(root / "build", Settings()))


def test_script_in_label_shows_as_text(hostile_client):
    for path in ("/id/shili-gongsi", "/id/shili-qu", "/"):
        page = hostile_client.get(path).text
        assert HOSTILE_LABEL not in page, path
        assert "<script>alert" not in page
    page = hostile_client.get("/id/shili-gongsi").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    # the JSON API carries the label as data, and JSON responses are never sniffed as HTML
    r = hostile_client.get("/api/search", params={"q": "script"})
    assert r.json()["hits"][0]["label_zh"] == HOSTILE_LABEL
    assert r.headers["content-type"] == "application/json" and r.headers["x-content-type-options"] == "nosniff"


def test_cli_serve_help_and_bad_limits(real_build, capsys):
    from kg.cli import main

    assert main(["serve", "--help"]) == 0
    assert "--allow-federation" in capsys.readouterr().out
    assert main(["serve", "--build", str(real_build), "--max-rows", "0"]) == 2


def test_checks_are_safe_under_concurrency():
    """Admission holds no lock and keeps no state: every thread gets the right answer."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"SELECT ?x{i} WHERE {{ ?x{i} ?p ?o FILTER(?o != {i}) }}" for i in range(64)]
    texts += [f"SELECT * WHERE {{ SERVICE <http://e.example/{i}> {{ ?s ?p ?o }} }}" for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda t: sp.check_query(t, allow_service=True), texts))
    assert [o.form for o in outcomes] == ["SELECT"] * len(texts)
    assert [o.uses_service for o in outcomes] == [False] * 64 + [True] * 16


def test_api_accepts_every_resource_with_a_page(client):
    """Anything with an /id/ page can be asked for in the API (also unlabelled concepts)."""
    r = client.get("/sparql", params={"query": """SELECT DISTINCT ?s WHERE { ?s a ?t
        FILTER(STRSTARTS(STR(?s), "https://w3id.org/yufeng-kg/id/") && !CONTAINS(STR(?s), "/statement/")) }"""})
    for b in r.json()["results"]["bindings"]:
        iri = b["s"]["value"]
        assert client.get("/api/expand", params={"iri": iri}).status_code == 200, iri
        assert client.get("/api/node", params={"iri": iri}).json()["iri"] == iri


def test_cli_serve_builds_first_and_binds_loopback(real_build, tmp_path, monkeypatch):
    """With no build, `kg serve` builds first; by default it binds 127.0.0.1 only."""
    import uvicorn

    import kg.pipeline.build
    from kg.cli import main

    calls = {}

    def fake_build(out_dir, progress=None, **_):
        calls["build"] = out_dir
        shutil.copytree(real_build, out_dir, dirs_exist_ok=True)

    def fake_run(app, **kwargs):
        calls["run"] = kwargs
        # asked while "serving" (kg serve ends its query workers when uvicorn returns)
        calls["ask"] = TestClient(app).get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"]

    monkeypatch.setattr(kg.pipeline.build, "build", fake_build)
    monkeypatch.setattr(uvicorn, "run", fake_run)
    target = tmp_path / "fresh"
    assert main(["serve", "--build", str(target), "--port", "8123"]) == 0
    assert calls["build"] == target
    assert calls["run"]["host"] == "127.0.0.1" and calls["run"]["port"] == 8123
    assert calls["ask"] is True
    assert calls["run"]["timeout_keep_alive"] <= 5 and calls["run"]["limit_concurrency"] >= 16


def test_endpoint_predeclares_prefixes_and_words_errors_like_the_cli(client):
    from kg.read.sparql_text import format_syntax_error

    r = client.get("/sparql", params={"query": "ASK { ?e a yf:Enterprise }"},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.json()["boolean"] is True
    text = "SELECT ?s\nWHERE { ?s ?p ?o .\n  FILTR(?s) }"
    r = client.get("/sparql", params={"query": text})
    assert r.status_code == 400
    assert "^" in r.text and "FILTER" in r.text  # the caret under the column and the hint
    try:
        import pyoxigraph as ox
        ox.Store().query(text)
    except SyntaxError as exc:
        assert format_syntax_error(text, exc).splitlines()[0] in r.text


# ----- answers of repeated queries ----------------------------------------------------------------

def test_a_repeated_query_is_answered_from_memory_with_the_same_body(client):
    text = "SELECT ?s WHERE { ?s a yf:Enterprise } ORDER BY ?s # cache probe"
    first, second, again = (client.get("/sparql", params={"query": text}, headers={"Accept": "text/csv"})
                            for _ in range(3))
    assert first.status_code == second.status_code == again.status_code == 200
    # kept when asked the second time, answered from memory from the third
    assert "x-kg-cache" not in first.headers and "x-kg-cache" not in second.headers
    assert again.headers["x-kg-cache"] == "hit"
    assert again.content == first.content and again.headers["content-type"] == first.headers["content-type"]
    # the media type is part of what is kept: JSON of the same text is run, not the CSV sent back
    as_json = client.get("/sparql", params={"query": text}, headers={"Accept": "application/sparql-results+json"})
    assert "x-kg-cache" not in as_json.headers and as_json.json()["head"]["vars"] == ["s"]


@pytest.mark.parametrize("call", ["RAND()", "NOW()", "UUID()", "struuid()"])
def test_answers_that_change_each_time_are_not_kept(client, call):
    text = f"SELECT ?v WHERE {{ BIND({call} AS ?v) }} # cache probe"
    answers = [client.get("/sparql", params={"query": text}) for _ in range(3)]
    assert all(r.status_code == 200 and "x-kg-cache" not in r.headers for r in answers)
    if call != "NOW()":  # the time may repeat within its resolution
        assert len({r.json()["results"]["bindings"][0]["v"]["value"] for r in answers}) == 3


def test_result_cache_keeps_repeated_texts_and_counts_its_bytes():
    from kg.server.serve import ResultCache

    cache = ResultCache(max_bytes=8000)
    answer = lambda n: (200, "text/csv", b"x" * n, {})  # noqa: E731
    for i in range(50):  # texts asked once are never kept
        cache.put((f"q{i}",), answer(100), 110)
    assert cache.size == 0 and cache.get(("q0",)) is None
    for i in range(20):  # asked twice: kept, least recently used first out, within the bound
        cache.put((f"r{i}",), answer(900), 910)
        cache.put((f"r{i}",), answer(900), 910)
        assert cache.size <= 8000
    kept = [i for i in range(20) if cache.get((f"r{i}",)) is not None]
    assert kept == list(range(12, 20)) and cache.size == 8 * 910
    cache.put(("big",), answer(2000), 2010)  # over an eighth of the bound: never kept
    cache.put(("big",), answer(2000), 2010)
    assert cache.get(("big",)) is None


def test_failed_queries_are_not_kept_and_cache_can_be_off(real_build):
    app = create_app(real_build, Settings(cache_mb=0))
    with TestClient(app) as off:
        for _ in range(2):
            r = off.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
            assert r.status_code == 200 and "x-kg-cache" not in r.headers
    with TestClient(create_app(real_build, Settings())) as on:
        for _ in range(2):  # a query Oxigraph refuses is not an answer to keep
            r = on.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"})
            assert r.status_code == 400 and "x-kg-cache" not in r.headers


def test_x_forwarded_for_is_believed_only_from_named_proxies():
    # uvicorn's default believes X-Forwarded-For from 127.0.0.1: any local program could pose as
    # many clients and escape the per-client limits
    import uvicorn

    from kg.server.serve import uvicorn_options

    plain = uvicorn.Config(lambda scope, receive, send: None, **uvicorn_options(Settings()))
    plain.load()
    assert plain.proxy_headers is False and type(plain.loaded_app).__name__ != "ProxyHeadersMiddleware"
    behind = uvicorn.Config(lambda scope, receive, send: None, **uvicorn_options(Settings(trusted_proxies="10.0.0.5")))
    behind.load()
    assert type(behind.loaded_app).__name__ == "ProxyHeadersMiddleware"
