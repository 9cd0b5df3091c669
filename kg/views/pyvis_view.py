"""The graph as a pyvis Network, styled like the explorer: the door for people who use pyvis.

:func:`to_pyvis` returns a :class:`KGNetwork`, a ``pyvis.network.Network`` whose nodes and edges
come from the explorer's view (:class:`kg.views.viz.Explorer`): the same colours, shapes, sizes
(PageRank) and zh/en labels, with the facts and the evidence quotes in the tooltips. Compared
with a plain pyvis Network it

- fills ``net.nodes``/``net.edges`` (and ``node_ids``/``node_map``) in one pass: pyvis's
  ``add_node`` checks ``n_id not in self.node_ids`` (a list) and ``add_edge`` checks both ends
  against ``get_nodes()`` (a list), so adding n nodes and m edges costs O(n² + m·n);
- writes a page that works offline: vis-network inlined from our vendored copy
  (kg/web/static/vendor/vis-network), no Bootstrap or tom-select from a CDN, as pyvis's own
  template has even with ``cdn_resources="in_line"``;
- stops the physics once the layout is stable (pyvis keeps it running), and uses the explorer's
  precomputed layout without physics for big graphs;
- writes UTF-8 (pyvis's ``write_html`` uses the locale's encoding), atomically.

Requires the ``notebook`` extra (pyvis): ``pip install 'yufeng-kg[notebook]'``.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import functools

from kg.errors import InputError
from kg.namespaces import curie as _curie

# kg.namespaces.curie scans every prefix per call; a view names few predicates and classes
# many times over, so the tooltips memoise it (it was 85% of the fill's time at 1k nodes).
curie = functools.lru_cache(maxsize=65536)(_curie)

NEEDS = "pyvis is not installed: pip install 'yufeng-kg[notebook]' (or pip install pyvis)"
TOOLTIP_QUOTE = 160      # characters of a quote shown in a tooltip
TOOLTIP_FACTS = 8        # literal facts listed in a node's tooltip
STABILIZATION_STEPS = 400

_EVIDENCE = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX yf: <https://w3id.org/yufeng-kg/ontology#>
SELECT ?s ?p ?o ?start ?end ?quote ?modality WHERE {
  ?st rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; yf:evidence ?span .
  ?span oa:hasSelector ?pos . ?pos oa:start ?start ; oa:end ?end .
  OPTIONAL { ?span oa:hasSelector ?q . ?q oa:exact ?quote }
  OPTIONAL { ?st yf:modality ?modality }
}"""


def _network_class():
    try:
        from pyvis.network import Network
    except ImportError as exc:  # the notebook extra is missing
        raise ImportError(NEEDS) from exc
    return Network


def _kg_network_class():
    """KGNetwork, defined on first use so that importing kg needs no pyvis."""
    global _KG_NETWORK
    if _KG_NETWORK is not None:
        return _KG_NETWORK
    Network = _network_class()

    class KGNetwork(Network):  # type: ignore[misc,valid-type]
        """A pyvis Network whose page is offline, UTF-8 and stops its physics when stable."""

        def generate_html(self, name: str = "index.html", local: bool = True, notebook: bool = False) -> str:
            """The page: our template (kg/web/templates/pyvis.html), vis-network inlined."""
            from kg.views.viz import _script_safe, _vendor_js

            nodes, edges, heading, height, width, options = self.get_network_data()
            template = self.templateEnv.get_template(self.path)
            self.html = template.render(
                nodes=nodes, edges=edges, heading=heading, height=height, width=width, options=options,
                bgcolor=self.bgcolor, lang=getattr(self, "kg_lang", "zh"),
                title=getattr(self, "kg_title", "") or "鱼峰区知识图谱 · Yufeng KG",
                vendor_js=_script_safe(_vendor_js()))
            return self.html

        def write_html(self, name, local: bool = True, notebook: bool = False, open_browser: bool = False) -> None:
            """Write the page to ``name`` as UTF-8, atomically (no lib/ folder, no CDN)."""
            from kg.views.viz import write_html

            write_html(self.generate_html(), Path(name))

        def _repr_html_(self) -> str:
            """In Jupyter: the page in the cell (an iframe holding the whole document)."""
            from kg.views.notebook import iframe

            return iframe(self.generate_html(), height=self.height)

    _KG_NETWORK = KGNetwork
    return KGNetwork


_KG_NETWORK: Any = None


def new_network(*, lang: str = "zh", height: str = "720px", width: str = "100%", heading: str = "",
                physics: bool = True):
    """An empty KGNetwork with the explorer's look and physics that stops when stable."""
    from kg import paths

    net = _kg_network_class()(height=height, width=width, directed=True, heading=heading,
                              cdn_resources="in_line", bgcolor="#ffffff", font_color="#222222")
    net.set_template_dir(str(paths.web_dir() / "templates") + "/", "pyvis.html")
    net.kg_lang = lang
    net.set_options(json.dumps(_options(physics)))
    return net


def _options(physics: bool) -> dict:
    return {
        "nodes": {"font": {"size": 13, "face": "Noto Sans CJK SC, sans-serif"}, "borderWidth": 1},
        "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.5}}, "color": {"inherit": False},
                  "font": {"size": 10, "align": "middle"}, "smooth": False},
        "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": True},
        "physics": {"enabled": physics, "solver": "forceAtlas2Based",
                    "forceAtlas2Based": {"gravitationalConstant": -60, "springLength": 110},
                    "stabilization": {"enabled": True, "iterations": STABILIZATION_STEPS,
                                      "updateInterval": 50, "fit": True}},
        "layout": {"randomSeed": 42, "improvedLayout": False},
    }


def fill(net, view: dict, *, lang: str = "zh", evidence: dict | None = None, styles: dict | None = None,
         edge_labels: bool | None = None) -> Any:
    """Put a view's nodes and edges into ``net`` in one pass (no per-call list scans).

    Args:
        net: a pyvis Network (usually from :func:`new_network`).
        view: {"nodes", "edges", "legend"} in the explorer's contract (spec/explorer-api.md).
        lang: "zh" or "en": the label shown; the other language is in the tooltip.
        evidence: {(s, p, o-text): [evidence dicts]} (see :func:`evidence_index`), for tooltips.
        styles: {group: (colour, shape)}; default: the view's legend.
        edge_labels: draw the property name on edges (default: when there are at most 300 edges).
    Returns:
        net.
    """
    if lang not in ("zh", "en"):
        raise InputError(f"lang must be zh or en, not {lang!r}")
    other = "en" if lang == "zh" else "zh"
    style = dict(styles or {})
    for item in view.get("legend", []):
        style.setdefault(item["group"], (item["color"], item["shape"]))
    group_label = {item["group"]: item.get(f"label_{lang}") or item["group"] for item in view.get("legend", [])}
    facts = _facts_by_subject(evidence or {})
    labels = {n["id"]: n[f"label_{lang}"] for n in view["nodes"]}
    for n in view["nodes"]:
        color, shape = style.get(n["group"], ("#777777", "dot"))
        node = {"id": n["id"], "label": n[f"label_{lang}"], "shape": shape, "color": color,
                "size": n.get("size", 12), "group": n["group"], "font": {"color": "#222222"},
                "title": _node_title(n, lang, other, group_label.get(n["group"], n["group"]), facts.get(n["id"], [])),
                "physics": True}
        if "x" in n and "y" in n:
            node["x"], node["y"] = n["x"], n["y"]
        net.nodes.append(node)
        net.node_ids.append(n["id"])
        net.node_map[n["id"]] = node
    show_labels = len(view["edges"]) <= 300 if edge_labels is None else edge_labels
    for e in view["edges"]:
        quotes = (evidence or {}).get((e["from"], e["predicate"], e["to"]), [])
        edge = {"from": e["from"], "to": e["to"], "arrows": "to",
                "color": "#bbbbbb" if e.get("inferred") else "#8a8a8a",
                "dashes": bool(e.get("inferred")),
                "title": _edge_title(e, lang, other, labels, quotes)}
        if show_labels:
            edge["label"] = e[f"label_{lang}"]
        net.edges.append(edge)
    return net


def _short(text: str, limit: int = TOOLTIP_QUOTE) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _evidence_lines(quotes: list[dict]) -> list[str]:
    out = []
    for q in quotes[:2]:
        where = f"[{q['start']}–{q['end']}]"
        modality = f" ({q['modality']})" if q.get("modality") else ""
        out.append(f"  「{_short(q['quote'])}」{modality} {where}" if q.get("quote") else f"  {where}{modality}")
    return out


def _node_title(n: dict, lang: str, other: str, group: str, facts: list[tuple[str, str, list[dict]]]) -> str:
    """Plain text (vis-network shows a string title as text): names, class, facts, evidence."""
    lines = [n[f"label_{lang}"]]
    if n[f"label_{other}"] and n[f"label_{other}"] != n[f"label_{lang}"]:
        lines.append(n[f"label_{other}"])
    lines.append(f"{group} · {curie(n['id'])}")
    for p, value, quotes in facts[:TOOLTIP_FACTS]:
        lines.append(f"{curie(p)}: {_short(value, 60)}")
        lines.extend(_evidence_lines(quotes[:1]))
    if len(facts) > TOOLTIP_FACTS:
        lines.append(f"… {len(facts) - TOOLTIP_FACTS} more facts")
    return "\n".join(lines)


def _edge_title(e: dict, lang: str, other: str, labels: dict, quotes: list[dict]) -> str:
    head = f"{labels.get(e['from'], curie(e['from']))} —{e[f'label_{lang}']}→ {labels.get(e['to'], curie(e['to']))}"
    lines = [head, f"{e[f'label_{other}']} · {curie(e['predicate'])}" + (" · inferred" if e.get("inferred") else "")]
    return "\n".join(lines + _evidence_lines(quotes))


def _facts_by_subject(evidence: dict) -> dict[str, list[tuple[str, str, list[dict]]]]:
    """Statements with a literal object, by subject: the node's own facts (values, dates)."""
    out: dict[str, list] = defaultdict(list)
    for (s, p, o), quotes in sorted(evidence.items()):
        if quotes and quotes[0].get("literal"):
            out[s].append((p, o, quotes))
    return out


def evidence_index(store) -> dict[tuple[str, str, str], list[dict]]:
    """Every reified statement's evidence, by (subject, predicate, object text), in one query.

    Each entry: {"start", "end", "quote" (when the build had the document), "modality", "literal"}.
    """
    import pyoxigraph as ox

    from kg.pipeline.evidence import readable

    out: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for row in store.query(_EVIDENCE, use_default_graph_as_union=True):
        o = row["o"]
        quote, modality = row["quote"], row["modality"]
        out[(row["s"].value, row["p"].value, o.value)].append({
            "start": int(row["start"].value), "end": int(row["end"].value),
            "quote": readable(quote.value) if quote is not None else None,
            "modality": modality.value.rsplit("/", 1)[-1].removeprefix("modality-") if modality is not None else None,
            "literal": isinstance(o, ox.Literal)})
    for quotes in out.values():
        quotes.sort(key=lambda q: (q["start"], q["end"]))
    return dict(out)


def to_pyvis(build_dir=None, *, focus: str | None = None, depth: int = 1, classes: list[str] | str | None = None,
             query: str | None = None, lang: str = "zh", height: str = "720px", width: str = "100%",
             explorer=None) -> Any:
    """A pyvis Network of the whole graph or a view of it, styled like the explorer.

    Args:
        build_dir: the build folder (default: build/ or $KG_BUILD).
        focus: an entity (id, curie, IRI, zh/en label, alias or pinyin) and its neighbourhood...
        depth: ...this many links out (default 1).
        classes: only nodes of these classes (curie, local name, zh or en label).
        query: the graph of a named query, a .rq file or SPARQL text (CONSTRUCT triples, or the
            resources a SELECT binds).
        lang: "zh" (default) or "en": the label shown on nodes and edges.
        explorer: an existing :class:`kg.views.viz.Explorer` to reuse (else one is made).
    Returns:
        a :class:`KGNetwork` (a ``pyvis.network.Network``): ``net.write_html("x.html")`` writes an
        offline UTF-8 page; in Jupyter the object displays itself.
    Raises:
        ImportError: pyvis is missing (the ``notebook`` extra).
        kg.errors.InputError: unknown class, entity or query.
        FileNotFoundError: no build.
    """
    from kg.views.viz import LARGE_GRAPH, Explorer, _title, add_layout

    _network_class()
    if explorer is None:
        from kg import _store

        explorer = Explorer(_store(build_dir))
    if isinstance(classes, str):
        classes = [classes]
    view = explorer.query_view(query) if query else explorer.view(focus=focus, depth=depth, classes=classes)
    big = len(view["nodes"]) > LARGE_GRAPH
    if big:
        add_layout(view, seed=explorer.seed)
    net = new_network(lang=lang, height=height, width=width, physics=not big,
                      heading="")
    net.kg_title = _title(classes, focus, depth, query, explorer)
    return fill(net, view, lang=lang, evidence=evidence_index(explorer.store), styles=explorer.styles)

