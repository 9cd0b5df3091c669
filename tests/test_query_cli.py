"""`kg query`, `kg explain`, `kg path`, `kg search` in-process through kg.cli.main."""
from __future__ import annotations

import json

import pytest

from kg.cli import main

from .conftest import real_sources


@pytest.fixture
def kg(real_build, capsys):
    def run(*argv, stdin=None, monkeypatch=None):
        code = main([*argv, "--build", str(real_build)])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_list_shows_fifteen_questions_in_both_languages(capsys):
    assert main(["query", "--list"]) == 0
    out = capsys.readouterr().out
    names = [line for line in out.splitlines() if line.startswith("cq")]
    assert len(names) == 15
    assert "zh: 鱼峰区2024年开展哪些“会战”？各自包含哪些举措和项目？" in out
    assert "en: Which six zones are the campaigns meant to build?" in out


def test_table_shows_iris_by_label(kg):
    code, out, _ = kg("query", "cq02-six-zones", "--iris")
    assert code == 0
    assert "工业振兴中心区 [yfid:gongye-zhenxing-zhongxinqu]" in out
    assert "(6 rows)" in out
    assert "zone_en" not in out  # zh view drops the English label column


def test_table_in_english(kg):
    code, out, _ = kg("query", "cq02-six-zones", "--lang", "en", "--iris")
    assert code == 0 and "industrial revitalisation core zone [yfid:gongye-zhenxing-zhongxinqu]" in out


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json"])
def test_select_formats(kg, fmt):
    code, out, _ = kg("query", "cq12-events", "--format", fmt)
    assert code == 0
    if fmt == "json":
        data = json.loads(out)
        assert data["head"]["vars"][0] == "date"
        assert data["results"]["bindings"][-1]["date"]["value"] == "2024-01-05"
    elif fmt == "csv":
        assert out.splitlines()[0].startswith("date,event,")
        assert out.splitlines()[-1].startswith("2024-01-05,")
    else:
        assert out.splitlines()[0].startswith("?date\t?event")


def test_query_file_and_stdin(kg, tmp_path, monkeypatch):
    q = tmp_path / "ask.rq"
    q.write_text('PREFIX yfid: <https://w3id.org/yufeng-kg/id/>\nASK { yfid:jinsangzi ?p ?o }', encoding="utf-8")
    code, out, _ = kg("query", str(q), "--format", "json")
    assert code == 0 and json.loads(out)["boolean"] is True
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("SELECT (1 + 1 AS ?two) WHERE {}"))
    code, out, _ = kg("query", "-", "--format", "csv")
    assert code == 0 and out.splitlines() == ["two", "2"]


@pytest.mark.parametrize("fmt,needle", [("ttl", "yfid:jinsangzi"), ("nt", "<https://w3id.org/yufeng-kg/id/jinsangzi>"),
                                        ("jsonld", "https://w3id.org/yufeng-kg/id/jinsangzi")])
def test_construct_formats(kg, fmt, needle):
    q = ("PREFIX yfid: <https://w3id.org/yufeng-kg/id/> PREFIX yf: <https://w3id.org/yufeng-kg/ontology#>\n"
         "CONSTRUCT { yfid:jinsangzi yf:inIndustry ?i } WHERE { yfid:jinsangzi yf:inIndustry ?i }")
    code, out, _ = kg("query", q, "--format", fmt)
    assert code == 0 and needle in out


def test_wrong_format_for_result_kind(kg):
    code, _, err = kg("query", "cq02-six-zones", "--format", "ttl")
    assert code == 2 and "CONSTRUCT" in err


def test_bind_overrides_default(kg):
    code, out, _ = kg("query", "cq07-provenance", "--bind", "entity=yfid:baisha-zhen", "--format", "tsv")
    assert code == 0
    assert "baisha-zhen" in out and "jinsangzi" not in out


def test_malformed_query_reports_line_and_column(kg):
    code, _, err = kg("query", "SELECT ?x WHERE {\n  ?x ?y\n}")
    assert code == 2
    assert "SPARQL syntax error" in err
    assert "query:3:2: SPARQL syntax error" in err and "    3 | }\n      |  ^" in err


def test_unknown_named_query(kg):
    code, _, err = kg("query", "cq99-nothing")
    assert code == 2 and "no named query 'cq99-nothing'" in err and "cq01-campaigns" in err


@pytest.mark.parametrize("name", ["金嗓子", "Golden Throat", "jinsangzi", "jīnsǎngzi", "yfid:jinsangzi",
                                  "https://w3id.org/yufeng-kg/id/jinsangzi"])
def test_explain_reaches_the_same_entity_with_evidence(kg, name):
    code, out, _ = kg("explain", name)
    assert code == 0
    assert out.startswith("金嗓子 / Golden Throat\n  https://w3id.org/yufeng-kg/id/jinsangzi")
    # evidence: document and span; the quote (white space removed) when the build could read the
    # document (a clone without ../shared/sources builds without quotes)
    assert "000_b3b90ce150a63deb:3341-3355" in out
    if real_sources() is not None:
        assert "000_b3b90ce150a63deb:3341-3355 “金嗓子一期产值超10亿元”" in out
    assert "← 工业振兴大会战 [yfid:gongye-zhenxing-huizhan]" in out


def test_explain_ambiguous_lists_candidates(kg):
    # the programme and the 2023 measure share their English label
    code, _, err = kg("explain", "Bid for National All-for-One Tourism Demonstration Zone")
    assert code == 2
    assert "ambiguous" in err
    assert "yfid:guojia-quanyu-lvyou-shifanqu-chuangjian" in err and "yfid:m2023-zhengchuang-quanyu-lvyou" in err


def test_explain_unknown_lists_closest(kg):
    code, _, err = kg("explain", "金嗓")
    assert code == 2 and "closest" in err and "yfid:jinsangzi" in err


def test_path_prints_hops_with_direction_and_predicate(kg):
    code, out, _ = kg("path", "金嗓子", "工业振兴大会战")
    assert code == 0
    assert "金嗓子 [yfid:jinsangzi] ←涉及— 工业振兴大会战 [yfid:gongye-zhenxing-huizhan]" in out


def test_path_two_hops(kg):
    code, out, _ = kg("path", "王眉村豇豆生产基地", "鱼峰区", "--lang", "en")
    assert code == 0
    assert "path 1 (2 hops)" in out
    assert "—located in→ Wangmei Village [yfid:wangmei-cun]" in out


def test_search_ranks_exact_first(kg):
    code, out, _ = kg("search", "baisha zhen")
    assert code == 0
    assert out.splitlines()[2].split()[1] == "yfid:baisha-zhen"  # after the header and its rule


def test_search_nothing(kg):
    code, _, err = kg("search", "qqqqqqqq")
    assert code == 1 and "no entity" in err
