"""The graph explorer: payloads of nodes, edges, details and legend, and the offline HTML page.

The page is one JS app (kg/web/static/explorer.js) over vis-network, vendored from npm
(kg/web/static/vendor/vis-network/, see VENDORED.md there). ``kg viz`` writes it as one
self-contained UTF-8 file with the data embedded; ``kg serve`` serves the same page with the
data fetched from its JSON API. Both follow the data contract in spec/explorer-api.md, and
the server reuses :class:`Explorer` for /api/graph, /api/search, /api/node and /api/expand.

pyvis is not used to write the page: its HTML loads vis-network and Bootstrap from CDNs,
is written in the locale's encoding, and its ``add_node`` is linear per call. The page is
generated from our own template with the JSON payload instead (bench/viz_bench.py keeps a
plain pyvis script as the baseline).
"""
from __future__ import annotations

import base64
import dataclasses
import difflib
import gzip
import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from functools import cached_property
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
from pypinyin import Style, lazy_pinyin

from kg.read.analytics import SEED, Analytics, analyse
from kg.read.describe import Describer, Index, plain
from kg.errors import InputError
from kg.namespaces import ID, curie, curie_to_iri, sparql_prefixes
from kg.read.network import label_vocabulary, to_networkx
from kg.views.files import write_html  # noqa: F401 - part of this module's API (kg viz, tests, pyvis view)

WEB = Path(__file__).resolve().parent.parent / "web"
VENDOR_JS = WEB / "static" / "vendor" / "vis-network" / "vis-network.min.js"

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#393b79", "#e6550d", "#31a354", "#843c39", "#7b4173", "#3182bd", "#fd8d3c",
           "#637939", "#ad494a", "#a55194", "#6b6ecf"]
SHAPES = ["dot", "diamond", "square", "triangle", "star", "triangleDown", "hexagon"]
# A handful of colour families; a class keeps its own shape inside its family (see FAMILY_ROOTS).
FAMILIES = {
    "organisations": ("#1f6fb4", "机构", "organisations"),
    "places": ("#2e8b3e", "地点", "places"),
    "initiatives": ("#c9302c", "战略与会战", "initiatives"),
    "measures": ("#e07b00", "举措与项目", "measures and projects"),
    "awards": ("#8a4fbf", "荣誉称号", "awards"),
    "statistics": ("#138d9c", "统计", "statistics"),
    "events": ("#c2417f", "事件", "events"),
    "vocabulary": ("#7d8590", "词表", "vocabulary"),
    "external": ("#a7adb5", "外部资源", "external"),
}
# Classes (or their ontology ancestors) that decide a family; the first match up the
# rdfs:subClassOf chain wins, so a new subclass in the ontology needs no new code.
FAMILY_ROOTS = {
    "yf:Measure": "measures", "yf:Project": "measures", "yf:Capacity": "measures", "schema:Project": "measures",
    "schema:Action": "measures",
    "yf:Designation": "awards", "yf:DesignationConferral": "awards", "yf:Brand": "awards", "schema:Brand": "awards",
    "yf:StatisticalObservation": "statistics", "yf:Indicator": "statistics", "qb:Observation": "statistics",
    "schema:QuantitativeValue": "statistics",
    "yf:Campaign": "initiatives", "yf:Programme": "initiatives", "yf:ZoneGoal": "initiatives",
    "yf:Strategy": "initiatives", "yf:Plan": "initiatives", "yf:PolicyInitiative": "initiatives",
    "prov:Activity": "initiatives", "schema:CreativeWork": "initiatives",
    "yf:Place": "places", "schema:Place": "places", "geo:Feature": "places", "geo:Geometry": "places",
    "yf:Organization": "organisations", "org:Organization": "organisations", "schema:Organization": "organisations",
    "yf:Platform": "organisations", "schema:Service": "organisations",
    "yf:Event": "events", "schema:Event": "events",
    "skos:Concept": "vocabulary",
}
# Kinds of the overview's groups: a family, with projects apart from measures.
KIND_OF_CLASS = {"yf:Project": "projects", "yf:Capacity": "projects"}
KINDS = {"measures": ("举措", "measures"), "projects": ("项目", "projects"), "organisations": ("机构", "organisations"),
         "awards": ("荣誉", "awards"), "statistics": ("统计", "statistics"), "places": ("地点", "places"),
         "events": ("事件", "events"), "initiatives": ("战略", "initiatives"), "vocabulary": ("词表", "vocabulary"),
         "external": ("外部", "external")}
WEBGL_THRESHOLD = 3000   # above this many nodes the page draws with sigma.js (WebGL)
VENDOR_SIGMA = WEB / "static" / "vendor" / "sigma" / "sigma.min.js"
VENDOR_GRAPHOLOGY = WEB / "static" / "vendor" / "graphology" / "graphology.umd.min.js"
CENTRE = str(ID["yufeng-qu"])
_YEAR_KEYS = ("yf:period", "yf:date", "yf:reportedYear", "yf:assessmentYear")
_MODALITY = "https://w3id.org/yufeng-kg/ontology#modality"
_BROADER = "http://www.w3.org/2004/02/skos/core#broader"
_PART_OF = "https://w3id.org/yufeng-kg/ontology#partOfInitiative"
_ADVANCES = "https://w3id.org/yufeng-kg/ontology#advancesGoal"
EXTERNAL_GROUP = "external"
UNTYPED_GROUP = "untyped"
EXTERNAL_STYLE = ("#9e9e9e", "square")
SIZE_MIN, SIZE_MAX, SIZE_VOCAB = 10.0, 42.0, 7.0
EXPAND_LIMIT = 50
LARGE_GRAPH = 300        # above this many nodes: positions computed here, no physics in the page
CONTEXT_LIMIT = 3000     # embedded pages carry the rest of the graph (for expand) up to this size
_PRE = sparql_prefixes()
_SUPER = _PRE + """SELECT ?c ?s WHERE { GRAPH yfg:ontology { ?c rdfs:subClassOf ?s } }"""
_SOURCES = _PRE + """SELECT ?d ?t ?i WHERE { GRAPH ?g { ?d dcterms:title ?t OPTIONAL { ?d dcterms:issued ?i } } }"""
_CLASS_LABELS = _PRE + """SELECT ?c ?l WHERE { GRAPH yfg:ontology { ?c a owl:Class ; rdfs:label ?l } }"""
_PRED_LABELS = _PRE + "SELECT ?p ?l WHERE { GRAPH yfg:ontology { ?p rdfs:label ?l } }"
_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"


class Explorer:
    """The explorer's data over one store: the resource graph, its analytics and its styles.

    Builds the networkx graph (:func:`kg.read.network.to_networkx`) once and answers the contract's
    requests from it: :meth:`view` (/api/graph), :meth:`search`, :meth:`detail` (/api/node),
    :meth:`expand` and the embedded :meth:`payload`.
    """

    def __init__(self, store: ox.Store, *, seed: int = SEED, include_inferred: bool = False,
                 chart_cache: Path | None = None):
        self.store = store
        self.seed = seed
        self.chart_cache = chart_cache  # charts already drawn, by their data (kg.views.chart.draw_bars)
        self.graph: nx.MultiDiGraph = to_networkx(store, include_inferred=include_inferred)
        self.vocabulary = self._label_vocabulary()
        self.class_labels = self._labels(_CLASS_LABELS, "c")
        self.pred_labels = self._labels(_PRED_LABELS, "p")
        self.group_of = {n: self._primary(d) for n, d in self.graph.nodes(data=True)}
        self.superclasses = self._superclasses()
        counts = Counter(self.group_of.values())
        ordered = sorted((g for g in counts if g != EXTERNAL_GROUP), key=lambda g: (-counts[g], g))
        # colour by family, shape by the class's rank inside its family
        rank: Counter = Counter()
        self.styles = {}
        for g in ordered:
            fam = self.family(g)
            self.styles[g] = (FAMILIES[fam][0], SHAPES[rank[fam] % len(SHAPES)])
            rank[fam] += 1
        self.styles[EXTERNAL_GROUP] = (FAMILIES["external"][0], EXTERNAL_STYLE[1])

    # -- the graph -----------------------------------------------------------------------
    def _labels(self, query: str, var: str) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = defaultdict(dict)
        for row in self.store.query(query):
            lit = row["l"]
            if lit.language in ("zh", "en"):
                out[row[var].value].setdefault(lit.language, lit.value)
        return out

    def _label_vocabulary(self) -> set[str]:
        """Concepts defined in the ontology get its labels and types (see
        :func:`kg.read.network.label_vocabulary`)."""
        return label_vocabulary(self.store, self.graph)

    def _superclasses(self) -> dict[str, list[str]]:
        sup: dict[str, list[str]] = defaultdict(list)
        for row in self.store.query(_SUPER):
            if isinstance(row["s"], ox.NamedNode):
                sup[curie(row["c"].value)].append(curie(row["s"].value))
        return {c: sorted(v) for c, v in sup.items()}

    def family(self, group: str) -> str:
        """The colour family of a class (curie): itself or its nearest ancestor in FAMILY_ROOTS."""
        if group == EXTERNAL_GROUP:
            return "external"
        seen, layer = set(), [group]
        while layer:
            for c in layer:
                if c in FAMILY_ROOTS:
                    return FAMILY_ROOTS[c]
            seen.update(layer)
            layer = [s for c in layer for s in self.superclasses.get(c, []) if s not in seen]
        return "vocabulary"

    def kind(self, iri: str) -> str:
        """The overview group kind of a node: its family, projects apart from measures."""
        g = self.group_of[iri]
        return KIND_OF_CLASS.get(g) or self.family(g)

    @cached_property
    def time_facets(self) -> dict[str, dict]:
        """{iri: {"m": [plan|result|background...], "y": year or None}} for nodes stated with a
        modality: the year comes from the node's own period or date (yf:period, yf:date,
        yf:reportedYear, yf:assessmentYear), never guessed from the document."""
        out = {}
        for n, d in self.graph.nodes(data=True):
            mods = sorted({v.rsplit("modality-", 1)[-1] for _, v, k in self.graph.out_edges(n, keys=True)
                           if k == _MODALITY and "modality-" in v})
            if not mods:
                continue
            year = None
            for key in _YEAR_KEYS:
                for value in d["attributes"].get(key, []):
                    m = re.match(r"(\d{4})", value)
                    if m:
                        year = int(m.group(1))
                        break
                if year:
                    break
            out[n] = {"m": mods, "y": year}
        return out

    def _primary(self, data: dict) -> str:
        if data.get("external"):
            return EXTERNAL_GROUP
        types = data["types"]
        if not types:
            return UNTYPED_GROUP
        return types[0] if len(types) == 1 else min(types, key=lambda t: (self._type_count[t], t))

    @cached_property
    def _type_count(self) -> Counter:
        return Counter(t for _, d in self.graph.nodes(data=True) for t in d["types"])

    @cached_property
    def analytics(self) -> Analytics:
        return analyse(self.graph, seed=self.seed, exclude=self.vocabulary)

    @cached_property
    def index(self) -> Index:
        return Index(self.store)

    @cached_property
    def describer(self) -> Describer:
        return Describer(self.store, self.index)

    @cached_property
    def sizes(self) -> dict[str, float]:
        """Node size from PageRank (square root, so area grows with rank)."""
        pr = self.analytics.pagerank
        top = max(pr.values(), default=0.0) or 1.0
        return {n: (SIZE_VOCAB if n in self.vocabulary or self.graph.nodes[n].get("external")
                    else round(SIZE_MIN + (SIZE_MAX - SIZE_MIN) * math.sqrt(pr.get(n, 0.0) / top), 2))
                for n in self.graph}

    # -- contract shapes -----------------------------------------------------------------
    def node(self, iri: str) -> dict:
        """The contract's node, plus ``keys``: the plain-text search keys (zh, en, pinyin)."""
        d = self.graph.nodes[iri]
        py = d["pinyin"] or (" ".join(lazy_pinyin(d["label_zh"], style=Style.TONE))
                             if _has_han(d["label_zh"]) else None)
        keys = [d["label_zh"], d["label_en"], *d["aliases"]]
        if _has_han(d["label_zh"]):
            keys.append("".join(lazy_pinyin(d["label_zh"], style=Style.NORMAL)))
        if d["pinyin"]:
            keys.append(d["pinyin"])
        group = self.group_of[iri]
        color, shape = self.styles.get(group, ("#777777", "dot"))
        out = {
            "id": iri, "label_zh": d["label_zh"], "label_en": d["label_en"], "pinyin": py,
            "aliases": list(d["aliases"]), "types": list(d["types"]), "group": group,
            "size": self.sizes[iri], "community": self.analytics.community.get(iri),
            "external": bool(d.get("external")),
            "keys": "\n".join(dict.fromkeys(plain(k) for k in keys if k)),
            # for renderers that take the style as it is (a pyvis adapter): label, colour, shape
            "label": d["label_zh"], "color": color, "shape": shape, "family": self.family(group),
        }
        if iri in self.time_facets:
            out["time"] = self.time_facets[iri]
        return out

    def edge(self, u: str, v: str, data: dict) -> dict:
        return {"from": u, "to": v, "predicate": data["predicate"], "label_zh": data["label_zh"],
                "label_en": data["label_en"], "inferred": bool(data["inferred"])}

    def legend(self, nodes: list[dict]) -> list[dict]:
        counts = Counter(n["group"] for n in nodes)
        order = {g: i for i, g in enumerate(self.styles)}
        out = []
        for g in sorted(counts, key=lambda g: (order.get(g, 10**6), g)):
            color, shape = self.styles.get(g, ("#777777", "dot"))
            labels = self.class_labels.get(curie_to_iri(g) or "", {})
            if g == EXTERNAL_GROUP:
                labels = {"zh": "外部资源", "en": "external resource"}
            out.append({"group": g, "label_zh": labels.get("zh") or labels.get("en") or g,
                        "label_en": labels.get("en") or g, "color": color, "shape": shape,
                        "count": counts[g], "family": self.family(g)})
        return out

    def vocabulary_groups(self) -> list[str]:
        """Groups made only of ontology concepts (modality, unit, level, status): hubs that
        every measure links to. The page starts with them hidden (a tick in the legend shows
        them) and keeps them out of the layout, which they would otherwise pull into stars."""
        groups = defaultdict(set)
        for n, g in self.group_of.items():
            groups[g].add(n in self.vocabulary)
        return sorted(g for g, kinds in groups.items() if kinds == {True})

    def _shapes(self, keep: set[str], edges=None) -> dict:
        nodes = [self.node(n) for n in sorted(keep)]
        if edges is None:
            edges = [(u, v, d) for u, v, d in self.graph.edges(data=True) if u in keep and v in keep]
        return {"nodes": nodes, "edges": [self.edge(u, v, d) for u, v, d in sorted(
            edges, key=lambda e: (e[0], e[1], e[2]["predicate"]))], "legend": self.legend(nodes)}

    # -- views ---------------------------------------------------------------------------
    def resolve_classes(self, names: list[str]) -> set[str]:
        """Curies of the classes named (curie, IRI, local name, zh or en label).

        Raises:
            InputError: a name matches no class of the graph (with the closest ones).
        """
        known = sorted({t for _, d in self.graph.nodes(data=True) for t in d["types"]})
        names_of = {}
        for c in known:
            labels = self.class_labels.get(curie_to_iri(c) or "", {})
            for name in (c, curie_to_iri(c) or c, c.split(":", 1)[-1], labels.get("zh"), labels.get("en")):
                if name:
                    names_of.setdefault(plain(name), c)
        chosen = set()
        for name in names:
            c = names_of.get(plain(name))
            if c is None:
                close = difflib.get_close_matches(plain(name), list(names_of), n=6, cutoff=0.4)
                hint = ", ".join(dict.fromkeys(names_of[x] for x in close)) or ", ".join(known[:12])
                raise InputError(f"no class {name!r} in the graph; closest: {hint}")
            chosen.add(c)
        return chosen

    def focus(self, name: str, depth: int = 1) -> set[str]:
        """The nodes within depth links of the entity named (either direction).

        Raises:
            kg.read.describe.Unknown / Ambiguous (InputError): the name does not pick one entity.
        """
        if depth < 0:
            raise InputError(f"--depth must be 0 or more, not {depth}")
        iri = name if name in self.graph else self.index.resolve(name)
        if iri not in self.graph:
            raise InputError(f"{curie(iri)} is not a node of the graph")
        return set(nx.ego_graph(self.graph.to_undirected(as_view=True), iri, radius=depth))

    def view(self, *, focus: str | None = None, depth: int = 1, classes: list[str] | None = None) -> dict:
        """{"nodes", "edges", "legend"}: the whole graph, some classes, or a neighbourhood."""
        keep = set(self.graph)
        if classes:
            wanted = self.resolve_classes(classes)
            keep = {n for n in keep if wanted & set(self.graph.nodes[n]["types"])}
        if focus:
            keep &= self.focus(focus, depth)
        return self._shapes(keep)

    def query_view(self, ref: str) -> dict:
        """The graph of a query's result: CONSTRUCT triples as they are, SELECT results as the
        resources they bind and the links between them.

        Raises:
            InputError: unknown query name, bad SPARQL, or an ASK query.
        """
        from kg.read.query import resolve_query, run_query

        text, name = resolve_query(ref)
        if re.search(r"\bSERVICE\b", re.sub(r"#[^\n]*", "", text), re.IGNORECASE):
            raise InputError(f"query {name or ref!r} uses SERVICE (the network): the explorer runs "
                             "queries on the local graph only")
        result = run_query(self.store, text, source=name or ref)
        if result.kind == "ASK":
            raise InputError(f"query {name or ref!r} is an ASK query: it has no graph to show")
        if result.kind == "SELECT":
            keep = {str(v) for row in result.rows for v in row.asdict().values()
                    if v is not None and type(v).__name__ == "URIRef" and str(v) in self.graph}
            return self._shapes(keep)
        keep, edges = set(), []
        for s, p, o in sorted(result.graph):
            s, p = str(s), str(p)
            if type(o).__name__ != "URIRef" or p == _TYPE:
                continue
            o = str(o)
            for n in (s, o):
                if n not in self.graph:
                    self._add_bare(n)
                keep.add(n)
            labels = self.pred_labels.get(p, {})
            edges.append((s, o, {"predicate": p, "label_zh": labels.get("zh", curie(p)),
                                 "label_en": labels.get("en", curie(p)), "inferred": False}))
        for s in {str(s) for s in result.graph.subjects()} - keep:
            if s in self.graph:
                keep.add(s)
        return self._shapes(keep, edges)

    def _add_bare(self, iri: str) -> None:
        self.graph.add_node(iri, label_zh=curie(iri), label_en=curie(iri), pinyin=None, aliases=[],
                            types=[], attributes={}, external=not iri.startswith(str(ID)))
        self.group_of[iri] = self._primary(self.graph.nodes[iri])
        self.__dict__.pop("sizes", None)
        self.analytics.pagerank.setdefault(iri, 0.0)

    # -- the overview ------------------------------------------------------------------
    def overview(self, keep: set[str] | None = None) -> dict | None:
        """The first screen's structure: the district at the centre, campaigns and zone goals
        as the backbone, every other node in a group (home, kind) under its nearest backbone node.

        Returns None when the graph has no district or no campaign (a class view, a fixture,
        a synthetic graph): the page then draws the nodes as they are.

        Shape: {"centre", "campaigns", "programmes", "goals", "umbrellas", "groups":
        [{"id", "home", "kind", "label_zh", "label_en", "members"}]}; homes of the groups are
        backbone IRIs, members sorted by size (largest first) then IRI.
        """
        g = self.graph
        keep = set(g) if keep is None else keep
        types = {n: set(g.nodes[n]["types"]) for n in keep}
        centre = CENTRE if CENTRE in keep else min(
            (n for n in keep if "yf:District" in types[n]), key=lambda n: (-self.sizes[n], n), default=None)
        campaigns = sorted(n for n in keep if "yf:Campaign" in types[n])
        if centre is None or not campaigns:
            return None
        # a campaign that other campaigns are part of is the programme over them (四大会战)
        programmes = sorted({v for u, v, k in g.edges(campaigns, keys=True)
                             if k == _PART_OF and v in campaigns and v != u}
                            | {n for n in campaigns if "yf:Programme" in types[n]})
        leaves = [n for n in campaigns if n not in programmes]
        goals_all = [n for n in keep if "yf:ZoneGoal" in types[n]]
        umbrellas = sorted({v for u, v, k in g.edges(goals_all, keys=True) if k == _BROADER and v in goals_all})
        order = {c: i for i, c in enumerate(leaves)}

        def goal_key(z):  # goals sit under the first campaign that advances them
            first = min((order[u] for u, _, k in g.in_edges(z, keys=True) if k == _ADVANCES and u in order),
                        default=len(order))
            return (first, z)
        goals = sorted((z for z in goals_all if z not in umbrellas), key=goal_key)
        backbone = [centre, *programmes, *leaves, *umbrellas, *goals]
        home = {b: b for b in backbone}
        vocabulary = {n for n in keep if self.family(self.group_of[n]) in ("vocabulary", "external")}
        # A node hangs under a backbone node it links to; failing that, under the backbone node
        # of a measure or project it links to (an enterprise named in a campaign's measure).
        # A measure is a campaign's only when linked to it directly. Backbone nodes are tried
        # in order (campaigns first); the centre keeps what nothing else claims. Vocabulary
        # hubs are not walked through.
        und = g.to_undirected(as_view=True)
        first = [b for b in backbone if b != centre]
        level1 = []
        for b in first:
            for m in sorted(und[b]):
                if m in keep and m not in home and m not in vocabulary:
                    home[m] = b
                    level1.append(m)
        for m in level1:
            if self.kind(m) not in ("measures", "projects"):
                continue
            for x in sorted(und[m]):
                if x in keep and x not in home and x not in vocabulary and self.kind(x) != "measures":
                    home[x] = home[m]
        members: dict[tuple[str, str], list[str]] = defaultdict(list)
        for n in sorted(keep):
            if n in backbone:
                continue
            members[(home.get(n, centre), self.kind(n))].append(n)
        kind_order = {k: i for i, k in enumerate(KINDS)}
        back_order = {b: i for i, b in enumerate(backbone)}
        groups = []
        for (h, kind), ms in sorted(members.items(), key=lambda x: (back_order[x[0][0]], kind_order.get(x[0][1], 99))):
            ms.sort(key=lambda n: (-self.sizes[n], n))
            zh, en = KINDS.get(kind, (kind, kind))
            groups.append({"id": f"group:{curie(h)}:{kind}", "home": h, "kind": kind, "label_zh": zh,
                           "label_en": en, "members": ms})
        return {"centre": centre, "programmes": programmes, "campaigns": leaves, "umbrellas": umbrellas,
                "goals": goals, "groups": groups, "kinds": {k: {"label_zh": v[0], "label_en": v[1]} for k, v in KINDS.items()},
                "families": {f: {"color": c, "label_zh": zh, "label_en": en} for f, (c, zh, en) in FAMILIES.items()}}

    @cached_property
    def sources(self) -> dict[str, dict]:
        """{document IRI: {"title_zh", "title_en", "date"}} from dcterms:title / dcterms:issued."""
        out: dict[str, dict] = {}
        for row in self.store.query(_SOURCES):
            d = out.setdefault(row["d"].value, {"title_zh": None, "title_en": None, "date": None})
            t = row["t"]
            lang = (t.language or "").split("-")[0]
            if lang in ("zh", "en") and not d[f"title_{lang}"]:
                d[f"title_{lang}"] = t.value
            elif not lang and not d["title_zh"]:
                d["title_zh"] = t.value
            if row["i"] is not None and not d["date"]:
                d["date"] = row["i"].value
        return out

    # -- the API's other answers ---------------------------------------------------------
    def search(self, q: str, limit: int = 20) -> dict:
        """/api/search: {"hits": [{iri, label_zh, label_en, types, score, matched}]}."""
        return {"hits": [dataclasses.asdict(h) for h in self.index.search(q, limit=limit)]}

    def detail(self, iri: str) -> dict:
        """/api/node: the contract's detail (kg.read.describe), vocabulary concepts labelled,
        plus ``chart_svg`` (an SVG chart of the entity's observations) when kg.views.chart is
        there and the entity has observations."""
        d = dataclasses.asdict(self.describer.describe(iri))
        if iri in self.graph:
            d["label_zh"], d["label_en"] = self.graph.nodes[iri]["label_zh"], self.graph.nodes[iri]["label_en"]
        chart = self._chart(iri)
        if chart:
            d["chart_svg"] = chart
        return d

    @cached_property
    def _chart_fn(self):
        try:
            from kg.views.chart import observation_chart
        except ImportError:  # the charts module is optional (another issue adds it)
            return None
        return observation_chart

    def _chart(self, iri: str) -> str | None:
        if self._chart_fn is None or iri not in self.graph or iri in self.vocabulary:
            return None
        try:
            # labels from this explorer's describer: left to itself, each chart builds its own
            # Describer and label index over the whole store (most of `kg viz`'s time)
            chart = self._chart_fn(self.store, iri, label=self.describer.term_label, cache=self.chart_cache)
        except InputError:
            return None
        return (chart.svg if chart else None) or None

    def whole(self) -> dict:
        """/api/graph without a focus: the whole graph with the overview, sources and the
        page's meta (years, hidden groups), as the embedded payload carries them."""
        v = self.view()
        shown = {n["id"] for n in v["nodes"]}
        years = sorted({t["y"] for n in shown if (t := self.time_facets.get(n)) and t["y"]})
        return {**v, "overview": self.overview(shown), "sources": self.sources,
                "meta": {"seed": self.seed, "years": years, "hidden_groups": self.vocabulary_groups()}}

    def expand(self, iri: str, predicate: str | None = None, offset: int = 0, limit: int = EXPAND_LIMIT) -> dict:
        """/api/expand: the neighbours of iri grouped by property, at most ``limit`` per group.

        Raises:
            KeyError: iri is not a node of the graph.
        """
        if iri not in self.graph:
            raise KeyError(iri)
        groups: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
        for u, v, d in self.graph.out_edges(iri, data=True):
            groups[d["predicate"]].append((u, v, d))
        for u, v, d in self.graph.in_edges(iri, data=True):
            if u != v:
                groups[d["predicate"]].append((u, v, d))
        out_nodes: dict[str, dict] = {}
        out_edges, out_groups = [], []
        for p in sorted(groups, key=lambda p: (-len(groups[p]), p)):
            if predicate and p != predicate:
                continue
            members = sorted(groups[p], key=lambda e: (-self.sizes[_other(e, iri)], _other(e, iri)))
            start = offset if predicate else 0
            chosen = members[start:start + limit]
            for e in chosen:
                n = _other(e, iri)
                out_nodes.setdefault(n, self.node(n))
                out_edges.append(self.edge(*e))
            nxt = start + len(chosen)
            labels = self.pred_labels.get(p, {})
            out_groups.append({"predicate": p, "label_zh": labels.get("zh", curie(p)),
                               "label_en": labels.get("en", curie(p)), "total": len(members),
                               "returned": len(chosen), "next_offset": nxt if nxt < len(members) else None})
        return {"nodes": list(out_nodes.values()), "edges": out_edges, "groups": out_groups}

    def payload(self, *, classes: list[str] | None = None, focus: str | None = None, depth: int = 1,
                query: str | None = None, lang: str = "zh", built_from: str = "") -> dict:
        """The embedded payload: {"nodes", "edges", "details", "legend", "meta"} (and "context":
        the rest of a small graph, so that expand works offline in a partial view)."""
        if lang not in ("zh", "en"):
            raise InputError(f"--lang must be zh or en, not {lang!r}")
        v = self.query_view(query) if query else self.view(focus=focus, depth=depth, classes=classes)
        shown = {n["id"] for n in v["nodes"]}
        rest = set(self.graph) - shown
        if len(self.graph) > CONTEXT_LIMIT:  # big graphs: only the ring one link out
            rest = {m for n in shown for m in nx.all_neighbors(self.graph, n)} - shown
        context = self._shapes(rest) if rest else {"nodes": [], "edges": []}
        context_edges = [e for e in (self.edge(u, w, d) for u, w, d in self.graph.edges(data=True))
                         if (e["from"] in rest or e["to"] in rest) and {e["from"], e["to"]} <= shown | rest]
        with_details = shown | (rest if len(shown | rest) <= CONTEXT_LIMIT else set())
        title = _title(classes, focus, depth, query, self)
        overview = None if query or focus else self.overview(shown)
        years = sorted({t["y"] for n in shown if (t := self.time_facets.get(n)) and t["y"]})
        payload = {
            "nodes": v["nodes"], "edges": v["edges"],
            "details": {n: self.detail(n) for n in sorted(with_details)},
            "legend": v["legend"],
            "overview": overview,
            "sources": self.sources,
            "meta": {"title": title, "built_from": built_from, "seed": self.seed, "lang": lang,
                     "nodes": len(v["nodes"]), "edges": len(v["edges"]),
                     "betweenness_exact": self.analytics.betweenness_exact,
                     "hidden_groups": self.vocabulary_groups(),
                     "communities": len(self.analytics.communities), "years": years,
                     "focus": self.index.resolve(focus) if focus and focus not in self.graph else focus,
                     "depth": depth},
            "context": {"nodes": context["nodes"], "edges": context_edges},
        }
        add_layout(payload, seed=self.seed)
        return payload


def _other(e: tuple, iri: str) -> str:
    return e[1] if e[0] == iri else e[0]


def _has_han(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text or "")


def _title(classes, focus, depth, query, ex: Explorer) -> str:
    base = "鱼峰区知识图谱 · Yufeng KG"
    if query:
        return f"{base} — 查询 query: {query if len(query) < 60 else 'SPARQL'}"
    parts = []
    if classes:
        parts.append("类 class: " + ", ".join(classes))
    if focus:
        iri = focus if focus in ex.graph else ex.index.resolve(focus)
        parts.append(f"{ex.graph.nodes[iri]['label_zh']} ±{depth}")
    return base + (" — " + "; ".join(parts) if parts else "")


def payload(store: ox.Store, *, classes: list[str] | None = None, focus: str | None = None, depth: int = 1,
            query: str | None = None, lang: str = "zh", seed: int = SEED, built_from: str = "",
            chart_cache: Path | None = None) -> dict:
    """The embedded payload of the contract for the whole graph, classes, a focus or a query
    (``chart_cache``: a folder of the observation charts already drawn, see Explorer)."""
    return Explorer(store, seed=seed, chart_cache=chart_cache).payload(classes=classes, focus=focus, depth=depth, query=query,
                                              lang=lang, built_from=built_from)


# -- layout of big graphs ------------------------------------------------------------------
def add_layout(payload: dict, *, seed: int = SEED, spacing: float = 38.0) -> None:
    """Give every node x/y when the graph is too big for physics in the browser.

    Communities (or classes) become discs packed on a sunflower spiral, largest in the middle;
    inside a disc, nodes follow a sunflower spiral by size, hubs in the centre. Linear in the
    nodes, deterministic (seed only breaks ties), and readable enough to start clicking from.
    """
    nodes = payload["nodes"]
    if len(nodes) <= LARGE_GRAPH or all("x" in n for n in nodes):
        return
    clusters: dict = defaultdict(list)
    for n in nodes:
        key = n.get("community")
        clusters[("c", key) if key is not None else ("g", n["group"])].append(n)
    order = sorted(clusters.values(), key=lambda c: (-len(c), c[0]["id"]))
    golden = math.pi * (3 - math.sqrt(5))
    placed = 0
    for j, members in enumerate(order):
        members.sort(key=lambda n: (-n.get("size", 0), n["id"]))
        radius = spacing * math.sqrt(placed + len(members) / 2) * 1.25
        cx = radius * math.cos(j * golden + seed)
        cy = radius * math.sin(j * golden + seed)
        placed += len(members)
        for i, n in enumerate(members):
            r = spacing * math.sqrt(i) * 0.9
            n["x"] = round(cx + r * math.cos(i * golden), 1)
            n["y"] = round(cy + r * math.sin(i * golden), 1)
    payload.setdefault("meta", {})["layout"] = "precomputed"


# -- the page ------------------------------------------------------------------------------
def _script_safe(text: str) -> str:
    """Code that can sit inside <script>…</script>: only "</script" ends a script element (and
    "<!--" can start the escaped state), so only those are touched; a blanket "</" -> "<\\/"
    would break regular expressions such as /</ in the vendored code."""
    if "<!--" in text:
        raise ValueError("inlined code must not contain '<!--'")
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


def _json_safe(obj) -> str:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    # JSON escapes only: "<\/" is "</", "\u003c!--" is "<!--" and U+2028/9 stay literal-safe.
    return (text.replace("<!--", "\\u003c!--").replace("</", "<\\/")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _vendor_js(path: Path = VENDOR_JS) -> str:
    js = path.read_text(encoding="utf-8")
    return re.sub(r"\n?//# sourceMappingURL=\S+\s*$", "\n", js)


def unpack(packed: dict) -> dict:
    """The inverse of pack() (for tests and tools reading a written page): nodes and edges as
    dicts again, with absent fields filled in as the page does (types = [group], no aliases)."""
    fields = packed["nodes"]["f"]

    def nodes(block):
        out = []
        for row in block["r"]:
            n = dict(zip(fields, row))
            n["aliases"] = n.get("aliases") or []
            n["types"] = [n.get("group")] if n.get("types") is None else n["types"]
            n["external"] = bool(n.get("external"))
            out.append(n)
        return out

    table = packed.get("predicates", [])
    main = nodes(packed["nodes"])
    ctx = nodes(packed["context"]["nodes"]) if packed.get("context") else []
    every = [*main, *ctx]

    def edges(rows):
        return [{"from": every[f]["id"] if isinstance(f, int) else f, "to": every[t]["id"] if isinstance(t, int) else t,
                 "predicate": table[p][0], "label_zh": table[p][1], "label_en": table[p][2], "inferred": bool(i)}
                for f, t, p, i in rows]

    out = {k: v for k, v in packed.items() if k not in ("nodes", "edges", "context", "predicates")}
    out["nodes"], out["edges"] = main, edges(packed["edges"])
    out["context"] = {"nodes": ctx, "edges": edges(packed.get("context", {}).get("edges", []))}
    return out


# Fields of a node as the page gets them: one row per node, in this order (see pack()).
PACKED_FIELDS = ("id", "label_zh", "label_en", "pinyin", "aliases", "types", "group", "size", "community",
                 "external", "keys", "x", "y", "time")


def pack(payload: dict) -> dict:
    """The payload as the page embeds it: nodes as rows of PACKED_FIELDS, edges as
    [from index, to index, predicate index, inferred] with a predicate table, so a 20k-node
    graph is not written as 20k verbose objects. Derived style fields (label, color, shape,
    family) are left out: the page takes them from the legend. Search keys keep only what the
    labels do not already give (pinyin without tones, aliases)."""
    nodes = payload["nodes"]
    ctx = payload.get("context") or {"nodes": [], "edges": []}
    index = {n["id"]: i for i, n in enumerate([*nodes, *ctx["nodes"]])}
    preds: dict[str, int] = {}
    table: list[list] = []

    def row(n: dict) -> list:
        out = []
        for f in PACKED_FIELDS:
            v = n.get(f)
            if f == "keys" and v:
                own = {plain(n.get("label_zh") or ""), plain(n.get("label_en") or "")}
                v = "\n".join(k for k in v.split("\n") if k not in own) or None
            elif f == "types" and v == [n.get("group")]:
                v = None
            elif f in ("aliases",) and not v:
                v = None
            elif f == "external" and not v:
                v = None
            out.append(v)
        while out and out[-1] is None:
            out.pop()
        return out

    def edge(e: dict) -> list:
        p = e["predicate"]
        if p not in preds:
            preds[p] = len(table)
            table.append([p, e["label_zh"], e["label_en"]])
        return [index.get(e["from"], e["from"]), index.get(e["to"], e["to"]), preds[p], 1 if e.get("inferred") else 0]

    out = {k: v for k, v in payload.items() if k not in ("nodes", "edges", "context")}
    out["nodes"] = {"f": list(PACKED_FIELDS), "r": [row(n) for n in nodes]}
    out["edges"] = [edge(e) for e in payload["edges"]]
    out["context"] = {"nodes": {"f": list(PACKED_FIELDS), "r": [row(n) for n in ctx["nodes"]]},
                      "edges": [edge(e) for e in ctx.get("edges", [])]}
    out["predicates"] = table
    return out


DETAILS_GZIP_MIN = 256_000   # bytes of details JSON above which the page carries them gzipped


def encode_details(details: dict) -> tuple[str, str | None]:
    """The details block's text and its encoding: JSON as it is (None) up to DETAILS_GZIP_MIN
    bytes, else "gzip-base64": lines (the IRIs as one JSON array, then each IRI's detail as one
    JSON line, in that order) gzipped (deterministic: no name, mtime 0) and in base64. The page
    inflates it with the browser's DecompressionStream when a panel first opens and parses only
    the line of the node shown."""
    text = _json_safe(details)
    if len(text.encode("utf-8")) <= DETAILS_GZIP_MIN:
        return text, None
    iris = sorted(details)
    lines = [json.dumps(iris, ensure_ascii=False, separators=(",", ":"))]
    lines += [json.dumps(details[i], ensure_ascii=False, separators=(",", ":")) for i in iris]
    raw = "\n".join(lines).encode("utf-8")  # json.dumps escapes newlines inside strings
    return base64.b64encode(gzip.compress(raw, compresslevel=3, mtime=0)).decode("ascii"), "gzip-base64"


def decode_details(text: str, encoding: str | None) -> dict:
    """The inverse of encode_details."""
    if encoding is None:
        return json.loads(text)
    if encoding != "gzip-base64":
        raise ValueError(f"unknown details encoding {encoding!r}")
    lines = gzip.decompress(base64.b64decode(text)).decode("utf-8").split("\n")
    iris = json.loads(lines[0])
    return {iri: json.loads(line) for iri, line in zip(iris, lines[1:], strict=True)}


def read_page(html: str) -> dict:
    """The payload an embedded page carries (for tests and tools): its graph unpacked and its
    details, decoded whichever way they were written."""
    m = re.search(r'<script type="application/json" id="kg-data">(.*?)</script>', html, re.S)
    if not m:
        raise ValueError("not an embedded explorer page: no kg-data block")
    data = unpack(json.loads(m.group(1)))
    d = re.search(r'<script type="[^"]+" id="kg-details"(?: data-encoding="([^"]+)")?>(.*?)</script>', html, re.S)
    data["details"] = decode_details(d.group(2), d.group(1)) if d else {}
    return data


def render_html(payload: dict | None = None, *, mode: str = "embedded", api_base: str = "/api",
                lang: str | None = None, title: str | None = None,
                hidden_groups: list[str] | None = None) -> str:
    """The explorer page with every script and style inlined.

    Args:
        payload: the embedded payload (mode "embedded"); ignored in mode "server".
        mode: "embedded" (data in the page, for file://) or "server" (data from ``api_base``).
        api_base: where the server's /api lives (mode "server").
        hidden_groups: groups the page starts with hidden (default: the payload's
            meta.hidden_groups; in server mode pass ``Explorer.vocabulary_groups()``).
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    if mode not in ("embedded", "server"):
        raise ValueError(f"mode must be 'embedded' or 'server', not {mode!r}")
    if mode == "embedded" and payload is None:
        raise ValueError("an embedded page needs a payload")
    if mode == "embedded":
        add_layout(payload)
    meta = (payload or {}).get("meta", {})
    env = Environment(loader=FileSystemLoader(str(WEB / "templates")), autoescape=select_autoescape(["html"]))
    config = {"mode": mode, "api_base": api_base, "lang": lang or meta.get("lang", "zh"),
              "hidden_groups": list(hidden_groups if hidden_groups is not None else meta.get("hidden_groups", [])),
              "webgl_threshold": WEBGL_THRESHOLD}
    webgl = mode == "server" or len(payload["nodes"]) > WEBGL_THRESHOLD
    packed, details, details_encoding = None, None, None
    if mode == "embedded":
        # the details (facts and evidence of each node) sit in their own block, parsed when a
        # panel first opens, so the first screen waits only for the graph itself; a big one is
        # gzipped (base64): the browser reads, decodes and tokenises every byte of the page
        # before its first frame, and at 20k nodes the details were 12 of the page's 17 MB
        packed = pack(payload)
        details, details_encoding = encode_details(packed.pop("details", {}) or {})
    webgl_js = [_script_safe(_vendor_js(VENDOR_GRAPHOLOGY)), _script_safe(_vendor_js(VENDOR_SIGMA))] if webgl else []
    return env.get_template("explorer.html").render(
        title=title or meta.get("title", "鱼峰区知识图谱 · Yufeng KG"),
        lang=config["lang"],
        css=_script_safe((WEB / "static" / "explorer.css").read_text(encoding="utf-8")),
        # an embedded page draws with one renderer, decided by its size: only that one is inlined
        vendor_js=_script_safe(_vendor_js()) if mode == "server" or not webgl else None,
        app_js=_script_safe((WEB / "static" / "explorer.js").read_text(encoding="utf-8")),
        config_json=_json_safe(config),
        data_json=_json_safe(packed) if mode == "embedded" else None,
        details_json=details if mode == "embedded" else None,
        details_encoding=details_encoding,
        webgl_js=webgl_js,
    )


# -- the CLI -------------------------------------------------------------------------------
def view_name(classes: list[str] | None = None, focus: str | None = None, depth: int = 1,
              query: str | None = None) -> str | None:
    """The file name (without .html) of a partial view under build/views/, or None for the
    whole graph: ASCII, stable, made from the options (class-..., focus-...-dN, query-...)."""
    parts = []
    if query:
        q = Path(query).stem if query.endswith(".rq") else query
        slug = _slug(q) if re.fullmatch(r"[\w.-]{1,60}", q, re.ASCII) else "sparql-" + hashlib.sha256(query.encode()).hexdigest()[:10]
        parts.append("query-" + slug)
    if classes:
        parts.append("class-" + "+".join(_slug(c) for c in sorted(classes)))
    if focus:
        parts.append(f"focus-{_slug(focus)}-d{depth}")
    return "_".join(parts) or None


def _slug(text: str) -> str:
    """ASCII slug: curies and IRIs keep their local name, Chinese becomes pinyin."""
    text = text.rsplit("/", 1)[-1].rsplit("#", 1)[-1].replace(":", "-")
    if _has_han(text):
        text = "-".join(lazy_pinyin(text, style=Style.NORMAL))
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60] or hashlib.sha256(text.encode()).hexdigest()[:10]


def cmd_viz(args) -> int:
    import sys

    from kg import paths
    from kg.read.store import open_store

    build_dir = Path(args.build or paths.build_dir())
    name = view_name(args.cls, args.focus, args.depth, args.query)
    # the whole graph is build/graph.html; any other view goes to build/views/, so a partial
    # view never replaces the whole-graph page
    out = Path(args.out) if args.out else (build_dir / "views" / f"{name}.html" if name else build_dir / "graph.html")
    store = open_store(build_dir)
    data = payload(store, classes=args.cls, focus=args.focus, depth=args.depth, query=args.query,
                   lang=args.lang, built_from=str(build_dir), chart_cache=build_dir / "cache" / "charts")
    if not data["nodes"]:
        print("kg: warning: the view has no nodes", file=sys.stderr)
    if str(args.out) == "-":  # -o -: the page on stdout, the summary on stderr
        sys.stdout.write(render_html(data))
        print(f"kg: {len(data['nodes'])} nodes, {len(data['edges'])} edges", file=sys.stderr)
        return 0
    write_html(render_html(data), out)
    renderer = "WebGL (sigma.js)" if len(data["nodes"]) > WEBGL_THRESHOLD else "vis-network"
    print(f"{out}")
    print(f"wrote {out}: {len(data['nodes'])} nodes, {len(data['edges'])} edges, "
          f"{len(data['legend'])} classes, drawn with {renderer}", file=sys.stderr)
    return 0


def register(sub) -> None:
    p = sub.add_parser("viz", help="write the interactive graph explorer as one offline HTML file")
    p.add_argument("-o", "--out", type=Path, help="HTML file to write (default: BUILD/graph.html for the whole graph, "
                   "BUILD/views/NAME.html for a --class, --focus or --query view; - for stdout); the path is printed")
    p.add_argument("--build", type=Path, help="build folder (default: build/ or $KG_BUILD)")
    p.add_argument("--class", dest="cls", action="append", metavar="CLASS",
                   help="only this class (curie, name or label; repeatable)")
    p.add_argument("--focus", metavar="ENTITY", help="only this entity's neighbourhood (id, label, alias, pinyin)")
    p.add_argument("--depth", type=int, default=1, help="links out from --focus (default 1)")
    p.add_argument("--query", metavar="NAME|FILE", help="the graph of a named query, a .rq file or SPARQL text")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="label language shown first")
    p.set_defaults(func=cmd_viz)
