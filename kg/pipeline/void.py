"""The dataset description: VoID and DCAT, written by the build to build/void.ttl.

VoID: https://www.w3.org/TR/void/ . DCAT 3: https://www.w3.org/TR/vocab-dcat-3/ .
The description is computed from the quads the build publishes (counts, classes, properties,
linksets to Wikidata and GeoNames) and carries no clock time, so the same graph gives the same
bytes. It is not part of kg.nq: the server serves it at /.well-known/void.
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, SKOS, XSD

from kg.read import store as kgstore
from kg.namespaces import BASE, DATASET, DATASET_IRI, DCAT, GEONAMES, GRAPH, ID, PREFIXES, SD, VOID, WD, YF, curie

PUBLIC_BASE = "http://127.0.0.1:8000"
"""Where `kg serve` answers by default: /sparql, and the dumps under /dumps/."""
LICENCE = URIRef("https://creativecommons.org/licenses/by/4.0/")
DUMPS = {  # file -> (IANA media type, W3C format IRI)
    "kg.nq": ("application/n-quads", "http://www.w3.org/ns/formats/N-Quads"),
    "kg.trig": ("application/trig", "http://www.w3.org/ns/formats/TriG"),
    "kg.ttl": ("text/turtle", "http://www.w3.org/ns/formats/Turtle"),
    "kg.nt": ("application/n-triples", "http://www.w3.org/ns/formats/N-Triples"),
    "kg.jsonld": ("application/ld+json", "http://www.w3.org/ns/formats/JSON-LD"),
}
TARGETS = {  # linkset name -> (title, homepage, URI space)
    "wikidata": ("Wikidata", "https://www.wikidata.org/", str(WD)),
    "geonames": ("GeoNames", "https://www.geonames.org/", str(GEONAMES)),
}
TITLE = {"zh": "鱼峰区知识图谱", "en": "Yufeng KG: a knowledge graph of Yufeng District, Liuzhou"}
DESCRIPTION = {
    "zh": "广西柳州市鱼峰区的会战、园区、企业、项目、荣誉、统计、地点与事件，取自政府新闻与报告；"
          "每条事实都可追溯到原文的字符区间。",
    "en": "Campaigns, zones, enterprises, projects, awards, statistics, places and events of Yufeng "
          "District (Liuzhou, Guangxi), from government news and reports; every fact leads to the "
          "character span of the passage that states it.",
}


def _slug(iri: str) -> str:
    """A readable, stable local name for a partition of the term ``iri``."""
    c = curie(iri)
    if c != iri:
        return c.replace(":", "-").replace("/", "-").replace("#", "-")
    return hashlib.sha1(iri.encode("utf-8")).hexdigest()[:12]


def describe(quads: list[ox.Quad], *, public_base: str = PUBLIC_BASE,
             triples: list[ox.Triple] | None = None) -> bytes:
    """VoID + DCAT description of the published quads, as sorted Turtle bytes.

    Args:
        quads: every quad of the build (as written to kg.nq).
        public_base: the server's base URL (SPARQL endpoint and dumps).
        triples: the distinct triples of quads, when the caller has them (kgstore.union_triples).
    Returns:
        Turtle, UTF-8.
    """
    graph = description(quads, public_base=public_base, triples=triples)
    return kgstore.serialize(kgstore.graph_quads(graph, GRAPH["void"]), "ttl")


def description(quads: list[ox.Quad], *, public_base: str = PUBLIC_BASE,
                triples: list[ox.Triple] | None = None) -> Graph:
    """The description as an rdflib Graph (see :func:`describe`)."""
    ds = URIRef(DATASET_IRI)
    g = Graph()
    add = g.add
    add((ds, RDF.type, VOID.Dataset))
    add((ds, RDF.type, DCAT.Dataset))
    for lang, text in TITLE.items():
        add((ds, DCTERMS.title, Literal(text, lang=lang)))
    for lang, text in DESCRIPTION.items():
        add((ds, DCTERMS.description, Literal(text, lang=lang)))
    publisher = URIRef(BASE)
    add((ds, DCTERMS.publisher, publisher))
    add((publisher, RDF.type, FOAF.Organization))
    add((publisher, FOAF.name, Literal("鱼峰区知识图谱项目", lang="zh")))
    add((publisher, FOAF.name, Literal("Yufeng KG project", lang="en")))
    add((ds, DCTERMS.license, LICENCE))
    add((ds, DCTERMS.spatial, ID["yufeng-qu"]))
    for kw in ("鱼峰区", "柳州", "知识图谱"):
        add((ds, DCAT.keyword, Literal(kw, lang="zh")))
    for kw in ("Yufeng District", "Liuzhou", "knowledge graph"):
        add((ds, DCAT.keyword, Literal(kw, lang="en")))
    add((ds, VOID.uriSpace, Literal(str(ID))))
    add((ds, VOID.exampleResource, ID["yufeng-qu"]))
    _endpoint(g, ds, public_base)
    _dumps(g, ds, public_base)
    distinct = set(triples) if triples is not None else {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
    _statistics(g, ds, quads, distinct)
    _linksets(g, ds, distinct)
    return g


def _endpoint(g: Graph, ds: URIRef, base: str) -> None:
    endpoint = URIRef(f"{base}/sparql")
    service = DATASET["sparql"]
    g.add((ds, VOID.sparqlEndpoint, endpoint))
    g.add((ds, DCAT.accessService, service))
    g.add((service, RDF.type, DCAT.DataService))
    g.add((service, DCAT.endpointURL, endpoint))
    g.add((service, DCAT.servesDataset, ds))
    g.add((service, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
    g.add((service, DCTERMS.title, Literal("SPARQL 1.1 endpoint", lang="en")))
    g.add((service, DCTERMS.title, Literal("SPARQL 1.1 查询端点", lang="zh")))


def _dumps(g: Graph, ds: URIRef, base: str) -> None:
    for name, (media, fmt) in DUMPS.items():
        url = URIRef(f"{base}/dumps/{name}")
        dist = DATASET[f"dump/{name}"]
        g.add((ds, VOID.dataDump, url))
        g.add((ds, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCAT.downloadURL, url))
        g.add((dist, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{media}")))
        g.add((dist, DCTERMS.format, URIRef(fmt)))
        g.add((dist, DCTERMS.license, LICENCE))
        g.add((dist, DCTERMS.title, Literal(name)))


def _statistics(g: Graph, ds: URIRef, quads: list[ox.Quad], distinct: set[ox.Triple]) -> None:
    per_graph = Counter(q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode))
    per_property: Counter = Counter()
    members: dict[str, set] = defaultdict(set)
    rdf_type, document = ox.NamedNode(str(RDF.type)), ox.NamedNode(str(YF.SourceDocument))
    # terms are compared as terms (an N-Triples text names exactly one term); one pass, each
    # term read once (every attribute read makes a new Python object)
    subjects, objects, documents = set(), set(), []
    for t in distinct:
        s, p, o = t.subject, t.predicate, t.object
        per_property[p] += 1
        subjects.add(s)
        objects.add(o)
        if p == rdf_type and isinstance(o, ox.NamedNode):
            members[o.value].add(s)
            if o == document:
                documents.append(s)
    per_property = Counter({p.value: n for p, n in per_property.items()})
    base, statements = str(ID), f"{ID}statement/"
    entities = {s for s in subjects if isinstance(s, ox.NamedNode) and s.value.startswith(base)
                and not s.value.startswith(statements)}
    integer = XSD.integer
    # the union default graph holds each triple once, however many named graphs state it
    g.add((ds, VOID.triples, Literal(len(distinct), datatype=integer)))
    g.add((ds, VOID.entities, Literal(len(entities), datatype=integer)))
    g.add((ds, VOID.distinctSubjects, Literal(len(subjects), datatype=integer)))
    g.add((ds, VOID.distinctObjects, Literal(len(objects), datatype=integer)))
    g.add((ds, VOID.classes, Literal(len(members), datatype=integer)))
    g.add((ds, VOID.properties, Literal(len(per_property), datatype=integer)))
    for cls, subs in members.items():
        part = DATASET[f"class/{_slug(cls)}"]
        g.add((ds, VOID.classPartition, part))
        g.add((part, VOID["class"], URIRef(cls)))
        g.add((part, VOID.entities, Literal(len(subs), datatype=integer)))
    for prop, n in per_property.items():
        part = DATASET[f"property/{_slug(prop)}"]
        g.add((ds, VOID.propertyPartition, part))
        g.add((part, VOID.property, URIRef(prop)))
        g.add((part, VOID.triples, Literal(n, datatype=integer)))
    for name, n in per_graph.items():
        local = name[len(str(GRAPH)):] if name.startswith(str(GRAPH)) else hashlib.sha1(name.encode()).hexdigest()[:12]
        sub = DATASET[f"graph/{local}"]
        g.add((ds, VOID.subset, sub))
        g.add((sub, RDF.type, VOID.Dataset))
        g.add((sub, SD.name, URIRef(name)))
        g.add((sub, VOID.triples, Literal(n, datatype=integer)))
    used = set(per_property) | set(members)
    for prefix, ns in PREFIXES.items():
        if any(t.startswith(ns) for t in used):
            g.add((ds, VOID.vocabulary, URIRef(ns)))
    for s in documents:
        g.add((ds, DCTERMS.source, URIRef(s.value)))


def _linksets(g: Graph, ds: URIRef, distinct: set[ox.Triple]) -> None:
    links: dict[str, set[tuple[str, str]]] = defaultdict(set)
    exact = ox.NamedNode(str(SKOS.exactMatch))
    for q in distinct:
        if q.predicate != exact or not isinstance(q.object, ox.NamedNode):
            continue
        for name, (_, _, space) in TARGETS.items():
            if q.object.value.startswith(space):
                links[name].add((q.subject.value, q.object.value))
    for name, (title, homepage, space) in TARGETS.items():
        target = DATASET[f"target/{name}"]
        g.add((target, RDF.type, VOID.Dataset))
        g.add((target, DCTERMS.title, Literal(title)))
        g.add((target, FOAF.homepage, URIRef(homepage)))
        g.add((target, VOID.uriSpace, Literal(space)))
        ls = DATASET[f"linkset/{name}"]
        g.add((ds, VOID.subset, ls))
        g.add((ls, RDF.type, VOID.Linkset))
        g.add((ls, VOID.subjectsTarget, ds))
        g.add((ls, VOID.objectsTarget, target))
        g.add((ls, VOID.linkPredicate, SKOS.exactMatch))
        g.add((ls, VOID.triples, Literal(len(links[name]), datatype=XSD.integer)))
