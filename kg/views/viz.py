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

import dataclasses
import difflib
import json
import math
import os
import re
import tempfile
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

WEB = Path(__file__).resolve().parent.parent / "web"
VENDOR_JS = WEB / "static" / "vendor" / "vis-network" / "vis-network.min.js"

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#393b79", "#e6550d", "#31a354", "#843c39", "#7b4173", "#3182bd", "#fd8d3c",
           "#637939", "#ad494a", "#a55194", "#6b6ecf"]
SHAPES = ["dot", "diamond", "square", "triangle", "star", "triangleDown", "hexagon"]
EXTERNAL_GROUP = "external"
UNTYPED_GROUP = "untyped"
EXTERNAL_STYLE = ("#9e9e9e", "square")
SIZE_MIN, SIZE_MAX, SIZE_VOCAB = 10.0, 42.0, 7.0
EXPAND_LIMIT = 50
LARGE_GRAPH = 1000       # above this many nodes: positions computed here, no physics in the page
CONTEXT_LIMIT = 3000     # embedded pages carry the rest of the graph (for expand) up to this size
_PRE = sparql_prefixes()
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

    def __init__(self, store: ox.Store, *, seed: int = SEED, include_inferred: bool = False):
        self.store = store
        self.seed = seed
        self.graph: nx.MultiDiGraph = to_networkx(store, include_inferred=include_inferred)
        self.vocabulary = self._label_vocabulary()
        self.class_labels = self._labels(_CLASS_LABELS, "c")
        self.pred_labels = self._labels(_PRED_LABELS, "p")
        self.group_of = {n: self._primary(d) for n, d in self.graph.nodes(data=True)}
        counts = Counter(self.group_of.values())
        ordered = sorted((g for g in counts if g != EXTERNAL_GROUP), key=lambda g: (-counts[g], g))
        self.styles = {g: (PALETTE[i % len(PALETTE)], SHAPES[(i // len(PALETTE)) % len(SHAPES)])
                       for i, g in enumerate(ordered)}
        self.styles[EXTERNAL_GROUP] = EXTERNAL_STYLE

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
        return {
            "id": iri, "label_zh": d["label_zh"], "label_en": d["label_en"], "pinyin": py,
            "aliases": list(d["aliases"]), "types": list(d["types"]), "group": self.group_of[iri],
            "size": self.sizes[iri], "community": self.analytics.community.get(iri),
            "external": bool(d.get("external")),
            "keys": "\n".join(dict.fromkeys(plain(k) for k in keys if k)),
        }

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
                        "count": counts[g]})
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

    # -- the API's other answers ---------------------------------------------------------
    def search(self, q: str, limit: int = 20) -> dict:
        """/api/search: {"hits": [{iri, label_zh, label_en, types, score, matched}]}."""
        return {"hits": [dataclasses.asdict(h) for h in self.index.search(q, limit=limit)]}

    def detail(self, iri: str) -> dict:
        """/api/node: the contract's detail (kg.read.describe), vocabulary concepts labelled."""
        d = dataclasses.asdict(self.describer.describe(iri))
        if iri in self.graph:
            d["label_zh"], d["label_en"] = self.graph.nodes[iri]["label_zh"], self.graph.nodes[iri]["label_en"]
        return d

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
        payload = {
            "nodes": v["nodes"], "edges": v["edges"],
            "details": {n: self.detail(n) for n in sorted(with_details)},
            "legend": v["legend"],
            "meta": {"title": title, "built_from": built_from, "seed": self.seed, "lang": lang,
                     "nodes": len(v["nodes"]), "edges": len(v["edges"]),
                     "betweenness_exact": self.analytics.betweenness_exact,
                     "hidden_groups": self.vocabulary_groups(),
                     "communities": len(self.analytics.communities)},
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
            query: str | None = None, lang: str = "zh", seed: int = SEED, built_from: str = "") -> dict:
    """The embedded payload of the contract for the whole graph, classes, a focus or a query."""
    return Explorer(store, seed=seed).payload(classes=classes, focus=focus, depth=depth, query=query,
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


def _vendor_js() -> str:
    js = VENDOR_JS.read_text(encoding="utf-8")
    return re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", js)


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
              "hidden_groups": list(hidden_groups if hidden_groups is not None else meta.get("hidden_groups", []))}
    return env.get_template("explorer.html").render(
        title=title or meta.get("title", "鱼峰区知识图谱 · Yufeng KG"),
        lang=config["lang"],
        css=_script_safe((WEB / "static" / "explorer.css").read_text(encoding="utf-8")),
        vendor_js=_script_safe(_vendor_js()),
        app_js=_script_safe((WEB / "static" / "explorer.js").read_text(encoding="utf-8")),
        config_json=_json_safe(config),
        data_json=_json_safe(payload) if mode == "embedded" else None,
    )


def write_html(html: str, out: Path) -> Path:
    """Write html to out as UTF-8, atomically (temporary file in the same folder, then rename)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=str(out.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(html)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


# -- the CLI -------------------------------------------------------------------------------
def cmd_viz(args) -> int:
    import sys

    from kg import paths
    from kg.read.store import open_store

    build_dir = Path(args.build or paths.build_dir())
    out = Path(args.out) if args.out else build_dir / "graph.html"
    store = open_store(build_dir)
    data = payload(store, classes=args.cls, focus=args.focus, depth=args.depth, query=args.query,
                   lang=args.lang, built_from=str(build_dir))
    if not data["nodes"]:
        print("kg: warning: the view has no nodes", file=sys.stderr)
    write_html(render_html(data), out)
    print(f"wrote {out}: {len(data['nodes'])} nodes, {len(data['edges'])} edges, "
          f"{len(data['legend'])} classes")
    return 0


def register(sub) -> None:
    p = sub.add_parser("viz", help="write the interactive graph explorer as one offline HTML file")
    p.add_argument("--out", type=Path, help="HTML file to write (default: BUILD/graph.html)")
    p.add_argument("--build", type=Path, help="build folder (default: build/ or $KG_BUILD)")
    p.add_argument("--class", dest="cls", action="append", metavar="CLASS",
                   help="only this class (curie, name or label; repeatable)")
    p.add_argument("--focus", metavar="ENTITY", help="only this entity's neighbourhood (id, label, alias, pinyin)")
    p.add_argument("--depth", type=int, default=1, help="links out from --focus (default 1)")
    p.add_argument("--query", metavar="NAME|FILE", help="the graph of a named query, a .rq file or SPARQL text")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="label language shown first")
    p.set_defaults(func=cmd_viz)
