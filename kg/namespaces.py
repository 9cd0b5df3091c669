"""Every namespace the project uses, in one place.

The ontology, the shapes, the queries and the code all take their prefixes from here;
``tests/test_namespaces.py`` checks that every PREFIX line in ontology/ and queries/ agrees.
"""
from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

BASE = "https://w3id.org/yufeng-kg/"

YF = Namespace(BASE + "ontology#")
"""Ontology terms (classes and properties)."""
ID = Namespace(BASE + "id/")
"""Things: entities, fact nodes, concepts."""
SOURCE = Namespace(BASE + "source/")
"""Source documents."""
GRAPH = Namespace(BASE + "graph/")
"""Named graphs."""
SHAPES = Namespace(BASE + "shapes#")
ONTOLOGY_IRI = BASE + "ontology"

SCHEMA = Namespace("http://schema.org/")
ORG = Namespace("http://www.w3.org/ns/org#")
OA = Namespace("http://www.w3.org/ns/oa#")
QB = Namespace("http://purl.org/linked-data/cube#")
GEO = Namespace("http://www.opengis.net/ont/geosparql#")
SH = Namespace("http://www.w3.org/ns/shacl#")
VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
QUDT_UNIT = Namespace("http://qudt.org/vocab/unit/")
WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
GEONAMES = Namespace("https://sws.geonames.org/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

PREFIXES: dict[str, str] = {
    "yf": str(YF),
    "yfid": str(ID),
    "yfsrc": str(SOURCE),
    "yfg": str(GRAPH),
    "yfsh": str(SHAPES),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "schema": str(SCHEMA),
    "org": str(ORG),
    "oa": str(OA),
    "qb": str(QB),
    "geo": str(GEO),
    "sh": str(SH),
    "void": str(VOID),
    "dcat": str(DCAT),
    "foaf": str(FOAF),
    "unit": str(QUDT_UNIT),
    "wd": str(WD),
    "wdt": str(WDT),
    "gn": str(GEONAMES),
    "sd": str(SD),
}

# Named graphs of the build.
REGISTRY_GRAPH = GRAPH["registry"]
ONTOLOGY_GRAPH = GRAPH["ontology"]
INFERRED_GRAPH = GRAPH["inferred"]
METADATA_GRAPH = GRAPH["metadata"]
LINKS_GRAPH = GRAPH["links"]
"""External identifiers from the verified and accepted rows of data/links/*.tsv (kg.publish.link)."""

# The dataset description (VoID / DCAT, kg.pipeline.void).
DATASET = Namespace(BASE + "dataset/")
DATASET_IRI = BASE + "dataset"


def document_graph(doc_id: str):
    """The named graph holding the facts stated by one source document."""
    return GRAPH["source/" + doc_id]


def sparql_prefixes(names: list[str] | None = None) -> str:
    """PREFIX lines for SPARQL, for the given prefix names (all when None)."""
    chosen = names or sorted(PREFIXES)
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in chosen)


def bind_all(graph) -> None:
    """Bind every project prefix on an rdflib graph or dataset (replacing rdflib's defaults)."""
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True, replace=True)


def curie_to_iri(curie: str) -> str | None:
    """Expand ``prefix:local`` with the project's prefixes; None if the prefix is unknown."""
    prefix, sep, local = curie.partition(":")
    if not sep or prefix not in PREFIXES:
        return None
    return PREFIXES[prefix] + local


def curie(iri: str) -> str:
    """``prefix:local`` for an IRI in one of the project's namespaces (longest match), else the IRI."""
    best = max((p for p, ns in PREFIXES.items() if iri.startswith(ns)), key=lambda p: len(PREFIXES[p]), default=None)
    return iri if best is None else f"{best}:{iri[len(PREFIXES[best]):]}"
