"""Every namespace the project uses, in one place.

The ontology, the shapes, the queries and the code all take their prefixes from here;
``tests/test_namespaces.py`` checks that every PREFIX line in ontology/ and queries/ agrees.
"""
from __future__ import annotations

from typing import Any

# rdflib is imported on first use of a Namespace constant (module __getattr__ below), so that
# `kg --version` and `kg query` start without it (rdflib alone takes ~250 ms to import).
BASE = "https://w3id.org/yufeng-kg/"
ONTOLOGY_IRI = BASE + "ontology"

PREFIXES: dict[str, str] = {
    "yf": BASE + "ontology#",
    "yfid": BASE + "id/",
    "yfsrc": BASE + "source/",
    "yfg": BASE + "graph/",
    "yfsh": BASE + "shapes#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "http://schema.org/",
    "org": "http://www.w3.org/ns/org#",
    "oa": "http://www.w3.org/ns/oa#",
    "qb": "http://purl.org/linked-data/cube#",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "sh": "http://www.w3.org/ns/shacl#",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "unit": "http://qudt.org/vocab/unit/",
    "wd": "http://www.wikidata.org/entity/",
    "wdt": "http://www.wikidata.org/prop/direct/",
    "gn": "https://sws.geonames.org/",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
}
"""Every prefix the project uses; also predeclared in every SPARQL query (kg.read.sparql_text)."""

# Constant name -> namespace IRI: rdflib Namespace objects made on first access.
_NAMESPACES = {
    "YF": PREFIXES["yf"],  # ontology terms (classes and properties)
    "ID": PREFIXES["yfid"],  # things: entities, fact nodes, concepts
    "SOURCE": PREFIXES["yfsrc"],  # source documents
    "GRAPH": PREFIXES["yfg"],  # named graphs
    "SHAPES": PREFIXES["yfsh"],
    "SCHEMA": PREFIXES["schema"], "ORG": PREFIXES["org"], "OA": PREFIXES["oa"], "QB": PREFIXES["qb"],
    "GEO": PREFIXES["geo"], "SH": PREFIXES["sh"], "VOID": PREFIXES["void"], "DCAT": PREFIXES["dcat"],
    "FOAF": PREFIXES["foaf"], "QUDT_UNIT": PREFIXES["unit"], "WD": PREFIXES["wd"], "WDT": PREFIXES["wdt"],
    "GEONAMES": PREFIXES["gn"], "SD": PREFIXES["sd"],
    "DATASET": BASE + "dataset/",  # the dataset description (VoID / DCAT, kg.pipeline.void)
}
_RDFLIB_NAMESPACES = ("DCTERMS", "OWL", "PROV", "RDF", "RDFS", "SKOS", "XSD")

# Named graphs of the build (rdflib URIRefs, made on first access like the namespaces).
_GRAPHS = {
    "REGISTRY_GRAPH": "registry",
    "ONTOLOGY_GRAPH": "ontology",
    "INFERRED_GRAPH": "inferred",
    "METADATA_GRAPH": "metadata",
    "LINKS_GRAPH": "links",  # external identifiers from the verified and accepted rows of data/links/*.tsv
}
DATASET_IRI = BASE + "dataset"


def __getattr__(name: str) -> Any:
    """The rdflib constants (YF, ID, RDF, REGISTRY_GRAPH...), imported and made on first use."""
    value: Any
    if name in _NAMESPACES:
        from rdflib import Namespace

        value = Namespace(_NAMESPACES[name])
    elif name in _RDFLIB_NAMESPACES:
        import rdflib.namespace

        value = getattr(rdflib.namespace, name)
    elif name in _GRAPHS:
        from rdflib import URIRef

        value = URIRef(PREFIXES["yfg"] + _GRAPHS[name])
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def document_graph(doc_id: str):
    """The named graph holding the facts stated by one source document."""
    from rdflib import URIRef

    return URIRef(PREFIXES["yfg"] + "source/" + doc_id)


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
