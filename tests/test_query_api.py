"""kg.query / kg.to_networkx / kg.load, the networkx step and the query directives."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

import kg
from kg.errors import InputError
from kg.namespaces import PREFIXES
from kg.read.query import (QueryResult, Row, header_of, inline_bindings, is_ordered, networkx_step,
                      parse_networkx, to_json, to_tsv, parse_results, result_rows)

ROOT = Path(__file__).resolve().parent.parent
YFID = PREFIXES["yfid"]


def test_query_returns_typed_rows(real_build):
    res = kg.query("cq06-indicators-2023", build_dir=real_build)
    gdp = [r for r in res if r.indicator == URIRef(YFID + "gdp")]
    assert len(gdp) == 1
    assert gdp[0].python("value") == Decimal("19349000000")   # 193.49 亿元
    assert gdp[0].python("growth_percent") == Decimal("2.5")
    assert gdp[0].indicator_zh == Literal("地区生产总值", lang="zh")


def test_query_store_is_opened_once_per_build(real_build):
    kg.query("ASK {}", build_dir=real_build)
    first = kg._store(real_build)
    kg.query("cq02-six-zones", build_dir=real_build)
    assert kg._store(real_build) is first


def test_query_with_binding_and_syntax_error(real_build):
    res = kg.query("cq07-provenance", build_dir=real_build, entity="yfid:wangmei-cun")
    assert {str(r.subject) for r in res} >= {YFID + "wangmei-cun"}
    with pytest.raises(InputError) as err:
        kg.query("SELECT ?x WHERE { ?x ?y }}", build_dir=real_build)
    assert err.value.position.line == 1 and err.value.position.field.startswith("column ")


def test_to_networkx_and_load(real_build):
    g = kg.to_networkx(real_build)
    assert g.nodes[YFID + "jinsangzi"]["label_zh"] == "金嗓子"
    assert g.has_edge(YFID + "gongye-zhenxing-huizhan", YFID + "jinsangzi")
    ds = kg.load(real_build)
    assert (URIRef(YFID + "jinsangzi"), None, None) in ds


def test_kg_query_is_the_function_even_after_the_module_is_imported(real_build):
    import kg.read.query as module  # noqa: F401 - binds the package attribute to the module
    assert callable(kg.query) and len(kg.query("cq02-six-zones", build_dir=real_build)) == 6


def edges(*triples) -> QueryResult:
    rows = [Row({"s": URIRef(s), "s_zh": Literal(s[-1]), "s_en": None, "p": URIRef(p), "p_zh": Literal(p[-1]),
                 "p_en": None, "o": URIRef(o), "o_zh": Literal(o[-1]), "o_en": None}) for s, p, o in triples]
    return QueryResult("SELECT", ["s", "s_zh", "s_en", "p", "p_zh", "p_en", "o", "o_zh", "o_en"], rows)


def test_an_interrupted_query_leaves_no_answer_for_the_next(real_build):
    """Ctrl-C (here an alarm) while the worker computes: its late reply must not be taken as the
    answer to the next query (it was: the next query got the interrupted one's rows)."""
    import signal

    from kg.read.query import run_isolated

    class Interrupted(Exception):
        pass

    def interrupt(*_):
        raise Interrupted()

    run_isolated(real_build, "ASK {}")  # the worker is up
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(Interrupted):
            run_isolated(real_build, "SELECT (COUNT(*) AS ?n) ('first' AS ?which) WHERE { ?a ?b ?c . ?d ?e ?f }")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    result = run_isolated(real_build, "SELECT ?which WHERE { VALUES ?which { 'second' } }")
    assert result.variables == ["which"] and [str(r["which"]) for r in result.rows] == ["second"]


def test_networkx_paths_keep_direction_and_parallel_predicates():
    res = edges(("x:a", "x:p", "x:b"), ("x:b", "x:q", "x:c"), ("x:c", "x:r", "x:b"), ("x:a", "x:s", "x:c"))
    out = networkx_step(res, parse_networkx("paths a c cutoff=2"), {"a": "x:a", "c": "x:c"})
    got = [(int(r.path), int(r.hop), str(r["from"]), str(r.predicate), str(r.to)) for r in out]
    assert got == [(1, 1, "x:a", "x:s", "x:c"),
                   (2, 1, "x:a", "x:p", "x:b"), (2, 2, "x:b", "x:q", "x:c"), (2, 2, "x:c", "x:r", "x:b")]


def test_networkx_degree_ranks_ties_by_iri():
    res = edges(("x:a", "x:p", "x:b"), ("x:a", "x:q", "x:b"), ("x:c", "x:p", "x:b"), ("x:d", "x:p", "x:a"))
    out = networkx_step(res, parse_networkx("degree top=2"), {})
    assert [(str(r.node), int(r.degree)) for r in out] == [("x:a", 2), ("x:b", 2)]


@pytest.mark.parametrize("directive", ["path a b", "paths a", "degree a", "degree top=x"])
def test_bad_networkx_directive(directive):
    with pytest.raises(InputError):
        step = parse_networkx(directive)
        networkx_step(edges(("x:a", "x:p", "x:b")), step, {})


def test_header_directives_and_ordering():
    text = "# zh: 问\n# en: Q\n# bind: entity = yfid:x\nSELECT * WHERE { ?s ?p ?o } # ORDER BY in a comment\n"
    h = header_of(text)
    assert (h.question_zh, h.question_en, h.bindings) == ("问", "Q", {"entity": "yfid:x"})
    assert not is_ordered(text)
    assert is_ordered(text + "ORDER BY ?s")
    with pytest.raises(InputError) as err:
        header_of("# bind: nothing here\nASK {}", "q.rq")
    assert err.value.position.line == 1


def test_bindings_go_into_the_outer_where_not_into_comments_strings_or_iris():
    import pyoxigraph as ox
    text = "PREFIX a: <http://x/#WHERE>\n# WHERE { in a comment\nSELECT ?e WHERE { ?e ?p \"WHERE {\" }"
    out, left = inline_bindings(text, {ox.Variable("e"): ox.NamedNode("http://x/e")})
    assert left == {} and out.endswith('SELECT ?e WHERE { VALUES (?e) { (<http://x/e>) }  ?e ?p "WHERE {" }')


def test_tsv_and_json_round_trip():
    res = QueryResult("SELECT", ["x", "n", "l"], [Row({"x": URIRef("http://x/a"), "n": Literal(5),
                                                        "l": Literal("金\t嗓子", lang="zh")}),
                                                   Row({"x": None, "n": Literal("2.5", datatype=URIRef(
                                                       "http://www.w3.org/2001/XMLSchema#decimal")), "l": None})])
    for text, fmt in ((to_tsv(res), "tsv"), (to_json(res), "json")):
        names, rows = parse_results(text, fmt)
        assert names == ["x", "n", "l"] and rows == result_rows(res)


def test_every_prefix_in_queries_is_the_projects():
    for path in sorted((ROOT / "queries").rglob("*.rq")):
        for prefix, iri in re.findall(r"^PREFIX\s+(\w*):\s*<([^>]*)>", path.read_text(encoding="utf-8"), re.M):
            assert PREFIXES.get(prefix) == iri, f"{path.name}: PREFIX {prefix}: <{iri}>"
