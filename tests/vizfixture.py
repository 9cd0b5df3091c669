"""A small store for the explorer's tests: a hostile label, a hub with 120 neighbours, a literal.

Built with pyoxigraph directly (no curated data), shaped like a real build: an ontology graph
with class and property labels, a document graph with the facts and one evidence statement.
"""
from __future__ import annotations

import pyoxigraph as ox

from kg.namespaces import GRAPH, ID, OA, RDF, RDFS, SKOS, SOURCE, YF

EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
HUB = str(ID["hub"])
EVIL_IRI = str(ID["evil"])
QUOTE = "枢纽连接一百二十个成员"
MEMBERS = 120


def _n(iri) -> ox.NamedNode:
    return ox.NamedNode(str(iri))


def fixture_store() -> ox.Store:
    onto, doc = _n(GRAPH["ontology"]), _n(GRAPH["source/fixture"])
    quads = []

    def add(s, p, o, g):
        quads.append(ox.Quad(_n(s), _n(p), o if isinstance(o, (ox.Literal, ox.NamedNode)) else _n(o), g))

    for cls, zh, en in ((YF.Enterprise, "企业", "enterprise"), (YF.Project, "项目", "project")):
        add(cls, RDF.type, "http://www.w3.org/2002/07/owl#Class", onto)
        add(cls, RDFS.label, ox.Literal(zh, language="zh"), onto)
        add(cls, RDFS.label, ox.Literal(en, language="en"), onto)
    add(YF.involves, RDFS.label, ox.Literal("涉及", language="zh"), onto)
    add(YF.involves, RDFS.label, ox.Literal("involves", language="en"), onto)
    add(YF.hkexCode, RDFS.label, ox.Literal("港交所股票代码", language="zh"), onto)

    add(HUB, RDF.type, YF.Enterprise, doc)
    add(HUB, RDFS.label, ox.Literal("枢纽企业", language="zh"), doc)
    add(HUB, RDFS.label, ox.Literal("Hub Enterprise", language="en"), doc)
    add(HUB, YF.hkexCode, ox.Literal("06896"), doc)
    add(EVIL_IRI, RDF.type, YF.Enterprise, doc)
    add(EVIL_IRI, RDFS.label, ox.Literal(EVIL, language="zh"), doc)
    add(EVIL_IRI, RDFS.label, ox.Literal(EVIL, language="en"), doc)
    add(EVIL_IRI, SKOS.altLabel, ox.Literal("恶意标签", language="zh"), doc)
    add(HUB, YF.involves, EVIL_IRI, doc)
    for i in range(MEMBERS):
        m = ID[f"member-{i:03d}"]
        add(m, RDF.type, YF.Project, doc)
        add(m, RDFS.label, ox.Literal(f"成员项目{i:03d}", language="zh"), doc)
        add(m, RDFS.label, ox.Literal(f"Member project {i:03d}", language="en"), doc)
        add(HUB, YF.involves, m, doc)
    # one reified statement with evidence, as the build writes it
    st, span, pos, q = ID["statement/s1"], ID["statement/s1-span"], ID["statement/s1-pos"], ID["statement/s1-q"]
    add(st, RDF.type, RDF.Statement, doc)
    add(st, RDF.subject, HUB, doc)
    add(st, RDF.predicate, YF.involves, doc)
    add(st, RDF.object, ID["member-000"], doc)
    add(st, YF.evidence, span, doc)
    add(st, YF.modality, ID["modality-result"], doc)
    add(span, OA.hasSource, SOURCE["fixture"], doc)
    add(span, OA.hasSelector, pos, doc)
    add(pos, OA.start, ox.Literal("10", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")), doc)
    add(pos, OA.end, ox.Literal("21", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")), doc)
    add(span, OA.hasSelector, q, doc)
    add(q, OA.exact, ox.Literal(QUOTE), doc)
    store = ox.Store()
    store.bulk_extend(quads)
    return store
