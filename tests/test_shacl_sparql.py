"""SHACL compiled to SPARQL on Oxigraph (kg.pipeline.shacl_sparql) gives the results pySHACL gives:
the same (focus node, path) pairs on every shapes fixture, and the real data conforms under both."""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import Graph
from rdflib.namespace import RDF, SH

from kg.pipeline.shacl_sparql import Unsupported, compile_shapes, validate_store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "shapes").glob("*.ttl"))


@pytest.fixture(scope="module")
def shapes():
    return Graph().parse(ROOT / "ontology" / "shapes.ttl")


@pytest.fixture(scope="module")
def ontology():
    return Graph().parse(ROOT / "ontology" / "yufeng.ttl")


def both(data: Graph, shapes: Graph, ontology: Graph):
    merged = Graph()
    for t in data:
        merged.add(t)
    for t in ontology:
        merged.add(t)
    _, rg, _ = pyshacl.validate(merged, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True)
    reference = {(str(rg.value(r, SH.focusNode)), str(rg.value(r, SH.resultPath)))
                 for r in rg.subjects(RDF.type, SH.ValidationResult)}
    store = ox.Store()
    store.load(merged.serialize(format="nt").encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    ours = {(r.focus, str(r.path)) for r in validate_store(store, shapes)}
    return reference, ours


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_same_results_as_pyshacl(path, shapes, ontology):
    reference, ours = both(Graph().parse(path), shapes, ontology)
    assert ours == reference
    assert bool(ours) == (not path.name.startswith("conforming"))  # the fixtures do break the shapes


def test_real_data_conforms_under_both(real_store, shapes):
    store = real_store
    assert validate_store(store, shapes) == []


def test_an_unknown_component_is_refused_not_ignored(shapes):
    extra = Graph()
    for t in shapes:
        extra.add(t)
    extra.parse(data="""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:hasValue ex:v ] .""",
                format="turtle")
    with pytest.raises(Unsupported):
        compile_shapes(extra)
