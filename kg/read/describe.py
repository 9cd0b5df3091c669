"""Entities of the built graph: find them by name, and describe them with their evidence.

Shared by `kg explain`, `kg search`, the explorer and the Linked Data pages, so that every
view shows the same facts with the same evidence.
"""
from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass, field

import pyoxigraph as ox
from pypinyin import Style, lazy_pinyin

from kg.errors import InputError
from kg.pipeline.evidence import readable
from kg.namespaces import ID, PREFIXES, YF, curie, sparql_prefixes

_PRE = sparql_prefixes()
_SKIP_PREFIXES = (str(ID) + "statement/",)
_HIDDEN_PREDICATES = {str(YF.evidence), str(YF.modality)}


def plain(text: str) -> str:
    """Lower case, tone marks and white space removed: how search compares text."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c) and not c.isspace()
                   and c not in "-_·'’").lower()


@dataclass
class Hit:
    """A search result: the entity, its labels, what matched and how well (higher is better)."""

    iri: str
    label_zh: str
    label_en: str
    matched: str
    score: float
    types: list[str] = field(default_factory=list)


class Ambiguous(InputError):
    """A name matches several entities equally well."""

    def __init__(self, name: str, hits: list[Hit]):
        self.hits = hits
        listing = "; ".join(f"{curie(h.iri)} {h.label_zh} / {h.label_en}" for h in hits[:10])
        super().__init__(f"{name!r} is ambiguous: {listing}")


class Unknown(InputError):
    """A name matches no entity; carries the closest candidates."""

    def __init__(self, name: str, hits: list[Hit]):
        self.hits = hits
        listing = "; ".join(f"{curie(h.iri)} {h.label_zh} / {h.label_en}" for h in hits[:8])
        super().__init__(f"no entity named {name!r}" + (f"; closest: {listing}" if listing else ""))


class Index:
    """Names of every labelled entity (labels, aliases, pinyin with and without tones)."""

    def __init__(self, store: ox.Store):
        self.store = store
        self.names: dict[str, list[tuple[str, str]]] = {}  # iri -> [(kind, text)]
        self.labels: dict[str, dict[str, str]] = {}
        self.types: dict[str, list[str]] = {}
        q = _PRE + """SELECT ?s ?p ?l WHERE {
            GRAPH ?g { ?s ?p ?l } FILTER(?g != yfg:ontology)
            VALUES ?p { rdfs:label skos:altLabel skos:hiddenLabel } FILTER(isIRI(?s)) }"""
        for row in store.query(q):
            s, p, lit = row["s"].value, row["p"].value, row["l"]
            if s.startswith(_SKIP_PREFIXES):
                continue
            lang = lit.language or ""
            kind = "label" if p.endswith("#label") else "alias"
            if kind == "label" and lang in ("zh", "en") and lang not in self.labels.get(s, {}):
                self.labels.setdefault(s, {})[lang] = lit.value
            self.names.setdefault(s, []).append((kind if lang.lower() != "zh-latn-pinyin" else "pinyin", lit.value))
        for row in store.query(_PRE + "SELECT DISTINCT ?s ?t WHERE { GRAPH ?g { ?s a ?t } FILTER(?g != yfg:ontology) }"):
            s = row["s"].value
            if s in self.names:
                self.types.setdefault(s, []).append(row["t"].value)
        for s, labels in self.labels.items():
            if "zh" in labels:  # pinyin of the Chinese label, so every entity is findable by pinyin
                self.names[s].append(("pinyin", " ".join(lazy_pinyin(labels["zh"], style=Style.NORMAL))))

    def label(self, iri: str, lang: str = "zh") -> str:
        labels = self.labels.get(iri, {})
        return labels.get(lang) or labels.get("zh") or labels.get("en") or curie(iri)

    def hit(self, iri: str, matched: str, score: float) -> Hit:
        return Hit(iri, self.label(iri, "zh"), self.label(iri, "en"), matched, score,
                   sorted(curie(t) for t in self.types.get(iri, [])))

    def search(self, text: str, limit: int = 20) -> list[Hit]:
        """Entities whose names match text: exact 1.0, prefix 0.8, substring 0.6, fuzzy below."""
        want = plain(text)
        if not want:
            return []
        best: dict[str, Hit] = {}
        for iri, names in self.names.items():
            for kind, name in names:
                have = plain(name)
                if have == want:
                    score = 1.0 if kind == "label" else 0.95
                elif have.startswith(want):
                    score = 0.8 * (0.5 + 0.5 * len(want) / len(have))
                elif want in have:
                    score = 0.6 * (0.5 + 0.5 * len(want) / len(have))
                else:
                    ratio = difflib.SequenceMatcher(None, want, have).ratio()
                    score = 0.5 * ratio if ratio >= 0.6 else 0.0
                if score and (iri not in best or score > best[iri].score):
                    best[iri] = self.hit(iri, name, round(score, 4))
        return sorted(best.values(), key=lambda h: (-h.score, h.label_zh, h.iri))[:limit]

    def closest(self, text: str, limit: int = 8) -> list[Hit]:
        want = plain(text)
        scored = []
        for iri, names in self.names.items():
            r = max(difflib.SequenceMatcher(None, want, plain(n)).ratio() for _, n in names)
            scored.append(self.hit(iri, "", round(r, 4)))
        return sorted(scored, key=lambda h: -h.score)[:limit]

    def resolve(self, name: str) -> str:
        """The IRI an id, IRI, curie, label, alias or pinyin names.

        Raises:
            Ambiguous: several entities match equally well. Unknown: none matches.
        """
        if name.startswith(("http://", "https://")):
            if name in self.names:
                return name
            raise Unknown(name, [])
        iri = PREFIXES["yfid"] + name.removeprefix("yfid:")
        if iri in self.names:
            return iri
        hits = [h for h in self.search(name) if h.score >= 0.95]
        if not hits:
            raise Unknown(name, self.closest(name))
        top = [h for h in hits if h.score == hits[0].score]
        if len(top) > 1:
            raise Ambiguous(name, top)
        return top[0].iri


@dataclass
class Evidence:
    """Where a fact is stated: document, span, the quote (when the build had the document), and
    how strongly: support (stated or implied, with the reason and the spans the inference rests
    on) and, for a number, its qualifier (exact, at-least, at-most, about, size-class)."""

    document: str
    start: int
    end: int
    quote: str | None = None
    modality: str | None = None
    quote_readable: str | None = None
    support: str | None = None
    support_reason_zh: str | None = None
    support_reason_en: str | None = None
    inferred_from: list[str] = field(default_factory=list)
    qualifier: str | None = None

    def __post_init__(self):
        if self.quote is not None and self.quote_readable is None:
            self.quote_readable = readable(self.quote)


@dataclass
class Fact:
    """One triple about an entity, from its point of view."""

    predicate: str
    predicate_label_zh: str
    predicate_label_en: str
    value: str
    is_resource: bool
    value_label_zh: str
    value_label_en: str
    datatype: str | None = None
    lang: str | None = None
    inferred: bool = False
    evidence: list[Evidence] = field(default_factory=list)
    support: str | None = None
    support_reason_zh: str | None = None
    support_reason_en: str | None = None
    qualifier: str | None = None
    written: str | None = None
    display: str | None = None


@dataclass
class Description:
    iri: str
    label_zh: str
    label_en: str
    types: list[str]
    out: list[Fact]
    incoming: list[Fact]
    external: list[str]


_FACTS_OUT = _PRE + """SELECT ?p ?o ?g WHERE { GRAPH ?g { $node ?p ?o } FILTER(?g != yfg:ontology) }"""
_FACTS_IN = _PRE + """SELECT ?p ?o ?g WHERE { GRAPH ?g { ?o ?p $node } FILTER(?g != yfg:ontology)
  FILTER(!STRSTARTS(STR(?o), CONCAT(STR(yfid:), "statement/"))) }"""
_EVIDENCE = _PRE + """SELECT ?sub ?p ?obj ?doc ?start ?end ?quote ?modality WHERE {
  { ?st rdf:subject $node } UNION { ?st rdf:object $node }
  ?st rdf:subject ?sub ; rdf:predicate ?p ; rdf:object ?obj ; yf:evidence ?span .
  ?span oa:hasSource ?doc ; oa:hasSelector ?pos . ?pos oa:start ?start ; oa:end ?end .
  OPTIONAL { ?span oa:hasSelector ?q . ?q oa:exact ?quote }
  OPTIONAL { ?st yf:modality ?modality } }"""
# How strongly each statement about the node is made (one row per statement).
_STRENGTH = _PRE + """SELECT ?sub ?p ?obj ?doc ?start ?end ?support ?reason_zh ?reason_en ?qualifier
       (GROUP_CONCAT(DISTINCT ?from; separator=" ") AS ?inferred_from) WHERE {
  { ?st rdf:subject $node } UNION { ?st rdf:object $node }
  ?st rdf:subject ?sub ; rdf:predicate ?p ; rdf:object ?obj ; yf:evidence ?span .
  ?span oa:hasSource ?doc ; oa:hasSelector ?pos . ?pos oa:start ?start ; oa:end ?end .
  OPTIONAL { ?st yf:support/skos:notation ?support }
  OPTIONAL { ?st yf:supportReason ?reason_zh FILTER(LANG(?reason_zh) = "zh") }
  OPTIONAL { ?st yf:supportReason ?reason_en FILTER(LANG(?reason_en) = "en") }
  OPTIONAL { ?st yf:qualifier/skos:notation ?qualifier }
  OPTIONAL { ?st yf:supportSpan/oa:hasSelector ?fp . ?fp oa:start ?fs ; oa:end ?fe .
             BIND(CONCAT(STR(?fs), "-", STR(?fe)) AS ?from) }
} GROUP BY ?sub ?p ?obj ?doc ?start ?end ?support ?reason_zh ?reason_en ?qualifier"""
# Numeric properties, the property holding each one's written form, and the node's unit notation.
_QUANTITIES = _PRE + """SELECT ?p ?w WHERE { GRAPH yfg:ontology {
  ?p rdfs:subPropertyOf+ yf:quantityValue OPTIONAL { ?p yf:writtenFormProperty ?w } } }"""
_UNIT = _PRE + """SELECT ?n WHERE { $node yf:unit ?u . ?u skos:notation ?n } LIMIT 1"""
# yuan-valued properties without a yf:unit of their own (the ontology defines them in yuan)
_YUAN = {str(YF.investment), str(YF.expectedOutput)}
QUALIFIER_SYMBOLS = {"exact": "", "at-least": "≥ ", "at-most": "≤ ", "about": "≈ ", "size-class": "~ "}
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_quantity(value: str, qualifier: str | None = None, unit: str | None = None) -> str:
    """A number as a reader should take it: qualifier symbol, value, unit.

    Large numbers in scientific notation, so a lower bound reads "≥ 1.0 × 10⁹ CNY" and a size
    class "~ 1.0 × 10³ mu (size class)".
    """
    try:
        number = float(value)
    except ValueError:
        return value
    if abs(number) >= 10000:
        mantissa, exponent = f"{number:e}".split("e")
        digits = mantissa.rstrip("0")
        digits = digits + "0" if digits.endswith(".") else digits
        text = f"{digits} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"
    else:
        text = value
    unit_text = "" if not unit else ("%" if unit == "%" else " " + unit)
    tail = " (size class)" if qualifier == "size-class" else ""
    return f"{QUALIFIER_SYMBOLS.get(qualifier or 'exact', '')}{text}{unit_text}{tail}"


_PRED_LABELS = _PRE + """SELECT ?p ?l WHERE { GRAPH yfg:ontology { ?p rdfs:label ?l } }"""
_STANDARD_LABELS = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": {"zh": "类型", "en": "type"},
    "http://www.w3.org/2000/01/rdf-schema#label": {"zh": "名称", "en": "label"},
    "http://www.w3.org/2004/02/skos/core#altLabel": {"zh": "别名", "en": "alternative label"},
    "http://www.w3.org/2004/02/skos/core#definition": {"zh": "定义", "en": "definition"},
    "http://www.w3.org/2004/02/skos/core#exactMatch": {"zh": "等同于", "en": "exact match"},
    "http://www.w3.org/2004/02/skos/core#closeMatch": {"zh": "近似于", "en": "close match"},
    "http://www.w3.org/2004/02/skos/core#broader": {"zh": "上位概念", "en": "broader"},
    "http://schema.org/url": {"zh": "网址", "en": "website"},
}
_EXTERNAL = ("http://www.wikidata.org/", "https://sws.geonames.org/", "http://sws.geonames.org/")


class Describer:
    """Describes entities of one store (caches the index and the ontology's labels)."""

    def __init__(self, store: ox.Store, index: Index | None = None):
        self.store = store
        self.index = index or Index(store)
        self.pred_labels: dict[str, dict[str, str]] = {}
        for row in store.query(_PRED_LABELS):
            lit = row["l"]
            if lit.language in ("zh", "en"):
                self.pred_labels.setdefault(row["p"].value, {}).setdefault(lit.language, lit.value)
        self.written_forms: dict[str, str | None] = {}
        for row in store.query(_QUANTITIES):
            self.written_forms[row["p"].value] = row["w"].value if row["w"] is not None else None

    def predicate_label(self, iri: str, lang: str) -> str:
        labels = self.pred_labels.get(iri) or _STANDARD_LABELS.get(iri, {})
        return labels.get(lang) or labels.get("en") or curie(iri)

    def term_label(self, iri: str, lang: str) -> str:
        if iri in self.index.labels:
            return self.index.label(iri, lang)
        labels = self.pred_labels.get(iri)
        return (labels.get(lang) or labels.get("en") or curie(iri)) if labels else curie(iri)

    def describe(self, iri: str, *, include_ontology: bool = False) -> Description:
        """Every fact in and out of iri, each with its evidence; the ontology graph is left out
        unless ``include_ontology`` (for the ontology's own terms and concepts: levels, units)."""
        node = ox.NamedNode(iri)  # validates the IRI, so it can be written into the query text
        evidence: dict[tuple, list[Evidence]] = {}
        for r in self.store.query(_EVIDENCE.replace("$node", str(node)), use_default_graph_as_union=True):
            key = (r["sub"].value, r["p"].value, _key(r["obj"]))
            ev = Evidence(r["doc"].value, int(r["start"].value), int(r["end"].value),
                          r["quote"].value if r["quote"] is not None else None,
                          curie(r["modality"].value).removeprefix("yfid:modality-") if r["modality"] is not None else None)
            if ev not in evidence.setdefault(key, []):
                evidence[key].append(ev)
        self._strength(node, evidence)
        every = "FILTER(?g != yfg:ontology)"
        out = self._facts(_FACTS_OUT.replace(every, "") if include_ontology else _FACTS_OUT, node, iri, evidence,
                          outgoing=True)
        incoming = self._facts(_FACTS_IN.replace(every, "") if include_ontology else _FACTS_IN, node, iri, evidence,
                               outgoing=False)
        self._quantities(node, out)
        self._quantities(node, incoming)
        external = sorted({f.value for f in out if f.is_resource and f.value.startswith(_EXTERNAL)})
        return Description(iri, self.term_label(iri, "zh"), self.term_label(iri, "en"),
                           sorted({f.value for f in out if f.predicate.endswith("#type")}), out, incoming, external)

    def _strength(self, node, evidence: dict[tuple, list[Evidence]]) -> None:
        """Copy each statement's support, reason and qualifier onto its evidence entries."""
        q = _STRENGTH.replace("$node", str(node))
        for r in self.store.query(q, use_default_graph_as_union=True):
            key = (r["sub"].value, r["p"].value, _key(r["obj"]))
            for ev in evidence.get(key, []):
                if ev.document == r["doc"].value and (ev.start, ev.end) == (int(r["start"].value), int(r["end"].value)):
                    val = lambda name: r[name].value if r[name] is not None else None  # noqa: E731
                    if ev.support != "stated":  # one stated statement of the same span wins
                        ev.support = val("support")
                        ev.support_reason_zh, ev.support_reason_en = val("reason_zh"), val("reason_en")
                        ev.inferred_from = sorted(set((val("inferred_from") or "").split()) - {""},
                                                  key=lambda s: int(s.split("-")[0]))
                    ev.qualifier = ev.qualifier or val("qualifier")

    def _quantities(self, node, facts: list["Fact"]) -> None:
        """Support on every fact; for numbers also the qualifier, the written form and the display."""
        written = {f.predicate: f.value for f in facts if not f.is_resource}
        unit = None
        for r in self.store.query(_UNIT.replace("$node", str(node)), use_default_graph_as_union=True):
            unit = r["n"].value
        for f in facts:
            supports = {e.support for e in f.evidence if e.support}
            f.support = "stated" if "stated" in supports else ("implied" if supports else None)
            if f.support == "implied":
                first = next(e for e in f.evidence if e.support == "implied")
                f.support_reason_zh, f.support_reason_en = first.support_reason_zh, first.support_reason_en
            if f.predicate not in self.written_forms:
                continue
            f.qualifier = next((e.qualifier for e in f.evidence if e.qualifier), None)
            wp = self.written_forms[f.predicate]
            f.written = written.get(wp) if wp else None
            f.display = format_quantity(f.value, f.qualifier, "CNY" if f.predicate in _YUAN else unit)

    def _facts(self, query: str, node, iri: str, evidence, *, outgoing: bool) -> list[Fact]:
        facts: dict[tuple, Fact] = {}
        for r in self.store.query(query.replace("$node", str(node))):
            p, o, g = r["p"].value, r["o"], r["g"].value
            if p in _HIDDEN_PREDICATES:
                continue
            key = (p, _key(o))
            inferred = g.endswith("/graph/inferred")
            if key in facts:
                facts[key].inferred = facts[key].inferred and inferred
                continue
            is_res = isinstance(o, ox.NamedNode)
            ev_key = (iri, p, key[1]) if outgoing else (o.value, p, _key(node))
            facts[key] = Fact(
                predicate=p,
                predicate_label_zh=self.predicate_label(p, "zh"),
                predicate_label_en=self.predicate_label(p, "en"),
                value=o.value,
                is_resource=is_res,
                value_label_zh=self.term_label(o.value, "zh") if is_res else o.value,
                value_label_en=self.term_label(o.value, "en") if is_res else o.value,
                datatype=o.datatype.value if isinstance(o, ox.Literal) and o.datatype else None,
                lang=o.language if isinstance(o, ox.Literal) else None,
                inferred=inferred,
                evidence=evidence.get(ev_key, []),
            )
        return sorted(facts.values(), key=lambda f: (f.predicate_label_en, f.value_label_zh, f.value))


def _key(term) -> str:
    return str(term)
