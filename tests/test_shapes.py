"""SHACL shapes (ontology/shapes.ttl) against small conforming and violating fixtures.

Each fixture in fixtures/shapes/ is Turtle. Files named ``conforming*.ttl`` must conform.
Every other file must not, and states at its top why, so the test fails for the right reason:

    # expect-focus: <IRI of the focus node of every violation>
    # expect-path: <IRI of sh:resultPath>   (optional; at least one violation must have it)

Validation is run as the pipeline runs it: shapes + ontology as ont_graph, inference 'none'.
"""
from pathlib import Path

import pytest
import pyshacl
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology" / "yufeng.ttl"
SHAPES = ROOT / "ontology" / "shapes.ttl"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shapes"
FIXTURE_FILES = sorted(FIXTURES.glob("*.ttl"))


@pytest.fixture(scope="module")
def shapes():
    return Graph().parse(SHAPES)


@pytest.fixture(scope="module")
def ontology():
    return Graph().parse(ONTOLOGY)


def expectations(path):
    """Return the ``# expect-<key>: <value>`` header lines of a fixture as a dict."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect-"):
            key, _, value = line[len("# expect-"):].partition(":")
            found[key.strip()] = value.strip()
    return found


def validate(path, shapes, ontology):
    data = Graph().parse(path)
    conforms, report, text = pyshacl.validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True)
    results = [
        (report.value(r, SH.focusNode), report.value(r, SH.resultPath), text)
        for r in report.subjects(RDF.type, SH.ValidationResult)
    ]
    return conforms, results, text


def test_there_are_fixtures_of_both_kinds():
    names = [p.name for p in FIXTURE_FILES]
    assert any(n.startswith("conforming") for n in names)
    assert sum(n.startswith("violating") for n in names) >= 5


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_fixture(path, shapes, ontology):
    conforms, results, text = validate(path, shapes, ontology)
    if path.name.startswith("conforming"):
        assert conforms, text
        return
    expected = expectations(path)
    assert "focus" in expected, f"{path.name} lacks a '# expect-focus: <iri>' line"
    assert not conforms, f"{path.name} was expected to violate the shapes"
    focus = URIRef(expected["focus"])
    assert {f for f, _, _ in results} == {focus}, text
    if "path" in expected:
        assert URIRef(expected["path"]) in {p for _, p, _ in results}, text


def test_subclass_targeting_comes_from_the_ontology(shapes):
    """With inference 'none', a yf:Village is reached by the yf:Place label shape only through the
    ontology's rdfs:subClassOf triples: without ont_graph the same fixture conforms."""
    data = Graph().parse(FIXTURES / "violating-missing-en-label.ttl")
    conforms, _, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", advanced=True)
    assert conforms


def test_messages_in_chinese_and_english(shapes):
    """Every property shape, and every node shape with a node-level sh:or, explains itself in zh and en."""
    explained = set(shapes.objects(None, SH.property)) | {
        s for s in shapes.subjects(RDF.type, SH.NodeShape) if (s, SH["or"], None) in shapes}
    assert explained
    for shape in explained:
        langs = {m.language for m in shapes.objects(shape, SH.message)}
        assert {"zh", "en"} <= langs, f"{shape} ({shapes.value(shape, SH.path)}) lacks a zh or en sh:message"
