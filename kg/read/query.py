"""Run SPARQL over the built graph: named queries (queries/), files, or text.

SPARQL 1.1 Query: https://www.w3.org/TR/sparql11-query/ . Queries run on the embedded
Oxigraph store with the union of all named graphs as the default graph.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pyoxigraph as ox
from rdflib import Graph

from kg import paths
from kg.errors import InputError, Position
from kg.read.store import to_oxigraph_term, to_rdflib_term

_HEADER = re.compile(r"^#\s*(zh|en|id|kind|question|bind|networkx)\s*:\s*(.+)$", re.IGNORECASE)
_BIND = re.compile(r"^\??(\w+)\s*=\s*(\S+)$")


@dataclass
class NamedQuery:
    """A query file of queries/, with the question it answers (from its header comments)."""

    name: str
    path: Path
    question_zh: str = ""
    question_en: str = ""
    group: str = ""
    bindings: dict[str, str] = field(default_factory=dict)
    networkx: str | None = None

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


def named_queries(queries_dir: Path | None = None) -> list[NamedQuery]:
    """Every named query: queries/cq/*.rq (competency questions) and queries/*.rq (others).

    The name is the file stem; header lines ``# zh: …`` and ``# en: …`` give the question.
    """
    root = Path(queries_dir or paths.queries_dir())
    files = sorted((root / "cq").glob("*.rq")) + sorted(root.glob("*.rq"))
    signature = tuple((str(f), f.stat().st_mtime_ns) for f in files)
    cached = _NAMED_CACHE.get(root)
    if cached and cached[0] == signature:
        return list(cached[1])
    found = []
    for group, folder in (("cq", root / "cq"), ("", root)):
        for path in sorted(folder.glob("*.rq")):
            nq = NamedQuery(path.stem, path, group=group)
            _read_header(nq, path.read_text(encoding="utf-8"), str(path))
            found.append(nq)
    _NAMED_CACHE[root] = (signature, found)
    return list(found)


_NAMED_CACHE: dict[Path, tuple] = {}


def _read_header(nq: "NamedQuery", text: str, source: str) -> None:
    """Fill the question, default bindings and networkx directive from the leading comments."""
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#"):
            break
        m = _HEADER.match(line.strip())
        if not m:
            continue
        key, value = m.group(1).lower(), m.group(2).strip()
        if key == "zh":
            nq.question_zh = value
        elif key == "en":
            nq.question_en = value
        elif key == "networkx":
            nq.networkx = value
        elif key == "bind":
            b = _BIND.match(value)
            if not b:
                raise InputError(f"bad `# bind:` line {value!r}: expected `# bind: NAME = VALUE`", Position(source, lineno))
            nq.bindings[b.group(1)] = b.group(2)


def header_of(text: str, source: str = "query") -> "NamedQuery":
    """The header directives of query text that is not a named query (a file or stdin)."""
    nq = NamedQuery(source, Path(source))
    _read_header(nq, text, source)
    return nq


_NAME = re.compile(r"^[\w.-]+$")
_TEXT_CACHE: dict[Path, tuple[int, str]] = {}


def _named_file(ref: str, queries_dir: Path | None) -> str | None:
    """The text of the named query ``ref`` (queries/cq/REF.rq, else queries/REF.rq), or None.

    Looked up directly, so running a named query costs one stat, not a scan of queries/;
    the text is cached until the file changes.
    """
    if not _NAME.match(ref):
        return None
    root = Path(queries_dir or paths.queries_dir())
    for path in (root / "cq" / f"{ref}.rq", root / f"{ref}.rq"):
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            continue
        cached = _TEXT_CACHE.get(path)
        if cached is None or cached[0] != mtime:
            cached = (mtime, path.read_text(encoding="utf-8"))
            _TEXT_CACHE[path] = cached
        return cached[1]
    return None


def resolve_query(ref: str, queries_dir: Path | None = None) -> tuple[str, str | None]:
    """Turn a name, a file path or SPARQL text into (text, name or None).

    Raises:
        InputError: ref looks like a name or path but matches nothing.
    """
    hit = _named_file(ref, queries_dir)
    if hit is not None:
        return hit, ref
    path = Path(ref)
    if ref.endswith((".rq", ".sparql")) or (len(ref) < 256 and "\n" not in ref and path.is_file()):
        if not path.is_file():
            raise InputError("query file not found", Position(ref))
        return path.read_text(encoding="utf-8"), None
    if re.match(r"^[\w.-]+$", ref):
        names = ", ".join(nq.name for nq in named_queries(queries_dir))
        raise InputError(f"no named query {ref!r}; known: {names}")
    return ref, None


class Row:
    """One solution: values by variable name as rdflib terms (None when unbound).

    A row holds the store's terms in a tuple and shares its variable index with the other rows
    of its result; values are converted to rdflib terms on first access, so a large result costs
    little more than the raw store's until it is read. ``row.name`` and ``row["name"]`` give the
    rdflib term, ``row.python("name")`` the plain Python value.
    """

    __slots__ = ("_index", "_raw", "_cache")

    def __init__(self, values: dict[str, Any] | None = None, *, index: dict[str, int] | None = None,
                 raw: tuple | dict = ()):
        if values is not None or isinstance(raw, dict):  # built by hand (rdflib terms, Oxigraph terms)
            merged = dict(values or {})
            if isinstance(raw, dict):
                merged.update({k: None if t is None else to_rdflib_term(t) for k, t in raw.items()})
            self._index = {k: i for i, k in enumerate(merged)}
            self._raw = ()
            self._cache = list(merged.values())
        else:
            self._index = index or {}
            self._raw = raw
            self._cache = None

    def _get(self, key: str):
        i = self._index.get(key)
        if i is None:
            return None
        if self._cache is None:
            self._cache = [_UNSET] * len(self._index)
        value = self._cache[i]
        if value is _UNSET:
            term = self._raw[i]
            value = None if term is None else to_rdflib_term(term)
            self._cache[i] = value
        return value

    def _keys(self) -> list[str]:
        return list(self._index)

    def __getitem__(self, key: str):
        return self._get(key)

    def __getattr__(self, key: str):
        if key.startswith("_"):
            raise AttributeError(key)
        if key in self._index:
            return self._get(key)
        raise AttributeError(key)

    def get(self, key: str, default=None):
        v = self._get(key)
        return default if v is None else v

    def raw(self, key: str):
        """The Oxigraph term (no conversion), or None."""
        i = self._index.get(key)
        if i is None:
            return None
        if self._raw:
            return self._raw[i]
        v = self._get(key)
        return None if v is None else to_oxigraph_term(v)

    def asdict(self) -> dict[str, Any]:
        return {k: self._get(k) for k in self._keys()}

    def __repr__(self) -> str:
        return f"Row({self.asdict()!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Row) and other.asdict() == self.asdict()

    def python(self, key: str, default=None):
        """The value as a plain Python object (str, int, Decimal, date...; IRIs as str)."""
        v = self._get(key)
        return default if v is None else v.toPython() if hasattr(v, "toPython") else v


_UNSET = object()


@dataclass
class QueryResult:
    """The result of a query.

    Attributes:
        kind: "SELECT", "ASK" or "CONSTRUCT" (DESCRIBE results are CONSTRUCT-like).
        variables: variable names (SELECT).
        rows: solutions (SELECT).
        boolean: the answer (ASK).
        graph: the triples (CONSTRUCT/DESCRIBE), as an rdflib Graph.
    """

    kind: str
    variables: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    boolean: bool | None = None
    graph: Graph | None = None
    # label(iri, lang) -> str for notebook display; kg.query() sets it (kg.views.notebook)
    label: Any = field(default=None, repr=False, compare=False)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def _repr_html_(self) -> str:
        """In Jupyter: an HTML table, IRIs by label with links (kg.views.notebook)."""
        from kg.views.notebook import result_html

        return result_html(self, label=self.label)

    def to_dataframe(self, lang: str = "zh"):
        """A pandas DataFrame with typed columns (see :func:`kg.views.notebook.to_dataframe`)."""
        from kg.views.notebook import to_dataframe

        return to_dataframe(self, label=self.label, lang=lang)

    def __len__(self) -> int:
        return len(self.rows) if self.kind == "SELECT" else len(self.graph or ())


def run_query(store: ox.Store, text: str, bindings: dict[str, Any] | None = None, *,
              source: str = "query") -> QueryResult:
    """Run SPARQL text on a store (union default graph) and convert the result to rdflib terms.

    Args:
        bindings: variable name -> rdflib term (or str/int), substituted before evaluation.
        source: a name for error messages.
    Raises:
        InputError: the query does not parse (message with line and column).
    """
    subs = {ox.Variable(k): to_oxigraph_term(_as_term(v)) for k, v in (bindings or {}).items()}
    text, subs = inline_bindings(text, subs)
    try:
        result = store.query(text, use_default_graph_as_union=True, substitutions=subs or None)
    except SyntaxError as exc:
        m = re.search(r"at (\d+):(\d+)", str(exc))
        pos = Position(source, int(m.group(1)), f"column {m.group(2)}") if m else Position(source)
        raise InputError(f"SPARQL syntax error: {exc}", pos) from exc
    except RuntimeError as exc:  # e.g. a binding for a variable the query does not project
        if subs and "substitut" not in str(exc).lower() and "does not contain" not in str(exc).lower():
            raise
        raise InputError(f"cannot run the query with bindings {sorted(bindings or {})}: {exc}",
                         Position(source)) from exc
    if isinstance(result, ox.QueryBoolean):
        return QueryResult("ASK", boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        index = {n: i for i, n in enumerate(names)}
        rows = [Row(index=index, raw=tuple(sol)) for sol in result]
        return QueryResult("SELECT", variables=names, rows=rows)
    g = Graph()
    for t in result:
        g.add(to_rdflib_term(t))
    return QueryResult("CONSTRUCT", graph=g)


def _blank_comments(text: str) -> str:
    """The text with comments replaced by spaces (offsets kept); '#' inside IRIs and strings stays."""
    out = []
    for line in text.split("\n"):
        in_iri = in_str = False
        cut = len(line)
        for i, c in enumerate(line):
            if in_str:
                in_str = c != in_str
            elif in_iri:
                in_iri = c != ">"
            elif c in "\"'":
                in_str = c
            elif c == "<" and re.match(r"<[^\s<>]*>", line[i:]):
                in_iri = True
            elif c == "#":
                cut = i
                break
        out.append(line[:cut] + " " * (len(line) - cut))
    return "\n".join(out)


def inline_bindings(text: str, subs: dict) -> tuple[str, dict]:
    """Move bindings into a VALUES block at the start of the outer WHERE group.

    Oxigraph applies ``substitutions`` after evaluating the pattern (a 2-hop provenance query took
    a second on 14k quads); a VALUES block at the start of the group is joined first (7 ms).
    Returns (text, the substitutions left over when the query has no ``WHERE {``).
    """
    if not subs:
        return text, subs
    at = _where_end(text)
    if at is None:
        return text, subs
    values = " ".join(f"VALUES {var} {{ {term} }}" for var, term in subs.items())
    return text[:at] + " " + values + " " + text[at:], {}


@functools.lru_cache(maxsize=512)
def _where_end(text: str) -> int | None:
    """Offset just after the outer ``WHERE {`` (comments ignored), or None."""
    m = re.search(r"\bWHERE\s*\{", _blank_comments(text), re.IGNORECASE)
    return m.end() if m else None


def _as_term(v):
    from rdflib import Literal, URIRef
    from rdflib.term import Node

    from kg.namespaces import curie_to_iri

    if isinstance(v, Node):
        return v
    if isinstance(v, str) and re.match(r"^https?://", v):
        return URIRef(v)
    if isinstance(v, str) and v.startswith("<") and v.endswith(">"):
        return URIRef(v[1:-1])
    if isinstance(v, str) and re.match(r"^[a-z][\w-]*:[^\s/]", v) and curie_to_iri(v):
        return URIRef(curie_to_iri(v))
    return Literal(v)


# -- named queries with their directives (default bindings, a networkx step) ---------------------

def run(store: ox.Store, ref: str, bindings: dict[str, Any] | None = None, *,
        queries_dir: Path | None = None) -> QueryResult:
    """Run a named query, a query file or SPARQL text, honouring its header directives.

    ``# bind: NAME = VALUE`` lines give default bindings (overridden by ``bindings``);
    a ``# networkx: ...`` line hands the SPARQL result to :func:`networkx_step`.

    Args:
        store: the Oxigraph store (see :func:`kg.read.store.open_store`).
        ref: a query name (``cq01-campaigns``), a path to a .rq file, or SPARQL text.
        bindings: variable name -> value (rdflib term, IRI, ``prefix:local`` curie, str or number).
    Returns:
        a QueryResult (rows of rdflib terms).
    Raises:
        InputError: unknown name, unreadable file, syntax error (with line and column), bad directive.
    """
    text, name = resolve_query(ref, queries_dir)
    source = name or (ref if len(ref) < 256 and "\n" not in ref else "query")
    header = header_of(text, source)
    merged: dict[str, Any] = dict(header.bindings)
    merged.update(bindings or {})
    if header.networkx:
        step = parse_networkx(header.networkx, source)
        params = {k: merged.pop(k) for k in step.uses if k in merged}
        result = run_query(store, text, merged, source=source)
        return networkx_step(result, step, params, source)
    return run_query(store, text, merged, source=source)


@dataclass
class NetworkxStep:
    """A ``# networkx:`` directive: ``paths A B [cutoff=N]`` or ``degree [top=N]``."""

    op: str
    args: list[str]
    options: dict[str, str]

    @property
    def uses(self) -> list[str]:
        """Binding names the step reads (its positional arguments)."""
        return list(self.args)


def parse_networkx(directive: str, source: str = "query") -> NetworkxStep:
    """Parse a ``# networkx:`` directive.

    Raises:
        InputError: unknown operation or wrong arguments.
    """
    words = directive.split()
    op, rest = (words[0].lower(), words[1:]) if words else ("", [])
    args = [w.lstrip("?") for w in rest if "=" not in w]
    options = dict(w.split("=", 1) for w in rest if "=" in w)
    if op == "paths" and len(args) == 2 and set(options) <= {"cutoff"}:
        return NetworkxStep(op, args, options)
    if op == "degree" and not args and set(options) <= {"top"}:
        return NetworkxStep(op, args, options)
    raise InputError(f"bad `# networkx:` directive {directive!r}: expected `paths A B [cutoff=N]` "
                     "or `degree [top=N]`", Position(source))


def _edge_graph(result: QueryResult):
    """An undirected MultiGraph from rows ?s ?p ?o (with optional _zh/_en labels); node and edge
    data keep the Oxigraph terms, converted only for the rows the step returns."""
    import networkx as nx

    g = nx.MultiGraph()
    missing = {"s", "p", "o"} - set(result.variables)
    if missing:
        raise InputError(f"a networkx step needs the variables ?s ?p ?o; missing {sorted(missing)}")
    for row in result.rows:
        s, p, o = row.raw("s"), row.raw("p"), row.raw("o")
        for var, term in (("s", s), ("o", o)):
            if term.value not in g:
                g.add_node(term.value, term=term, zh=row.raw(f"{var}_zh"), en=row.raw(f"{var}_en"))
        g.add_edge(s.value, o.value, key=(s.value, p.value), s=s, p=p,
                   p_zh=row.raw("p_zh"), p_en=row.raw("p_en"), o=o)
    return g


def networkx_step(result: QueryResult, step: NetworkxStep, params: dict[str, Any],
                  source: str = "query") -> QueryResult:
    """Turn the edge rows of a SPARQL result into paths or a centrality ranking (networkx).

    ``paths A B cutoff=N``: every simple path of at most N hops (default: the shortest length)
    between A and B in the undirected view; one row per path, hop and predicate with the hop in
    its real direction (?from ?predicate ?to). ``degree top=N``: the N entities with the most
    distinct neighbours (?rank ?node ?degree), ties broken by IRI. Both results are ordered.

    Raises:
        InputError: a path end is not bound or not in the graph; bad option values.
    """
    import networkx as nx
    from rdflib import Literal, URIRef
    from rdflib.namespace import XSD

    g = _edge_graph(result)
    if step.op == "degree":
        top = _int_option(step.options, "top", 10, source)
        simple = nx.Graph(g)
        ranked = sorted(simple.degree(), key=lambda nd: (-nd[1], nd[0]))[:top]
        rows = [Row({"rank": Literal(i, datatype=XSD.integer), "degree": Literal(d, datatype=XSD.integer)},
                    raw={"node": g.nodes[n]["term"], "node_zh": g.nodes[n]["zh"], "node_en": g.nodes[n]["en"]})
                for i, (n, d) in enumerate(ranked, 1)]
        return QueryResult("SELECT", ["rank", "node", "node_zh", "node_en", "degree"], rows)
    ends = []
    for name in step.args:
        if name not in params:
            raise InputError(f"the networkx step needs ?{name} bound (--bind {name}=ID)", Position(source))
        iri = str(_as_term(params[name]))
        if iri not in g:  # nodes are keyed by IRI text
            raise InputError(f"?{name} = {iri} has no links in the graph", Position(source))
        ends.append(iri)
    a, b = ends
    if not nx.has_path(g, a, b):
        return QueryResult("SELECT", _PATH_VARS, [])
    shortest = nx.shortest_path_length(g, a, b)
    cutoff = _int_option(step.options, "cutoff", shortest, source)
    # a MultiGraph yields a node path once per parallel edge: keep each node path once
    found = {tuple(p) for p in nx.all_simple_paths(g, a, b, cutoff=cutoff)} if a != b else {(a,)}
    paths = sorted(found, key=lambda p: (len(p), p))
    rows = []
    for number, path in enumerate(paths, 1):
        for hop, (u, v) in enumerate(zip(path, path[1:]), 1):
            for _, data in sorted(g.get_edge_data(u, v).items()):
                s, o = data["s"].value, data["o"].value
                rows.append(Row(
                    {"path": Literal(number, datatype=XSD.integer), "hop": Literal(hop, datatype=XSD.integer)},
                    raw={"from": data["s"], "from_zh": g.nodes[s]["zh"], "from_en": g.nodes[s]["en"],
                         "predicate": data["p"], "predicate_zh": data["p_zh"], "predicate_en": data["p_en"],
                         "to": data["o"], "to_zh": g.nodes[o]["zh"], "to_en": g.nodes[o]["en"]}))
    return QueryResult("SELECT", _PATH_VARS, rows)


_PATH_VARS = ["path", "hop", "from", "from_zh", "from_en", "predicate", "predicate_zh", "predicate_en",
              "to", "to_zh", "to_en"]


def _int_option(options: dict[str, str], key: str, default: int, source: str) -> int:
    if key not in options:
        return default
    try:
        value = int(options[key])
    except ValueError:
        value = -1
    if value < 1:
        raise InputError(f"networkx option {key}={options[key]!r} must be a positive integer", Position(source))
    return value


def is_ordered(text: str) -> bool:
    """Whether the query orders its rows (an ORDER BY outside comments and strings) or a networkx
    step produces them in order."""
    code = "\n".join(line.split("#", 1)[0] if not line.lstrip().startswith("#") else ""
                     for line in text.splitlines())
    return bool(re.search(r"\bORDER\s+BY\b", code, re.IGNORECASE)) or bool(header_of(text).networkx)


# -- serialisations --------------------------------------------------------------------------------

def _ox(term) -> str:
    """A term in N-Triples syntax (as SPARQL TSV results write it)."""
    return str(to_oxigraph_term(term))


def to_tsv(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results TSV (https://www.w3.org/TR/sparql11-results-csv-tsv/)."""
    if result.kind == "ASK":
        return "?_askResult\n" + ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join("?" + v for v in result.variables)]
    for row in result.rows:
        lines.append("\t".join("" if row[v] is None else _ox(row[v]) for v in result.variables))
    return "\n".join(lines) + "\n"


def to_csv(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results CSV: plain values, no types or languages."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if result.kind == "ASK":
        w.writerow(["_askResult"])
        w.writerow(["true" if result.boolean else "false"])
        return buf.getvalue()
    w.writerow(result.variables)
    for row in result.rows:
        w.writerow(["" if row[v] is None else str(row[v]) for v in result.variables])
    return buf.getvalue()


def to_json(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results JSON (https://www.w3.org/TR/sparql11-results-json/)."""
    import json

    from rdflib import BNode, Literal

    if result.kind == "ASK":
        return json.dumps({"head": {}, "boolean": bool(result.boolean)}) + "\n"

    def cell(t):
        if isinstance(t, Literal):
            d = {"type": "literal", "value": str(t)}
            if t.language:
                d["xml:lang"] = t.language
            elif t.datatype:
                d["datatype"] = str(t.datatype)
            return d
        return {"type": "bnode" if isinstance(t, BNode) else "uri", "value": str(t)}

    bindings = [{v: cell(row[v]) for v in result.variables if row[v] is not None} for row in result.rows]
    return json.dumps({"head": {"vars": result.variables}, "results": {"bindings": bindings}},
                      ensure_ascii=False, indent=1) + "\n"


def parse_results(text: str, fmt: str = "tsv") -> tuple[list[str], list[dict[str, str]]]:
    """Parse SPARQL TSV or JSON results into (variables, rows of N-Triples term text).

    Used to compare expected results with actual ones term by term.
    """
    fmt_ox = ox.QueryResultsFormat.TSV if fmt == "tsv" else ox.QueryResultsFormat.JSON
    parsed = ox.parse_query_results(text.encode("utf-8"), format=fmt_ox)
    names = [v.value for v in parsed.variables]
    return names, [{n: str(sol[n]) for n in names if sol[n] is not None} for sol in parsed]


def result_rows(result: QueryResult) -> list[dict[str, str]]:
    """The rows of a result as N-Triples term text by variable (the form parse_results gives)."""
    return [{v: str(row.raw(v)) for v in result.variables if row.raw(v) is not None} for row in result.rows]


# -- the `kg query` verb ---------------------------------------------------------------------------

SELECT_FORMATS = ("table", "csv", "tsv", "json")
GRAPH_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}


def display_width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def to_table(result: QueryResult, label=None, lang: str = "zh", max_width: int = 80) -> str:
    """A plain-text table; IRIs shown by label (``label(iri, lang)``) with their curie.

    With a language chosen, the ``?x_zh``/``?x_en`` columns of the other language are left out.
    """
    from rdflib import URIRef

    from kg.namespaces import curie

    if result.kind == "ASK":
        return "yes" if result.boolean else "no"
    other = "_en" if lang == "zh" else "_zh"
    cols = [v for v in result.variables if not (v.endswith(other) and v[: -len(other)] in result.variables)]

    def cell(t) -> str:
        if t is None:
            return ""
        if isinstance(t, URIRef):
            name = label(str(t), lang) if label else None
            c = curie(str(t))
            text = f"{name} [{c}]" if name and name != c else c
        else:
            text = str(t)
        text = " ".join(text.split())
        if display_width(text) > max_width:
            while display_width(text) > max_width - 1:
                text = text[:-1]
            text += "…"
        return text

    grid = [cols] + [[cell(row[c]) for c in cols] for row in result.rows]
    widths = [max(display_width(r[i]) for r in grid) for i in range(len(cols))]

    def line(r):
        return "  ".join(v + " " * (w - display_width(v)) for v, w in zip(r, widths)).rstrip()

    out = [line(grid[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in grid[1:]]
    out.append(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})")
    return "\n".join(out)


def format_result(result: QueryResult, fmt: str, label=None, lang: str = "zh") -> str:
    """Serialise a result in a CLI format (table/csv/tsv/json; ttl/nt/jsonld for graphs).

    Raises:
        InputError: the format does not fit the kind of result.
    """
    if result.kind == "CONSTRUCT":
        if fmt not in GRAPH_FORMATS:
            raise InputError(f"--format {fmt} is for SELECT/ASK; a graph result takes ttl, nt or jsonld")
        from kg.namespaces import bind_all

        bind_all(result.graph)
        return result.graph.serialize(format=GRAPH_FORMATS[fmt])
    if fmt in GRAPH_FORMATS:
        raise InputError(f"--format {fmt} is for CONSTRUCT/DESCRIBE; a {result.kind} result takes table, csv, tsv or json")
    if fmt == "csv":
        return to_csv(result)
    if fmt == "tsv":
        return to_tsv(result)
    if fmt == "json":
        return to_json(result)
    return to_table(result, label, lang) + "\n"


def _parse_bindings(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--bind {pair!r}: expected NAME=VALUE (e.g. entity=yfid:jinsangzi)")
        out[name.strip().lstrip("?")] = value.strip()
    return out


def cmd_query(args) -> int:
    import sys

    from kg.read.store import open_store

    if args.list:
        for nq in named_queries():
            print(f"{nq.name}\n  zh: {nq.question_zh}\n  en: {nq.question_en}")
        return 0
    if not args.query:
        raise InputError("name a query (kg query --list shows them), a .rq file, or - for stdin")
    ref = sys.stdin.read() if args.query == "-" else args.query
    if args.query == "-" and not ref.strip():
        raise InputError("no query on stdin")
    store = open_store(args.build or paths.build_dir())
    result = run(store, ref, _parse_bindings(args.bind))
    fmt = args.format or ("ttl" if result.kind == "CONSTRUCT" else "table")
    label = None
    if fmt == "table":
        from kg.read.describe import Describer

        label = Describer(store).term_label
    sys.stdout.write(format_result(result, fmt, label, args.lang))
    return 0


def register(sub) -> None:
    """Add `kg query` to the CLI."""
    p = sub.add_parser("query", help="run a named query, a .rq file or SPARQL from stdin (-)")
    p.add_argument("query", nargs="?", help="query name (see --list), path to a .rq file, or - for stdin")
    p.add_argument("--list", action="store_true", help="list the named queries with their questions")
    p.add_argument("--format", choices=[*SELECT_FORMATS, *GRAPH_FORMATS],
                   help="table (default), csv, tsv, json; ttl (default), nt, jsonld for CONSTRUCT/DESCRIBE")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="label language in the table view")
    p.add_argument("--bind", action="append", metavar="NAME=VALUE",
                   help="bind a variable (IRI, prefix:local or text); repeatable")
    p.add_argument("--build", type=Path, help="build folder (default: build/ or $KG_BUILD)")
    p.set_defaults(func=cmd_query)
