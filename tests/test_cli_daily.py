"""Issue 13: the command line and the Python API fit for daily use.

Every case of the issue, in-process through kg.cli.main (and a few subprocesses where start-up
itself is what is tested). JSON output is checked by piping it into ``python -m json.tool``.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import kg
from kg.cli import main
from kg.errors import InputError
from kg.read.sparql_text import PREFIXES, SparqlSyntaxError, format_syntax_error
from kg.read.table import display_width, render, wrap

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "mini"


@pytest.fixture
def kgrun(real_build, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")

    def run(*argv):
        code = main([*argv, "--build", str(real_build)])
        out, err = capsys.readouterr()
        return code, out, err
    run.build = real_build
    return run


def json_tool(text: str) -> object:
    """The text piped through `python -m json.tool` (fails the test if it is not JSON)."""
    done = subprocess.run([sys.executable, "-m", "json.tool"], input=text, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# -- tables ----------------------------------------------------------------------------------------

def test_display_width_counts_cjk_as_two():
    assert display_width("金嗓子") == 6 and display_width("abc") == 3 and display_width("金a") == 3


def test_wrap_keeps_every_line_within_the_width():
    lines = wrap("柳州螺蛳粉产业园入选国家工业旅游示范基地 and some English words", 10, max_lines=10)
    assert all(display_width(line) <= 10 for line in lines)
    assert "".join(lines).replace(" ", "") == "柳州螺蛳粉产业园入选国家工业旅游示范基地andsomeEnglishwords"
    cut = wrap("一二三四五六七八九十" * 3, 6, max_lines=2)
    assert len(cut) == 2 and cut[-1].endswith("…") and display_width(cut[-1]) <= 6


def test_render_aligns_chinese_columns():
    table = render(["a", "b"], [["金嗓子", "x"], ["ab", "y"]], 80).splitlines()
    # the second column starts at the same display column on every line
    starts = {display_width(line[: line.index(c)]) for line, c in zip(table[2:], "xy")}
    assert len(starts) == 1


def test_query_table_fits_80_columns_with_chinese_labels(kgrun):
    code, out, _ = kgrun("query", "cq05-awards-2023")
    assert code == 0
    lines = out.rstrip("\n").splitlines()
    assert max(display_width(line) for line in lines) <= 80
    expected = Path(kg.__file__).resolve().parent.parent / "queries" / "cq" / "cq05-awards-2023.tsv"
    rows = len(expected.read_text(encoding="utf-8").strip().splitlines()) - 1  # hand-checked expected rows
    assert lines[-1] == f"({rows} rows)"
    code, out, _ = kgrun("query", "cq02-six-zones")  # few columns: whole Chinese labels, no ellipsis
    assert code == 0 and max(display_width(line) for line in out.splitlines()) <= 80
    assert "智慧城市先行区" in out and "…" not in out


def test_one_column_per_variable_in_the_chosen_language(kgrun):
    code, out, _ = kgrun("query", "cq05-awards-2023", "--lang", "en")
    assert code == 0 and "_zh" not in out and "_en" not in out
    lines = out.splitlines()
    rule = next(line for line in lines if set(line) <= {"-", " "})
    variables = kg.query("cq05-awards-2023", build_dir=kgrun.build).variables
    plain = [v for v in variables if not v.endswith(("_zh", "_en"))]
    assert len(rule.split()) == len(plain)  # recipient, recipient_zh, recipient_en: one column
    assert "Yufeng" in out


def test_iris_on_request(kgrun):
    _, plain, _ = kgrun("query", "cq02-six-zones")
    _, with_iris, _ = kgrun("query", "cq02-six-zones", "--iris")
    assert "yfid:" not in plain and "[yfid:gongye-zhenxing-zhongxinqu]" in with_iris


# -- --format json on every verb that prints data, -o/--out ---------------------------------------

@pytest.mark.parametrize("argv", [
    ["query", "cq05-awards-2023", "--format", "json"],
    ["query", "--list", "--format", "json"],
    ["explain", "jinsangzi", "--format", "json"],
    ["search", "白沙", "--format", "json"],
    ["path", "jinsangzi", "gongye-zhenxing-huizhan", "--format", "json"],
    ["stats", "--format", "json"],
], ids=lambda a: a[0] + ("-list" if "--list" in a else ""))
def test_format_json_pipes_into_json_tool(kgrun, argv):
    code, out, _ = kgrun(*argv)
    assert code == 0
    assert json_tool(out)


def test_link_and_validate_print_json(real_build, capsys, tmp_path):
    assert main(["link", "--build", str(real_build), "--format", "json"]) == 0
    assert isinstance(json_tool(capsys.readouterr().out), list)
    assert main(["validate", "--data", str(MINI / "data"), "--sources", str(MINI / "sources"),
                 "--format", "json"]) == 0
    assert json_tool(capsys.readouterr().out)["conforms"] is True


def test_out_writes_a_file_and_dash_is_stdout(kgrun, tmp_path):
    target = tmp_path / "awards.csv"
    code, out, _ = kgrun("query", "cq05-awards-2023", "--format", "csv", "-o", str(target))
    assert code == 0 and out == "" and target.read_text(encoding="utf-8").startswith("conferral,")
    code, out, _ = kgrun("query", "cq05-awards-2023", "--format", "csv", "--out", "-")
    assert code == 0 and out.startswith("conferral,") and not Path("-").exists()
    code, out, _ = kgrun("explain", "jinsangzi", "-o", str(tmp_path / "j.txt"))
    assert code == 0 and (tmp_path / "j.txt").read_text(encoding="utf-8").startswith("金嗓子 / Golden Throat")


# -- help and usage --------------------------------------------------------------------------------

@pytest.mark.parametrize("verb", ["build", "validate", "query", "explain", "path", "search", "stats", "link",
                                  "export", "viz", "serve"])
def test_every_verb_has_a_description_and_examples(verb, capsys):
    assert main([verb, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"usage: kg {verb}" in out and "examples:" in out


def test_a_wrong_option_prints_the_verbs_usage(capsys):
    assert main(["query", "cq01-campaigns", "--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert "usage: kg query" in err and "unrecognized arguments: --no-such-option" in err
    assert "Traceback" not in err


def test_quiet_and_verbose(tmp_path, capsys):
    argv = ["build", "--data", str(MINI / "data"), "--sources", str(MINI / "sources"), "--no-reason"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert "kg: validating" in capsys.readouterr().err
    assert main(["-q", *argv, "--out", str(tmp_path / "b")]) == 0
    assert capsys.readouterr().err == ""


# -- SPARQL: prefixes, one error message, bindings ------------------------------------------------

def test_prefixes_are_predeclared_in_the_cli_and_the_api(kgrun, real_build):
    declared = f"PREFIX yf: <{PREFIXES['yf']}> SELECT DISTINCT ?e WHERE {{ ?e a yf:Enterprise }}"
    n = len(kg.query(declared, build_dir=real_build))
    assert n >= 7  # the enterprises of the registry (金嗓子, 五菱柳机, 柳药, ...)
    code, out, _ = kgrun("query", "SELECT DISTINCT ?e WHERE { ?e a yf:Enterprise } ORDER BY ?e", "--format", "csv")
    assert code == 0 and len(out.splitlines()) == n + 1  # header and the enterprises
    assert len(kg.query("SELECT DISTINCT ?e WHERE { ?e a yf:Enterprise }", build_dir=real_build)) == n
    assert len(list(kg.load(real_build).query("SELECT DISTINCT ?e WHERE { ?e a yf:Enterprise }"))) == n
    code, out, _ = kgrun("query", "--prefixes")
    assert f"PREFIX yf: <{PREFIXES['yf']}>" in out and "PREFIX skos:" in out


@pytest.mark.parametrize("text, hint", [
    ("SELEC ?e WHERE { ?e a yf:Enterprise }", "did you mean SELECT?"),
    ("SELECT ?e WHERE { ?e a foo:Enterprise }", "unknown prefix 'foo:'"),
    ("SELECT ?e WHERE {\n  ?e a yf:Enterprise\n  ?e rdfs:label ?l }", "'.' is probably missing"),
    ("SELECT ?e WHERE { ?e a yf:Enterprise ", "'{' is never closed"),
    ("SELECT ?e WHERE { ?e a yf:Enterprise } LIMT 3", "did you mean LIMIT?"),
])
def test_syntax_errors_have_position_caret_and_hint(kgrun, real_build, text, hint):
    code, _, err = kgrun("query", text)
    assert code == 2 and hint in err
    assert "SPARQL syntax error" in err and "^" in err and "\\u{" not in err
    with pytest.raises(SparqlSyntaxError) as api:
        kg.query(text, build_dir=real_build)
    assert api.value.line is not None and api.value.column is not None
    assert str(api.value) in err  # the CLI and the API word it the same


def test_caret_sits_under_the_column_with_chinese_before_it():
    text = 'SELECT * WHERE { ?s rdfs:label "金嗓子" FILTR(?s) }'
    message = format_syntax_error(text, "error at 1:46: expected OPTIONAL")
    line, caret = message.splitlines()[1:3]
    assert display_width(caret.index("^") * " ") == display_width(line[: line.index("|") + 2]) + \
        display_width(text[:45])


def test_unknown_binding_is_an_error(kgrun, real_build):
    code, _, err = kgrun("query", "cq07-provenance", "--bind", "entiy=yfid:jinsangzi")
    assert code == 2 and "?entiy" in err and "no such variable" in err
    with pytest.raises(InputError):
        kg.query("cq02-six-zones", build_dir=real_build, nothing="x")


def test_binding_a_query_with_a_subquery_and_no_where_keyword(real_build):
    """The old text rewrite put the VALUES block into the subquery's WHERE (10,632 rows instead of
    36): bound, the query must return what the equivalent FILTER returns."""
    text = """SELECT ?e ?p ?n {
      { SELECT ?p (COUNT(*) AS ?n) WHERE { ?x ?p ?y } GROUP BY ?p }
      ?e ?p ?o }"""
    bound = kg.query(text, build_dir=real_build, raw=True, e="yfid:jinsangzi")
    filtered = kg.query(text.replace("?e ?p ?o }", "?e ?p ?o FILTER(?e = yfid:jinsangzi) }"),
                        build_dir=real_build, raw=True)
    assert len(filtered) > 0
    assert sorted(map(str, bound.raw_rows())) == sorted(map(str, filtered.raw_rows()))


def test_bindings_go_through_the_parse_not_into_strings_or_comments(real_build):
    text = ('# WHERE { in a comment\nSELECT DISTINCT ?e ?t WHERE { BIND("WHERE { ?e }" AS ?t) '
            '?e a yf:Enterprise }')
    res = kg.query(text, build_dir=real_build, raw=True, e="yfid:jinsangzi")
    assert [r.raw("e").value for r in res] == [PREFIXES["yfid"] + "jinsangzi"]


def test_rows_convert_each_distinct_term_once(real_build):
    res = kg.query("cq02-six-zones", build_dir=real_build)
    first = [r.zone for r in res]
    assert [r.zone for r in res] == first and all(a is b for a, b in zip(first, [r.zone for r in res]))
    raw = kg.query("cq02-six-zones", build_dir=real_build, raw=True)
    assert type(raw.rows[0].zone).__module__ == "pyoxigraph"


# -- lookups and edge cases ------------------------------------------------------------------------

@pytest.mark.parametrize("name, label", [
    ("yfid:level-national", "国家级"),
    ("https://w3id.org/yufeng-kg/ontology#Enterprise", "企业"),
    ("yfsrc:000_b3b90ce150a63deb", "000_b3b90ce150a63deb"),
    ("yf:Enterprise", "企业"),
])
def test_explain_accepts_every_iri_the_server_serves(kgrun, name, label):
    code, out, err = kgrun("explain", name)
    assert code == 0, err
    assert label in out.splitlines()[0] or label in out.splitlines()[1]


def test_path_to_itself_and_max_zero(kgrun):
    code, out, _ = kgrun("path", "jinsangzi", "金嗓子")
    assert code == 0 and "path 1 (0 hops)" in out and "the same entity" in out
    code, _, err = kgrun("path", "jinsangzi", "baisha-zhen", "--max", "0")
    assert code == 2 and "usage: kg path" in err and "at least 1" in err


def test_serve_on_a_busy_port_exits_2_before_printing(real_build, capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port), "--build", str(real_build)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "serving" not in err and f"127.0.0.1:{port}" in err and "--port" in err


# -- validate: every error in one run, each with file:line and field ------------------------------

def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_validate_reports_every_error_with_file_line_and_field(mini, capsys):
    data = mini / "data"
    _edit(data / "entities.yaml", "label: {zh: 示例公司, en: Example Company}", "label: {zh: 示例公司}")
    _edit(data / "facts/mini_doc.yaml", "    locatedIn: shili-qu", "    locatedIn: nowhere-qu")
    _edit(data / "facts/mini_doc.yaml", "    indicator: gdp", "    indicatr: gdp")
    _edit(data / "facts/mini_doc.yaml", "    locatedIn: zhongguo",
          "    locatedIn: zhongguo\n  - about: shili-qu\n    modality: sometimes\n    span: 0-3")
    code = main(["validate", "--data", str(data), "--sources", str(mini / "sources"), "--format", "json"])
    assert code == 1
    errors = json_tool(capsys.readouterr().out)["errors"]
    got = {(e["stage"], Path(e["file"]).name, e["line"], e["field"]) for e in errors}
    assert {("shacl", "entities.yaml", 9, "label"),           # the missing English label
            ("rdfize", "mini_doc.yaml", 14, "locatedIn"),     # the dangling reference
            ("rdfize", "mini_doc.yaml", 21, "indicatr"),      # the misspelt property
            ("records", "mini_doc.yaml", 33, "modality"),     # the unknown modality
            } <= got


# -- start-up ----------------------------------------------------------------------------------------

def test_version_and_query_start_without_heavy_imports(real_build):
    code = (
        "import sys\nfrom kg.cli import main\n"
        f"main(['query', 'cq02-six-zones', '--build', {str(real_build)!r}])\n"
        "heavy = [m for m in ('rdflib', 'networkx', 'pypinyin', 'pyshacl', 'owlready2', 'kg.read.explain',"
        " 'kg.server.serve') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout
    done = subprocess.run([sys.executable, "-c", "import sys\nfrom kg.cli import main\nmain(['--version'])\n"
                           "print('HEAVY', [m for m in sys.modules if m.startswith(('rdflib', 'pyoxigraph', 'kg.read'))])"],
                          capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr
