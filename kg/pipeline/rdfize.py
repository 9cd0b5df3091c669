"""Turn curated records into RDF: the asserted graph, one named graph per source document.

Pure: no file is read or written here. The ontology decides what a key means: an unknown
class or property, a dangling reference or a value of the wrong kind is an InputError with
the file, line and field of the offending value.

Every triple a fact file states is also reified (rdf:Statement) with its evidence span and
modality, so any asserted fact leads in one SPARQL query to its document and passage.
Web Annotation selectors: https://www.w3.org/TR/annotation-model/#text-position-selector
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from kg.errors import InputError, Position
from kg.pipeline.evidence import SourceTexts
from kg.namespaces import ID, OA, REGISTRY_GRAPH, SCHEMA, SOURCE, YF, bind_all, curie_to_iri, document_graph
from kg.pipeline.records import Curated, Document, Record, Span, Value

PINYIN_LANG = "zh-Latn-pinyin"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR_MONTH = re.compile(r"^\d{4}-\d{2}$")
_YEAR = re.compile(r"^\d{4}$")
# An ISO 8601 interval of years, months or days, e.g. 2024-01/2024-09 (the first three quarters).
_INTERVAL = re.compile(r"^(\d{4}(?:-\d{2}(?:-\d{2})?)?)/(\d{4}(?:-\d{2}(?:-\d{2})?)?)$")
# Keys whose value is a period or date: each also gets yf:periodStart / yf:periodEnd (xsd:date).
_TIME_KEYS = ("period", "date")
# Triples that give a node's identity, not a claim of the record: always stated.
_IDENTITY = {RDF.type, RDFS.label, SKOS.altLabel, SKOS.definition}
_IRI = re.compile(r"^https?://\S+$")


@dataclass
class Terms:
    """What the ontology declares: classes, properties by kind, ranges, and named individuals."""

    classes: set[URIRef] = field(default_factory=set)
    object_properties: set[URIRef] = field(default_factory=set)
    datatype_properties: set[URIRef] = field(default_factory=set)
    annotation_properties: set[URIRef] = field(default_factory=set)
    ranges: dict[URIRef, URIRef] = field(default_factory=dict)
    individuals: set[URIRef] = field(default_factory=set)
    quantities: set[URIRef] = field(default_factory=set)
    written_forms: dict[URIRef, URIRef] = field(default_factory=dict)

    @classmethod
    def from_ontology(cls, onto: Graph) -> "Terms":
        t = cls()
        t.classes = {c for c in onto.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
        t.classes |= {c for c in onto.subjects(RDF.type, RDFS.Class) if isinstance(c, URIRef)}
        t.object_properties = set(onto.subjects(RDF.type, OWL.ObjectProperty))
        t.datatype_properties = set(onto.subjects(RDF.type, OWL.DatatypeProperty))
        t.annotation_properties = set(onto.subjects(RDF.type, OWL.AnnotationProperty))
        for p in t.datatype_properties | t.object_properties:
            r = onto.value(p, RDFS.range)
            if isinstance(r, URIRef):
                t.ranges[p] = r
        t.individuals = {s for s in onto.subjects() if isinstance(s, URIRef) and str(s).startswith(str(ID))}
        # numeric properties: yf:quantityValue and its sub-properties; their values take a qualifier
        t.quantities = set(onto.transitive_subjects(RDFS.subPropertyOf, YF.quantityValue))
        t.written_forms = {p: w for p, w in onto.subject_objects(YF.writtenFormProperty)
                           if isinstance(p, URIRef) and isinstance(w, URIRef)}
        return t

    def property(self, key: str, pos: Position) -> URIRef:
        iri = URIRef(curie_to_iri(key) if ":" in key else YF[key])
        if ":" in key and curie_to_iri(key) is None:
            raise InputError(f"unknown prefix in property {key!r}", pos)
        if iri not in self.object_properties | self.datatype_properties | self.annotation_properties:
            raise InputError(
                f"unknown property {key!r}: the ontology declares no {iri}; check the spelling or add it to ontology/",
                pos,
            )
        return iri

    def cls(self, key: str, pos: Position) -> URIRef:
        iri = URIRef(curie_to_iri(key) if ":" in key else YF[key])
        if iri not in self.classes:
            raise InputError(f"unknown class {key!r}: the ontology declares no class {iri}", pos)
        return iri


def period_bounds(text: str) -> tuple[dt.date, dt.date]:
    """The first and last day a period or date covers: 2023, 2023-12, 2024-01-05, 2024-01/2024-09.

    Raises:
        ValueError: the text is none of these shapes, or not a real date.
    """
    m = _INTERVAL.match(text)
    if m:
        return period_bounds(m.group(1))[0], period_bounds(m.group(2))[1]
    if _YEAR.match(text):
        return dt.date(int(text), 1, 1), dt.date(int(text), 12, 31)
    if _YEAR_MONTH.match(text):
        first = dt.date.fromisoformat(text + "-01")
        following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return first, following - dt.timedelta(days=1)
    if _DATE.match(text):
        day = dt.date.fromisoformat(text)
        return day, day
    raise ValueError(text)


def statement_iri(graph: URIRef, s, p, o, spans: tuple[Span, ...], modality: str | None,
                  support: str | None = None) -> URIRef:
    """A stable IRI for one statement of (s, p, o): a hash of the triple, its graph, spans and
    modality, so the same triple stated in two passages (a plan and a result) is two statements.
    An implied statement also hashes its support, so it never merges with a stated one."""
    key = "\x1f".join([*(t.n3() for t in (graph, s, p, o)), *(f"{x.start}-{x.end}" for x in spans), modality or ""]
                      + (["implied"] if support == "implied" else []))
    return ID["statement/" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]]


def span_iri(doc_id: str, span: Span) -> URIRef:
    return SOURCE[f"{doc_id}/span/{span.start}-{span.end}"]


def document_iri(doc_id: str) -> URIRef:
    return SOURCE[doc_id]


class _GraphSink:
    """One named graph of an rdfize run: ``add`` appends (s, p, o, graph) to the run's quads.

    A plain list (duplicates are removed by whoever reads it: the Dataset, or the set of Oxigraph
    quads) rather than an rdflib Dataset: adding to rdflib's memory store costs ~20 µs a triple
    (its indexes, and hashing rdflib terms in Python), the larger part of rdfize at 10x data.
    """

    __slots__ = ("quads", "name")

    def __init__(self, quads: list, name: URIRef):
        self.quads = quads
        self.name = name

    def add(self, triple: tuple) -> None:
        s, p, o = triple
        self.quads.append((s, p, o, self.name))


# rdflib's namespace attributes build a new URIRef (and validate it) on every access: taken once.
_TYPE, _STATEMENT, _SUBJECT, _PREDICATE, _OBJECT = RDF.type, RDF.Statement, RDF.subject, RDF.predicate, RDF.object
_SOURCE_OF, _MODALITY, _EVIDENCE, _QUALIFIER = DCTERMS.source, YF.modality, YF.evidence, YF.qualifier
_SUPPORT, _STATED, _IMPLIED = YF.support, ID["support-stated"], ID["support-implied"]


class _Builder:
    """Accumulates triples for one rdfize run; holds the known ids for reference checks."""

    def __init__(self, curated: Curated, onto: Graph, sources: SourceTexts, errors: list | None = None):
        self.terms = Terms.from_ontology(onto)
        self.sources = sources
        self.errors = errors
        self.quads: list[tuple] = []  # (s, p, o, graph) of rdflib terms, duplicates included
        self.spans_added: dict[tuple, URIRef] = {}  # (graph, document, span) -> its node
        names = Graph()
        bind_all(names)
        self.namespaces = names.namespace_manager
        self.types: dict[str, list[URIRef]] = {}
        for rec in curated.all_records():
            if rec.defines:
                try:
                    self.types[rec.id] = [self.terms.cls(t, rec.where("type")) for t in rec.types]
                except InputError as exc:
                    self.failed(exc)
                    self.types[rec.id] = []

    def failed(self, exc: InputError) -> None:
        """Raise exc, or keep it when collecting (kg validate) so the next record is checked."""
        if self.errors is None:
            raise exc
        self.errors.append(exc)

    def described(self, rec: Record) -> list[tuple]:
        """:meth:`describe`, or nothing when the record is bad and errors are collected."""
        try:
            return self.describe(rec)
        except InputError as exc:
            self.failed(exc)
            return []

    # -- values ------------------------------------------------------------------------------
    def node(self, slug: str, pos: Position) -> URIRef:
        iri = ID[slug]
        if slug not in self.types and iri not in self.terms.individuals:
            raise InputError(f"dangling reference {slug!r}: no entity or record has this id", pos)
        return iri

    def objects(self, prop: URIRef, value: Value) -> list:
        raw = value.raw
        if isinstance(raw, dict):
            return [Literal(str(t), lang=lang) for lang, texts in raw.items()
                    for t in (texts if isinstance(texts, list) else [texts])]
        if prop in self.terms.datatype_properties:
            return [self.literal(prop, raw, value.position)]
        if isinstance(raw, str) and _IRI.match(raw):
            return [URIRef(raw)]
        if prop in self.terms.object_properties:
            if not isinstance(raw, str):
                raise InputError(f"expected an entity id, got {raw!r}", value.position)
            return [self.node(raw, value.position)]
        return [self.literal(prop, raw, value.position)]

    def literal(self, prop: URIRef, raw, pos: Position) -> Literal:
        rng = self.terms.ranges.get(prop)
        text = str(raw)
        try:
            if rng == XSD.decimal:
                return Literal(Decimal(text), datatype=XSD.decimal)
            if rng in (XSD.integer, XSD.nonNegativeInteger, XSD.positiveInteger):
                if isinstance(raw, bool) or not re.match(r"^-?\d+$", text):
                    raise ValueError(text)
                return Literal(int(text), datatype=rng)
            if rng == XSD.gYear:
                if not _YEAR.match(text):
                    raise ValueError(text)
                return Literal(text, datatype=XSD.gYear)
            if rng == XSD.anyURI:
                return Literal(text, datatype=XSD.anyURI)
            if rng == XSD.string:
                return Literal(text, datatype=XSD.string)
            if rng == RDF.langString:
                raise InputError(f"expected text by language, e.g. {{zh: ..., en: ...}}, got {raw!r}", pos)
        except (InvalidOperation, ValueError) as exc:
            raise InputError(f"{text!r} is not a valid {rng.n3() if rng else 'value'}", pos) from exc
        return self.untyped_literal(raw, pos)

    def untyped_literal(self, raw, pos: Position) -> Literal:
        """Literal whose type is chosen from its shape (dates, years, numbers, text)."""
        if isinstance(raw, bool):
            return Literal(raw)
        if isinstance(raw, int):
            return Literal(raw, datatype=XSD.integer)
        if isinstance(raw, float):
            return Literal(Decimal(str(raw)), datatype=XSD.decimal)
        text = str(raw)
        try:
            if _DATE.match(text):
                dt.date.fromisoformat(text)
                return Literal(text, datatype=XSD.date)
            if _YEAR_MONTH.match(text):
                dt.date.fromisoformat(text + "-01")
                return Literal(text, datatype=XSD.gYearMonth)
        except ValueError as exc:
            raise InputError(f"{text!r} is not a real date (YYYY-MM-DD, YYYY-MM or YYYY)", pos) from exc
        if _INTERVAL.match(text):
            start, end = period_bounds(text)
            if start > end:
                raise InputError(f"interval {text!r} ends before it starts", pos)
            return Literal(text, datatype=XSD.string)
        if re.match(r"^\d{4}-\d", text):
            raise InputError(f"{text!r} looks like a date but is not YYYY-MM-DD, YYYY-MM or YYYY", pos)
        if _YEAR.match(text):
            return Literal(text, datatype=XSD.gYear)
        return Literal(text)

    # -- records -----------------------------------------------------------------------------
    def describe(self, rec: Record) -> list[tuple]:
        """(predicate, object, own spans) for everything a record says about its node."""
        out: list[tuple] = []
        if rec.defines:
            types = self.types[rec.id]
        else:
            self.node(rec.id, rec.position)
            types = [self.terms.cls(t, rec.where("type")) for t in rec.types] or self.types.get(rec.id, [])
        out += [(RDF.type, t, ()) for t in types]
        out += [(RDFS.label, Literal(t, lang=lang), ()) for lang, ts in rec.labels.items() for t in ts]
        out += [(SKOS.altLabel, Literal(t, lang=lang), ()) for lang, ts in rec.alt_labels.items() for t in ts]
        out += [(SKOS.definition, Literal(t, lang=lang), ()) for lang, t in rec.definitions.items()]
        out += [(RDFS.label, Literal(p, lang=PINYIN_LANG), ()) for p in rec.pinyin]
        for key, values in rec.properties.items():
            prop = self.terms.property(key, values[0].position)
            for value in values:
                out += [(prop, o, value.spans) for o in self.objects(prop, value)]
                if key in _TIME_KEYS and rec.document is not None:
                    out += self.bounds(value)
        if rec.document is not None and rec.modality:
            out.append((YF.modality, ID["modality-" + rec.modality], ()))
        return out

    def bounds(self, value: Value) -> list[tuple]:
        """yf:periodStart / yf:periodEnd of a period or date value, so reports line up in time."""
        try:
            start, end = period_bounds(str(value.raw))
        except ValueError as exc:
            raise InputError(f"{value.raw!r} is not a period: write YYYY, YYYY-MM, YYYY-MM-DD or an interval "
                             "such as 2024-01/2024-09", value.position) from exc
        return [(YF.periodStart, Literal(start.isoformat(), datatype=XSD.date), value.spans),
                (YF.periodEnd, Literal(end.isoformat(), datatype=XSD.date), value.spans)]

    def qualifier_of(self, rec: Record, facts: list[tuple]) -> tuple[URIRef | None, set[URIRef]]:
        """The record's qualifier concept and its quantity properties (qualifier None: no quantity).

        Raises:
            InputError: a qualifier on a record with no quantity, or with several (ambiguous).
        """
        quantities = {p for p, _, _ in facts if p in self.terms.quantities}
        if rec.qualifier is not None and len(quantities) != 1:
            what = "no quantity" if not quantities else "several quantities (" + ", ".join(sorted(q.n3(self.namespaces) for q in quantities)) + ")"
            raise InputError(f"qualifier {rec.qualifier!r} on a record with {what}: put each qualified number "
                             "in a record of its own", rec.where("qualifier"))
        if not quantities:
            return None, quantities
        return ID["qualifier-" + (rec.qualifier or "exact")], quantities

    def graph(self, name: URIRef) -> _GraphSink:
        return _GraphSink(self.quads, name)

    def add_registry(self, rec: Record) -> None:
        g = self.graph(REGISTRY_GRAPH)
        for p, o, _ in self.described(rec):
            g.add((ID[rec.id], p, o))

    def add_document(self, doc: Document, records: list[Record]) -> None:
        gid = document_graph(doc.id)
        g = self.graph(gid)
        d = document_iri(doc.id)
        g.add((d, RDF.type, YF.SourceDocument))
        g.add((d, DCTERMS.identifier, Literal(doc.id)))
        g.add((d, YF.sha256, Literal(doc.sha256)))
        g.add((d, SCHEMA.name, Literal(doc.file)))
        for lang, title in doc.title.items():
            g.add((d, DCTERMS.title, Literal(title, lang=lang)))
        if doc.published:
            g.add((d, DCTERMS.issued, self.untyped_literal(doc.published, doc.fields.get("published", doc.position))))
        if doc.creator:
            g.add((d, DCTERMS.creator, Literal(doc.creator)))
        if doc.publisher:
            g.add((d, DCTERMS.publisher, Literal(doc.publisher)))
        for rec in records:
            s = ID[rec.id]
            facts = self.described(rec)
            try:
                qualifier, quantities = self.qualifier_of(rec, facts)
            except InputError as exc:
                self.failed(exc)
                continue
            if qualifier is not None and rec.defines:
                facts.append((YF.qualifier, qualifier, ()))  # the fact node is the qualified number
            modality = ID["modality-" + rec.modality] if rec.modality else None
            for p, o, own_spans in facts:
                g.add((s, p, o))
                if p == _MODALITY:
                    continue
                # support qualifies what the record asserts, not the node's identity (type, names)
                support = "stated" if p in _IDENTITY else (rec.support or "stated")
                spans = own_spans or rec.spans
                st = statement_iri(gid, s, p, o, spans, rec.modality, support)
                g.add((st, _TYPE, _STATEMENT))
                g.add((st, _SUBJECT, s))
                g.add((st, _PREDICATE, p))
                g.add((st, _OBJECT, o))
                g.add((st, _SOURCE_OF, d))
                if modality is not None:
                    g.add((st, _MODALITY, modality))
                for span in spans:
                    g.add((st, _EVIDENCE, self.add_span(g, doc.id, span)))
                self.add_support(g, st, rec if support == "implied" else None, doc.id)
                if p in quantities:
                    g.add((st, _QUALIFIER, qualifier))

    def add_support(self, g: _GraphSink, st: URIRef, rec: Record | None, doc_id: str) -> None:
        """Mark a statement stated (rec None), or implied with the record's reason and the spans
        the inference rests on."""
        g.add((st, _SUPPORT, _IMPLIED if rec is not None else _STATED))
        if rec is not None:
            for lang, reason in sorted(rec.support_reason.items()):
                g.add((st, YF.supportReason, Literal(reason, lang=lang)))
            for span in rec.support_spans:
                g.add((st, YF.supportSpan, self.add_span(g, doc_id, span)))

    def add_span(self, g: _GraphSink, doc_id: str, span: Span) -> URIRef:
        """The span's node, its selectors and quote added to g once (many statements cite one span)."""
        key = (g.name, doc_id, span)
        node = self.spans_added.get(key)
        if node is not None:
            return node
        node = self.spans_added[key] = span_iri(doc_id, span)
        pos = URIRef(str(node) + "/position")
        g.add((node, RDF.type, YF.TextSpan))
        g.add((node, RDF.type, OA.SpecificResource))
        g.add((node, OA.hasSource, document_iri(doc_id)))
        g.add((node, OA.hasSelector, pos))
        g.add((pos, RDF.type, OA.TextPositionSelector))
        g.add((pos, OA.start, Literal(span.start, datatype=XSD.nonNegativeInteger)))
        g.add((pos, OA.end, Literal(span.end, datatype=XSD.nonNegativeInteger)))
        quote = self.sources.quote(doc_id, span)
        if quote is not None:
            q = URIRef(str(node) + "/quote")
            g.add((node, OA.hasSelector, q))
            g.add((q, RDF.type, OA.TextQuoteSelector))
            g.add((q, OA.exact, Literal(quote)))
        return node


def _run(curated: Curated, ontology: Graph, sources: SourceTexts | None, errors: list | None) -> _Builder:
    b = _Builder(curated, ontology, sources or SourceTexts(), errors)
    for rec in curated.registry:
        b.add_registry(rec)
    for ff in curated.fact_files:
        b.add_document(ff.document, ff.records)
    return b


def rdfize(curated: Curated, ontology: Graph, sources: SourceTexts | None = None, *,
           errors: list | None = None) -> Dataset:
    """Build the asserted dataset: the registry graph and one graph per source document.

    Args:
        curated: the loaded records.
        ontology: the ontology graph (decides classes, properties, ranges).
        sources: texts of the source documents, for quotes; None or empty leaves quotes out.
        errors: when given, a bad record's InputError is appended here and the record left out,
            so that one run reports every bad record (kg validate).
    Returns:
        an rdflib Dataset (the ontology itself is not included).
    Raises:
        InputError: unknown class or property, dangling reference, ill-typed value (errors is None).
    """
    b = _run(curated, ontology, sources, errors)
    ds = Dataset()
    bind_all(ds)
    graphs: dict[URIRef, Graph] = {}
    for s, p, o, g in b.quads:
        target = graphs.get(g)
        if target is None:
            target = graphs[g] = ds.graph(g)
        target.add((s, p, o))
    return ds


def rdfize_quads(curated: Curated, ontology: Graph, sources: SourceTexts | None = None, *,
                 errors: list | None = None) -> list:
    """The same quads as :func:`rdfize`, as Oxigraph quads (unsorted, each once), without an rdflib
    Dataset in between: what ``kg build`` uses (a Dataset costs ~20 µs a triple to fill).

    Args and Raises: as :func:`rdfize`.
    """
    from kg.read.store import to_oxigraph_quads

    return to_oxigraph_quads(_run(curated, ontology, sources, errors).quads)
