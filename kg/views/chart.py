"""Charts of the graph's numbers as SVG (matplotlib): named queries with a ``# chart:`` directive
and any entity's observations.

A named query says how to draw its rows in a header line, as ``# networkx:`` says how to walk
them::

    # chart: barh label=indicator value=value facet=unit growth=growth_percent
    # chart: barh label=campaign value=facts group=modality

``barh``: one horizontal bar per row, ``label=VAR`` naming it (its ``VAR_zh``/``VAR_en`` column
when the query has one, else the IRI's label), ``value=VAR`` its length; ``group=VAR`` stacks
the bars of one label by group (plan / result); ``facet=VAR`` draws one panel per value of VAR
(values in different units never share an axis); ``growth=VAR`` adds a panel of the growth
rates (%); ``written=VAR`` puts the number as the source wrote it (``超10亿元``, qualifier
included) beside the bar; ``of=VAR`` (the area) is added to the labels of the rows whose VAR
is not the most common one; ``title=slug`` is the chart's title (the query's question by default).

Text is drawn with the CJK font found by matplotlib's font manager (Debian's fonts-noto-cjk,
installed by scripts/system-deps.sh); without one, the chart is still drawn and the Chinese
labels fall back to the English ones. Output is deterministic (no date, fixed ids) and nothing
is fetched. Requires matplotlib (the ``chart`` or ``notebook`` extra).
"""
from __future__ import annotations

import functools
import hashlib
import io
import json
import threading
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.errors import InputError, Position
from kg.namespaces import curie

NEEDS = "matplotlib is not installed: pip install 'yufeng-kg[chart]' (or matplotlib)"
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans CJK KR",
                "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei",
                "Microsoft YaHei", "PingFang SC")
COLORS = {"plan": "#ff7f0e", "result": "#1f77b4", "background": "#9e9e9e"}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
_KINDS = {"barh": {"label", "value", "group", "facet", "growth", "title", "written", "of"}}
_XSD = "http://www.w3.org/2001/XMLSchema#"
# matplotlib's rc settings are process-wide: charts are drawn one at a time inside rc_context,
# so a server drawing in several threads never sees another chart's settings half-applied.
_DRAWING = threading.Lock()


@dataclass
class ChartSpec:
    """A parsed ``# chart:`` directive."""

    kind: str
    options: dict[str, str] = field(default_factory=dict)


@dataclass
class Chart:
    """An SVG chart; shows itself in a notebook, ``save(path)`` writes it."""

    svg: str
    title: str = ""

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path) -> Path:
        from kg.views.files import write_html

        return write_html(self.svg, Path(path))

    def __str__(self) -> str:
        return self.svg


def parse_chart(directive: str, source: str = "query") -> ChartSpec:
    """Parse a ``# chart:`` directive.

    Raises:
        InputError: unknown kind, unknown option, or a required option missing.
    """
    words = directive.split()
    kind = words[0].lower() if words else ""
    if kind not in _KINDS:
        raise InputError(f"bad `# chart:` directive {directive!r}: the kind must be one of {sorted(_KINDS)}",
                         Position(source))
    options = {}
    for w in words[1:]:
        key, sep, value = w.partition("=")
        if not sep or key not in _KINDS[kind] or not value:
            raise InputError(f"bad `# chart:` option {w!r}: expected KEY=VALUE with KEY one of "
                             f"{sorted(_KINDS[kind])}", Position(source))
        options[key] = value.lstrip("?")
    for need in ("label", "value"):
        if need not in options:
            raise InputError(f"`# chart: {kind}` needs {need}=VAR", Position(source))
    return ChartSpec(kind, options)


def chart_directive(text: str) -> str | None:
    """The ``# chart:`` line of a query's leading comments, or None."""
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        m = re.match(r"^#\s*chart\s*:\s*(.+)$", line.strip(), re.IGNORECASE)
        if m:
            return m.group(1).strip()
    return None


def _question(text: str, lang: str) -> str:
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        m = re.match(rf"^#\s*{lang}\s*:\s*(.+)$", line.strip())
        if m:
            return m.group(1).strip()
    return ""


# -- fonts ---------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def cjk_family() -> str | None:
    """The first installed CJK font family matplotlib knows (None when there is none)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    for name in sorted(names):  # any other family that says it covers CJK
        if "CJK" in name or "Han" in name:
            return name
    return None


def _rc(lang: str) -> Any:
    family = cjk_family()
    fonts = ([family] if family else []) + ["DejaVu Sans"]
    return {"font.family": "sans-serif", "font.sans-serif": fonts, "svg.fonttype": "path",
            "svg.hashsalt": "yufeng-kg", "axes.unicode_minus": False, "font.size": 9}


def _use_lang(lang: str) -> str:
    """zh only when a CJK font is there to draw it; else en (readable rather than boxes)."""
    return lang if lang == "en" or cjk_family() else "en"


# -- drawing -------------------------------------------------------------------------------------

COLUMNS = 2  # panels per row: wider charts do not fit a page or a README


def _figure(height_rows: int, panels: int):
    """A figure for ``panels`` panels of up to ``height_rows`` bars, at most COLUMNS a row."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(NEEDS) from exc
    rows = -(-panels // COLUMNS)
    height = rows * max(2.0, 0.7 + 0.28 * height_rows) + 0.4
    # no layout engine: matplotlib's constrained layout measured every artist in one extra draw
    # per chart (half of `kg viz`'s chart time); _place sets the same margins from the texts
    return Figure(figsize=(7.5 if panels == 1 else 10.0, height))


PAD = 3 / 72  # inches around each panel, as constrained layout's default w_pad / h_pad


def _place(fig, axes: list, ylabels: list[list[str]], xlabels: list[bool], cols: int, title_size: float) -> None:
    """Put the panels in their grid cells with room for their tick labels, axis labels and the
    figure's title: what constrained layout did, computed from the label texts alone (measured
    with the fonts the SVG draws them with) instead of from an extra draw of the figure.

    Args:
        axes: the panels, row by row; ylabels: each panel's tick labels on the y axis;
        xlabels: whether a panel has an x axis label.
    """
    import matplotlib
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    rc = matplotlib.rcParams
    prop = FontProperties(size=rc["font.size"])

    def size(text: str) -> tuple[float, float]:  # inches
        w, h, _d = text_to_path.get_text_width_height_descent(text, prop, ismath=False)
        return w / 72, h / 72

    line = size("0国")[1]
    tick = (rc["ytick.major.size"] + rc["ytick.major.pad"]) / 72
    width, height = fig.get_size_inches()
    rows = -(-len(axes) // cols)
    top = 2 * PAD + 1.2 * title_size / 72           # the figure's title
    cell_w, cell_h = width / cols, (height - top) / rows
    left = [0.0] * cols
    for i, labels in enumerate(ylabels):
        left[i % cols] = max([left[i % cols]] + [size(t)[0] for t in labels])
    for i, ax in enumerate(axes):
        r, c = divmod(i, cols)
        x0 = c * cell_w + PAD + left[c] + tick
        x1 = (c + 1) * cell_w - PAD - line                # room for the last x tick label's overhang
        y1 = height - top - r * cell_h - line / 2         # room for the first y tick label's overhang
        y0 = height - top - (r + 1) * cell_h + PAD + tick + line
        if xlabels[i]:
            y0 += rc["axes.labelpad"] / 72 + line
        ax.set_position([x0 / width, y0 / height, (x1 - x0) / width, (y1 - y0) / height])


def _svg(fig) -> str:
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(fig)
    buf = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # missing glyphs when no CJK font is found
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "Yufeng KG (matplotlib)"})
    return buf.getvalue()


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e8:
        return f"{v / 1e8:.4g}亿"
    if abs(v) >= 1e4:
        return f"{v / 1e4:.4g}万"
    return f"{v:.4g}"


@functools.lru_cache(maxsize=1)
def _code_key() -> str:
    """What a cached chart depends on besides its data: this module's code and matplotlib's version."""
    from importlib.metadata import version

    return hashlib.sha256(Path(__file__).read_bytes() + version("matplotlib").encode()).hexdigest()


def draw_bars(rows: list[dict], *, title: str, lang: str, value_label: str = "",
              growth: list[tuple[str, float]] | None = None, cache: Path | None = None) -> str:
    """Horizontal bars as SVG.

    Args:
        rows: [{"label", "value", "group" (optional), "facet" (optional)}]; one panel per facet.
        growth: [(label, percent)] drawn as a panel of its own.
        cache: a folder of charts already drawn, keyed by their data (rows, title, language,
            growth) and this module's code: a chart found there is read, not drawn again (the
            same bytes, as drawing is deterministic); a chart drawn is left there.
    """
    if cache is not None:
        key = json.dumps([rows, title, lang, value_label, growth, _code_key()], ensure_ascii=False,
                         sort_keys=True, default=str)
        path = Path(cache) / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".svg")
        try:
            return path.read_text(encoding="utf-8")
        except OSError:
            pass
        svg = draw_bars(rows, title=title, lang=lang, value_label=value_label, growth=growth)
        try:
            from kg.views.files import write_html

            write_html(svg, path)  # a temporary file, then renamed: never half a chart
        except OSError:
            pass  # a read-only build folder: the chart is still returned
        return svg
    import matplotlib

    lang = _use_lang(lang)
    facets: dict[str, list[dict]] = {}
    for r in rows:
        facets.setdefault(r.get("facet") or "", []).append(r)
    panels = len(facets) + (1 if growth else 0)
    if not panels:
        raise InputError("nothing to draw: the query returned no numbers")
    with _DRAWING, matplotlib.rc_context(_rc(lang)):
        tallest = max([len({r["label"] for r in rs}) for rs in facets.values()] + [len(growth or [])])
        fig = _figure(tallest, panels)
        grid = fig.subplots(-(-panels // COLUMNS), min(panels, COLUMNS), squeeze=False)
        axes = [ax for row in grid for ax in row]
        for ax in axes[panels:]:  # an odd number of panels leaves the last cell empty
            ax.set_axis_off()
        axes = axes[:panels]
        ylabels, xlabels = [], []
        for ax, (facet, rs) in zip(axes, facets.items()):
            _bars(ax, rs, facet or value_label)
            ylabels.append(list(dict.fromkeys(r["label"] for r in rs)))
            xlabels.append(bool(facet or value_label))
        if growth:
            ax = axes[-1]
            labels = [g[0] for g in growth]
            values = [g[1] for g in growth]
            ax.barh(range(len(values)), values, color=["#2ca02c" if v >= 0 else "#d62728" for v in values])
            ax.set_yticks(range(len(values)), labels)
            ax.invert_yaxis()
            ax.set_xlabel("同比增速 %" if lang == "zh" else "growth, % year on year")
            for i, v in enumerate(values):
                ax.annotate(f"{v:g}%", (v, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
            ax.margins(x=0.25)
            ylabels.append(labels)
            xlabels.append(True)
        _place(fig, axes, ylabels, xlabels, min(panels, COLUMNS), 11)
        fig.suptitle(title, fontsize=11, y=1 - PAD / fig.get_size_inches()[1], va="top")
        return _svg(fig)


def _bars(ax, rows: list[dict], xlabel: str) -> None:
    labels = list(dict.fromkeys(r["label"] for r in rows))
    groups = list(dict.fromkeys(r.get("group") or "" for r in rows))
    left = [0.0] * len(labels)
    for gi, g in enumerate(groups):
        values = [sum(r["value"] for r in rows if r["label"] == lab and (r.get("group") or "") == g)
                  for lab in labels]
        color = COLORS.get(_modality_key(g), PALETTE[gi % len(PALETTE)]) if g else PALETTE[0]
        ax.barh(range(len(labels)), values, left=left, color=color, label=g or None)
        left = [a + b for a, b in zip(left, values)]
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    spread = max(left, default=0) / max(min((v for v in left if v > 0), default=1), 1e-12)
    if spread > 1000:  # values from tens to billions: a log axis keeps every bar visible
        ax.set_xscale("log")
    written = {r["label"]: r["written"] for r in rows if r.get("written")}
    for i, v in enumerate(left):
        text = written.get(labels[i]) if len(groups) == 1 else None
        ax.annotate(text or _fmt(v), (v, i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    ax.margins(x=0.2)
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _fmt(v)))
    if xlabel:
        ax.set_xlabel(xlabel)
    if any(groups):
        ax.legend(loc="lower right", fontsize=8, frameon=False)


def _modality_key(group: str) -> str:
    table = {"计划": "plan", "成果": "result", "背景": "background"}
    return table.get(group, group.lower())


# -- query charts --------------------------------------------------------------------------------

def _text(row, var: str, lang: str, label) -> str | None:
    """A cell as display text: the VAR_zh/VAR_en column, else the IRI's label, else the value."""
    for name in (f"{var}_{lang}", f"{var}_en", f"{var}_zh"):
        v = row.get(name)
        if v is not None:
            return str(v)
    v = row.get(var)
    if v is None:
        return None
    if type(v).__name__ == "URIRef":
        return label(str(v), lang) if label else curie(str(v))
    return str(v)


def _number(row, var: str) -> float | None:
    v = row.get(var)
    if v is None:
        return None
    try:
        return float(v.toPython())
    except (TypeError, ValueError, AttributeError):
        return None


def query_chart(store, ref: str, *, lang: str = "zh", bindings: dict | None = None, label=None) -> Chart:
    """Draw a named query (or .rq file) that has a ``# chart:`` directive.

    Raises:
        InputError: unknown query, no directive, bad directive, variables the query lacks, no numbers.
    """
    from kg.read.query import resolve_query, run

    text, name = resolve_query(ref)
    source = name or ref
    directive = chart_directive(text)
    if directive is None:
        raise InputError(f"query {source!r} has no `# chart:` directive (see `kg chart --list`)", Position(source))
    spec = parse_chart(directive, source)
    result = run(store, ref, bindings)
    if result.kind != "SELECT":
        raise InputError(f"query {source!r} is not a SELECT query: nothing to chart", Position(source))
    o = spec.options
    for key in ("label", "value", "group", "facet", "growth", "written", "of"):
        if key in o and o[key] not in result.variables:
            raise InputError(f"`# chart:` {key}={o[key]}: the query has no ?{o[key]} "
                             f"(it returns {', '.join(result.variables)})", Position(source))
    if label is None:
        from kg.read.describe import Describer

        label = Describer(store).term_label
    drawn = _use_lang(lang)
    rows, growth = [], []
    dicts = [r.asdict() for r in result.rows]
    owners = [_text(d, o["of"], drawn, label) if "of" in o else None for d in dicts]
    usual = max(set(owners), key=owners.count) if owners else None
    for d, owner in zip(dicts, owners):
        name_text = _text(d, o["label"], drawn, label) or "?"
        if owner and owner != usual:
            name_text = f"{name_text}（{owner}）" if drawn == "zh" else f"{name_text} ({owner})"
        value = _number(d, o["value"])
        if value is not None:
            rows.append({"label": name_text, "value": value,
                         "written": _text(d, o["written"], drawn, label) if "written" in o else None,
                         "group": _text(d, o["group"], drawn, label) if "group" in o else None,
                         "facet": _text(d, o["facet"], drawn, label) if "facet" in o else None})
        g = _number(d, o["growth"]) if "growth" in o else None
        if g is not None:
            growth.append((name_text, g))
    title = _question(text, drawn) or o.get("title", source).replace("-", " ")
    return Chart(draw_bars(rows, title=title, lang=drawn, growth=growth or None), title)


# -- an entity's observations --------------------------------------------------------------------

_OBSERVATIONS = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX yf: <https://w3id.org/yufeng-kg/ontology#>
SELECT ?obs ?indicator ?period ?measure ?value ?unit ?written ?modality WHERE {
  VALUES ?target { TARGET }
  { ?obs yf:area ?target } UNION { ?obs yf:indicator ?target } UNION { VALUES ?obs { TARGET } }
  ?obs rdf:type yf:StatisticalObservation ; yf:indicator ?indicator ; yf:value ?value .
  OPTIONAL { ?obs yf:period ?period }
  OPTIONAL { ?obs yf:measureType ?measure }
  OPTIONAL { ?obs yf:unit ?unit }
  OPTIONAL { ?obs yf:valueAsWritten ?written }
  OPTIONAL { ?st rdf:subject ?obs ; rdf:predicate rdf:type ; yf:modality ?modality }
}"""


def observation_rows(store, iri: str) -> list[dict]:
    """The observations about an entity (its area, its indicator, or the observation itself)."""
    import pyoxigraph as ox

    out: dict[str, dict] = {}
    target = str(ox.NamedNode(iri))  # validated IRI, safe to write into the query
    for row in store.query(_OBSERVATIONS.replace("TARGET", target), use_default_graph_as_union=True):
        obs = row["obs"].value
        try:
            value = float(row["value"].value)
        except ValueError:
            continue
        out.setdefault(obs, {
            "obs": obs, "indicator": row["indicator"].value, "value": value,
            "period": row["period"].value if row["period"] is not None else "",
            "growth": row["measure"] is not None and row["measure"].value.endswith("growth-rate"),
            "unit": row["unit"].value if row["unit"] is not None else "",
            "written": row["written"].value if row["written"] is not None else "",
            "modality": row["modality"].value.rsplit("-", 1)[-1] if row["modality"] is not None else ""})
    return sorted(out.values(), key=lambda r: (r["growth"], r["unit"], r["indicator"], r["period"], r["obs"]))


def observation_chart(store, iri: str, *, lang: str = "zh", label=None, cache: Path | None = None) -> Chart | None:
    """A chart of the observations about an entity; None when it has none (``cache``: see draw_bars)."""
    rows = observation_rows(store, iri)
    if not rows:
        return None
    if label is None:
        from kg.read.describe import Describer

        label = Describer(store).term_label
    drawn = _use_lang(lang)
    bars, growth = [], []
    for r in rows:
        name = label(r["indicator"], drawn)
        if r["period"]:
            name = f"{name} {r['period']}"
        if r["growth"]:
            growth.append((name, r["value"]))
        else:
            unit = label(r["unit"], drawn) if r["unit"] else ""
            bars.append({"label": name, "value": r["value"], "facet": unit, "written": r["written"],
                         "group": {"plan": "计划", "result": "成果"}.get(r["modality"], r["modality"])
                         if drawn == "zh" else r["modality"]})
    title = label(iri, drawn)
    return Chart(draw_bars(bars, title=title, lang=drawn, growth=growth or None, cache=cache), title)


def observation_chart_svg(store, iri: str, *, lang: str = "zh") -> str | None:
    """SVG of an entity's observations, or None (for entity pages and the explorer's side panel)."""
    c = observation_chart(store, iri, lang=lang)
    return c.svg if c else None


def chart(store, name_or_entity: str, *, lang: str = "zh", bindings: dict | None = None) -> Chart:
    """A named query's chart, or an entity's observations when the name is not a query.

    Raises:
        InputError: neither a charted query nor an entity with observations.
    """
    from kg.read.query import _named_file

    if _named_file(name_or_entity, None) is not None or name_or_entity.endswith(".rq"):
        return query_chart(store, name_or_entity, lang=lang, bindings=bindings)
    from kg.read.describe import Index

    iri = Index(store).resolve(name_or_entity)
    found = observation_chart(store, iri, lang=lang)
    if found is None:
        raise InputError(f"{curie(iri)} has no observations to chart; charted queries: "
                         + ", ".join(charted_queries()))
    return found


def charted_queries() -> list[str]:
    """Names of the named queries that carry a ``# chart:`` directive."""
    from kg.read.query import named_queries

    return [nq.name for nq in named_queries() if chart_directive(nq.text)]


# -- the CLI -------------------------------------------------------------------------------------

def cmd_chart(args) -> int:
    import sys

    from kg import paths
    from kg.read.store import open_store

    if args.list:
        for name in charted_queries():
            print(name)
        return 0
    if not args.name:
        raise InputError("name a charted query (kg chart --list) or an entity")
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise InputError(NEEDS) from exc
    store = open_store(args.build or paths.build_dir())
    bindings = {}
    for pair in args.bind or []:
        k, sep, v = pair.partition("=")
        if not sep:
            raise InputError(f"--bind {pair!r}: expected NAME=VALUE")
        bindings[k.strip().lstrip("?")] = v.strip()
    c = chart(store, args.name, lang=args.lang, bindings=bindings)
    if args.out is None or str(args.out) == "-":
        sys.stdout.write(c.svg)
    else:
        c.save(args.out)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def register(sub) -> None:
    """Add `kg chart` to the CLI."""
    p = sub.add_parser("chart", help="draw a charted named query or an entity's observations as SVG")
    p.add_argument("name", nargs="?", help="a named query with a `# chart:` line, or an entity (id, label)")
    p.add_argument("-o", "--out", type=Path, help="SVG file to write (default or -: stdout)")
    p.add_argument("--list", action="store_true", help="list the named queries that draw a chart")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="label language (default zh)")
    p.add_argument("--bind", action="append", metavar="NAME=VALUE", help="bind a query variable; repeatable")
    p.add_argument("--build", type=Path, help="build folder (default: build/ or $KG_BUILD)")
    p.set_defaults(func=cmd_chart)

