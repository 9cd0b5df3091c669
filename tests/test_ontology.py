"""The ontology (ontology/yufeng.ttl): parses, is documented in zh and en, stays in OWL 2 DL's
typing rules, and HermiT (through owlready2) finds it consistent."""
import shutil
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology" / "yufeng.ttl"
YF = Namespace("https://w3id.org/yufeng-kg/ontology#")
YFID = Namespace("https://w3id.org/yufeng-kg/id/")
ONTOLOGY_IRI = URIRef("https://w3id.org/yufeng-kg/ontology")
XSD = "http://www.w3.org/2001/XMLSchema#"  # a str, not rdflib's closed namespace (pytest probes module globals)
BUILTIN = (str(RDF), str(RDFS), str(OWL), XSD)
TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)

# Slugs that data files use (spec/data-format.md); renaming one breaks the data.
CONCEPT_SLUGS = {
    YF.Level: ["level-national", "level-autonomous-region", "level-city", "level-district"],
    YF.ProjectStatus: ["status-planned", "status-under-construction", "status-completed", "status-in-operation",
                       "status-registered"],
    YF.Modality: ["modality-plan", "modality-result", "modality-background"],
    YF.MeasureType: ["measure-type-level", "measure-type-growth-rate"],
    YF.Unit: ["unit-cny", "unit-percent", "unit-count", "unit-tonne", "unit-mu", "unit-person"],
}


@pytest.fixture(scope="module")
def onto():
    return Graph().parse(ONTOLOGY)


def yf_terms(g):
    return sorted({s for t in TERM_TYPES for s in g.subjects(RDF.type, t)
                   if isinstance(s, URIRef) and s.startswith(str(YF))})


def test_header(onto):
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in onto
    assert onto.value(ONTOLOGY_IRI, OWL.versionIRI) == URIRef("https://w3id.org/yufeng-kg/ontology/0.1.0")
    assert onto.value(ONTOLOGY_IRI, OWL.versionInfo) is not None
    assert onto.value(ONTOLOGY_IRI, URIRef("http://purl.org/dc/terms/license")) == \
        URIRef("https://creativecommons.org/licenses/by/4.0/")


def test_every_term_has_zh_en_label_and_definition(onto):
    terms = yf_terms(onto)
    assert len(terms) > 50
    for term in terms:
        labels = {l.language for l in onto.objects(term, RDFS.label)}
        definitions = {d.language for d in onto.objects(term, SKOS.definition)}
        assert {"zh", "en"} <= labels, f"{term} needs rdfs:label @zh and @en"
        assert {"zh", "en"} <= definitions, f"{term} needs skos:definition @zh and @en"


def test_no_term_is_both_object_and_datatype_property(onto):
    kinds = [set(onto.subjects(RDF.type, t)) for t in
             (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)]
    assert not (kinds[0] & kinds[1]) and not (kinds[0] & kinds[2]) and not (kinds[1] & kinds[2])


def test_every_iri_outside_annotations_is_declared(onto):
    """OWL 2 DL typing: no IRI in a logical axiom may be left untyped."""
    annotation = set(onto.subjects(RDF.type, OWL.AnnotationProperty)) | {
        RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy, OWL.versionInfo}
    typed = set(onto.subjects(RDF.type, None))
    untyped = {x for s, p, o in onto if p not in annotation and s != ONTOLOGY_IRI
               for x in (s, p, o)
               if isinstance(x, URIRef) and not str(x).startswith(BUILTIN) and x not in typed}
    assert not untyped, sorted(untyped)


def test_no_xsd_date_literals(onto):
    """HermiT rejects xsd:date; the ontology itself must carry none."""
    assert not [o for o in onto.objects() if isinstance(o, Literal) and o.datatype == URIRef(XSD + "date")]


def test_located_in_is_transitive_and_measure_of_inverse(onto):
    assert (YF.locatedIn, RDF.type, OWL.TransitiveProperty) in onto
    assert (YF.measureOf, OWL.inverseOf, YF.hasMeasure) in onto


@pytest.mark.parametrize("cls", list(CONCEPT_SLUGS), ids=lambda c: c.split("#")[-1])
def test_controlled_values(onto, cls):
    for slug in CONCEPT_SLUGS[cls]:
        concept = YFID[slug]
        assert (concept, RDF.type, cls) in onto, f"{concept} is not a {cls}"
        assert (concept, RDF.type, SKOS.Concept) in onto
        assert onto.value(concept, SKOS.inScheme) is not None
        assert {l.language for l in onto.objects(concept, RDFS.label)} >= {"zh", "en"}
        assert {d.language for d in onto.objects(concept, SKOS.definition)} >= {"zh", "en"}


def _hermit(graph, tmp_path):
    """Run HermiT on graph through owlready2, in a world of its own; return the error or None."""
    owlready2 = pytest.importorskip("owlready2")
    path = tmp_path / "onto.owl"
    graph.serialize(path, format="xml")
    world = owlready2.World()
    ontology = world.get_ontology(path.as_uri()).load()
    try:
        # xsd:gYear ranges (yf:period, yf:assessmentYear) are outside the OWL 2 datatype map;
        # without this flag HermiT stops with UnsupportedDatatypeException instead of reasoning.
        owlready2.sync_reasoner_hermit(ontology, infer_property_values=False, debug=0,
                                       ignore_unsupported_datatypes=True)
    except owlready2.OwlReadyInconsistentOntologyError as error:
        return error
    return None


needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="java is not on PATH: HermiT cannot run")


@needs_java
def test_hermit_finds_ontology_consistent(onto, tmp_path):
    assert _hermit(onto, tmp_path) is None


@needs_java
def test_hermit_detects_an_inconsistency(onto, tmp_path):
    """The consistency test above can fail: a node that is both a text span and a place must be rejected."""
    bad = Graph()
    for triple in onto:
        bad.add(triple)
    node = YFID["not-a-span-and-a-place"]
    bad.add((node, RDF.type, OWL.NamedIndividual))
    bad.add((node, RDF.type, YF.TextSpan))
    bad.add((node, RDF.type, YF.Village))
    assert _hermit(bad, tmp_path) is not None
