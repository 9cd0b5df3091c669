"""The build pipeline end to end on the mini dataset: outputs, determinism, atomicity, bad input."""
from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset

from kg.cli import main

OUTPUTS = ["kg.trig", "kg.nq", "kg.ttl", "kg.nt", "kg.jsonld", "report.json"]


def run_build(mini: Path, out: Path, *extra: str) -> int:
    return main(["build", "-q", "--data", str(mini / "data"), "--sources", str(mini / "sources"),
                 "--out", str(out), *extra])


def test_build_writes_every_output(mini, tmp_path):
    out = tmp_path / "out"
    assert run_build(mini, out) == 0
    for name in OUTPUTS:
        assert (out / name).stat().st_size > 0, name
    assert (out / "store").is_dir()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["facts"] == report["facts_with_evidence"] > 0
    assert report["quotes"] > 0
    assert report["reasoning"]["consistent"] is True


def test_outputs_load_in_rdflib_and_pyoxigraph(mini, tmp_path):
    out = tmp_path / "out"
    assert run_build(mini, out, "--no-reason") == 0
    ds = Dataset()
    ds.parse(out / "kg.trig", format="trig")
    store = ox.Store()
    store.load(path=str(out / "kg.trig"), format=ox.RdfFormat.TRIG)
    assert len(list(ds.quads((None, None, None, None)))) == len(store) > 0
    # the quote for the GDP observation is the exact passage of the document
    q = """PREFIX oa: <http://www.w3.org/ns/oa#> PREFIX yf: <https://w3id.org/yufeng-kg/ontology#>
    PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
    SELECT ?exact WHERE { ?st rdf:subject <https://w3id.org/yufeng-kg/id/obs-gdp-2023> ;
      rdf:predicate yf:valueAsWritten ; yf:evidence ?span . ?span oa:hasSelector ?sel . ?sel oa:exact ?exact }"""
    rows = list(store.query(q, use_default_graph_as_union=True))
    assert [r["exact"].value for r in rows] == ["示例区在2023年地区生产总值为100.5亿元"]


def test_two_builds_are_byte_identical(mini, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_build(mini, a) == 0
    assert run_build(mini, b) == 0
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_build_without_sources_leaves_quotes_out(mini, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["build", "-q", "--data", str(mini / "data"), "--sources", str(tmp_path / "none"),
                 "--out", str(out), "--no-reason"])
    assert code == 0
    assert "quotes left out" in capsys.readouterr().err
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["quotes"] == 0


# One bad-input case per kind: (name, file, text to replace, replacement, message part, line).
BAD_INPUT = [
    ("malformed-yaml", "data/facts/mini_doc.yaml", "  - about: shili-qu\n", "  - about: [shili-qu\n",
     "malformed YAML", None),
    ("unknown-class", "data/entities.yaml", "type: Enterprise", "type: Enterprize", "unknown class 'Enterprize'", 8),
    ("duplicate-id", "data/entities.yaml", "id: gdp", "id: shili-qu", "duplicate id 'shili-qu'", 11),
    ("dangling-reference", "data/facts/mini_doc.yaml", "locatedIn: shili-qu", "locatedIn: nowhere-qu",
     "dangling reference 'nowhere-qu'", 14),
    ("bad-date", "data/facts/mini_doc.yaml", "published: 2024-01", "published: 2024-13",
     "not a real date", 6),
    ("span-out-of-range", "data/facts/mini_doc.yaml", "span: 25-34", "span: 25-340",
     "outside the document", 13),
    ("checksum-mismatch", "sources/mini_doc.txt", "示例公司", "样例公司", "checksum mismatch", 4),
    ("unknown-property", "data/facts/mini_doc.yaml", "locatedIn: shili-qu", "locatedInn: shili-qu",
     "unknown property 'locatedInn'", 14),
    ("bad-span-syntax", "data/facts/mini_doc.yaml", "span: 0-3", "span: three", "not of the form START-END", 10),
]


@pytest.mark.parametrize("name,file,old,new,message,line", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_exits_2_names_the_place_and_writes_nothing(mini, tmp_path, capsys, name, file, old, new,
                                                               message, line):
    out = tmp_path / "out"
    assert run_build(mini, out, "--no-reason") == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    path = mini / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    code = run_build(mini, out, "--no-reason")
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err
    shown = "mini_doc.yaml" if "mini_doc" in file else Path(file).name
    assert shown in err
    if line is not None:
        assert f":{line}" in err, err
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


# -- the fast path (Oxigraph quads, HermiT run directly) against the reference path ------------------

def _reference_quads(data: Path, sources: Path | None, engine: str = "owlready2"):
    """The published quads made the way the build made them before issue 9: rdfize into an rdflib
    Dataset, reasoning through owlready2, the Dataset assembled and converted term by term."""
    from kg import paths
    from kg.pipeline.build import asserted, assemble, load_graph
    from kg.pipeline.reason import reason
    from kg.pipeline.validate import data_graph
    from kg.read.store import dataset_quads

    ontology = load_graph(paths.ontology_file())
    ds, _, _ = asserted(data, sources, ontology)
    result = reason(ontology, data_graph(ds), engine=engine)
    return ds, dataset_quads(assemble(ds, ontology, result))


def _nquads_sorted_by_terms(quads) -> bytes:
    """N-Quads sorted by (graph, subject, predicate, object) texts, as the build always sorted them."""
    key = lambda q: (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object))  # noqa: E731
    return ox.serialize(sorted(quads, key=key), format=ox.RdfFormat.N_QUADS)


def test_real_build_is_the_reference_build(real_build):
    """The real data builds to exactly the quads (and the same N-Quads bytes) of the reference path,
    and report.json says what an rdflib count of the asserted Dataset says."""
    from rdflib.namespace import RDF, RDFS

    from tests.conftest import ROOT, real_sources
    from kg.namespaces import ID, YF
    from kg.pipeline.validate import data_graph

    ds, reference = _reference_quads(ROOT / "data", real_sources())
    built = (real_build / "kg.nq").read_bytes()
    assert built == _nquads_sorted_by_terms(reference)
    report = json.loads((real_build / "report.json").read_text(encoding="utf-8"))
    union = data_graph(ds)
    statements = set(union.subjects(RDF.type, RDF.Statement))
    entities = {s for s in union.subjects(RDFS.label) if str(s).startswith(str(ID))}
    assert report["triples"] == len(reference)
    assert report["facts"] == len(statements)
    assert report["facts_with_evidence"] == sum(1 for s in statements if (s, YF.evidence, None) in union)
    assert report["entities"] == len(entities)
    assert report["reasoning"]["inferred_triples"] > 0  # the locatedIn chains


def test_mini_build_is_the_reference_build(mini, tmp_path):
    out = tmp_path / "out"
    assert run_build(mini, out) == 0
    _, reference = _reference_quads(mini / "data", mini / "sources")
    assert (out / "kg.nq").read_bytes() == _nquads_sorted_by_terms(reference)


def test_hermit_run_directly_infers_what_owlready2_infers(mini):
    from kg import paths
    from kg.pipeline.build import asserted_quads, load_graph
    from kg.pipeline.reason import reason

    ontology = load_graph(paths.ontology_file())
    quads, _ = asserted_quads(mini / "data", mini / "sources", ontology)
    direct = reason(ontology, quads)
    reference = reason(ontology, quads, engine="owlready2")
    assert set(direct.inferred) == set(reference.inferred)
    located = [t for t in direct.inferred if str(t[1]).endswith("#locatedIn")]
    assert located, "the transitive locatedIn chain of the mini data is inferred"


def test_asserted_quads_are_the_datasets_quads(mini):
    from kg import paths
    from kg.pipeline.build import asserted, asserted_quads, load_graph
    from kg.read.store import dataset_quads

    ontology = load_graph(paths.ontology_file())
    quads, warnings = asserted_quads(mini / "data", mini / "sources", ontology)
    ds, warnings_ds, _ = asserted(mini / "data", mini / "sources", ontology)
    assert len(set(quads)) == len(quads)
    assert set(quads) == set(dataset_quads(ds))
    assert warnings == warnings_ds


TRICKY = [  # terms whose texts are prefixes of one another, languages, datatypes, blank nodes
    ox.Literal("a"), ox.Literal("a", language="en"), ox.Literal("a", language="en-gb"), ox.Literal("a b"),
    ox.Literal("a", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")), ox.Literal("a\"b"),
    ox.Literal("a\nb"), ox.Literal(""), ox.Literal("ab"), ox.NamedNode("http://x/a"), ox.NamedNode("http://x/a/b"),
    ox.NamedNode("http://x/a#"), ox.BlankNode("b1"), ox.BlankNode("b10"), ox.Literal("a\tb"),
]


def test_sort_quads_orders_as_term_by_term():
    from kg.read.store import sort_quads, union_triples

    nodes = [ox.NamedNode("http://x/a"), ox.NamedNode("http://x/a/b"), ox.BlankNode("b1")]
    graphs = [ox.NamedNode("http://g/1"), ox.NamedNode("http://g/10"), ox.DefaultGraph()]
    quads = [ox.Quad(s, p, o, g) for s in nodes for p in nodes[:2] for o in TRICKY for g in graphs]
    quads.reverse()
    key = lambda q: (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object))  # noqa: E731
    assert sort_quads(quads) == sorted(quads, key=key)
    triples = sorted({ox.Triple(q.subject, q.predicate, q.object) for q in quads},
                     key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    assert union_triples(quads) == triples


def test_to_oxigraph_quads_keeps_terms_and_removes_duplicates():
    from rdflib import BNode, Literal, URIRef
    from rdflib.namespace import XSD

    from kg.read.store import to_oxigraph_quads

    g, s, p = URIRef("http://g"), URIRef("http://s"), URIRef("http://p")
    rows = [(s, p, Literal("1", datatype=XSD.nonNegativeInteger), g), (s, p, Literal("x", lang="zh"), g),
            (s, p, Literal("x", lang="zh"), g), (s, p, BNode("n1"), g), (s, p, URIRef("http://o"), g)]
    quads = to_oxigraph_quads(rows)
    assert len(quads) == 4
    assert [str(q.object) for q in quads] == [
        '"1"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger>', '"x"@zh', "_:n1", "<http://o>"]


def test_invalid_data_is_reported_before_reasoning_and_hermit_is_stopped(mini, tmp_path, capsys, monkeypatch):
    """Reasoning starts before validation ends; invalid data still exits 1 (not a reasoner error),
    and the HermiT process started for it is stopped."""
    from kg.pipeline import reason as reason_module

    started = []
    real_start = reason_module._start_hermit

    def spy(graph):
        proc, tmp = real_start(graph)
        started.append(proc)
        return proc, tmp

    monkeypatch.setattr(reason_module, "_start_hermit", spy)
    path = mini / "data" / "facts" / "mini_doc.yaml"
    text = path.read_text(encoding="utf-8")
    # a statistic whose growth rate is not in percent breaks a check query (exit 1)
    assert "unit: unit-cny" in text
    path.write_text(text.replace("measureType: measure-type-level", "measureType: measure-type-growth-rate", 1),
                    encoding="utf-8")
    code = run_build(mini, tmp_path / "out")
    err = capsys.readouterr().err
    assert code == 1, err
    assert "does not conform" in err
    assert started and all(p.poll() is not None for p in started)


def test_java_missing_waits_for_validation(mini, tmp_path, capsys, monkeypatch):
    from kg.pipeline import reason as reason_module

    monkeypatch.setattr(reason_module, "java_available", lambda: False)
    assert run_build(mini, tmp_path / "out") == 2
    assert "needs Java" in capsys.readouterr().err
    path = mini / "data" / "facts" / "mini_doc.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("measureType: measure-type-level", "measureType: measure-type-growth-rate", 1),
                    encoding="utf-8")
    assert run_build(mini, tmp_path / "out") == 1  # the data's fault is reported, not the missing Java


def test_scaled_data_is_the_data_again_under_new_ids(mini, tmp_path):
    """bench/build_scaling.py's 3x data: the records three times, every copy's ids renamed and
    labels marked fictional, the same source text cited under new document ids."""
    from bench.build_scaling import make_data
    from kg.pipeline.evidence import read_sources
    from kg.pipeline.records import load_curated

    one = load_curated(mini / "data")
    out = make_data(3, tmp_path / "x3", mini / "data")
    three = load_curated(out)  # no duplicate ids, every record well-formed
    assert len(three.fact_files) == 3 * len(one.fact_files)
    assert sum(len(f.records) for f in three.fact_files) == 3 * sum(len(f.records) for f in one.fact_files)
    docs = {f.document.id: f.document for f in three.fact_files}
    assert {d.file for d in docs.values()} == {f.document.file for f in one.fact_files}
    assert read_sources(three, mini / "sources").missing == []  # every span lies inside the text
    ids = {r.id for r in three.registry}
    assert any(i.endswith("-x2") for i in ids) and "zhongguo" in ids and "zhongguo-x1" not in ids
    copy = next(r for r in three.registry if r.id.endswith("-x1") and r.labels.get("zh"))
    assert copy.labels["zh"][0].endswith("（虚构1）")
