"""Run SPARQL over the built graph: named queries (queries/), files, or text.

SPARQL 1.1 Query: https://www.w3.org/TR/sparql11-query/ . Queries run on the embedded
Oxigraph store with the union of all named graphs as the default graph.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pyoxigraph as ox
from rdflib import Graph

from . import paths
from .errors import InputError, Position
from .store import to_oxigraph_term, to_rdflib_term

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
    found = []
    for group, folder in (("cq", root / "cq"), ("", root)):
        for path in sorted(folder.glob("*.rq")):
            nq = NamedQuery(path.stem, path, group=group)
            _read_header(nq, path.read_text(encoding="utf-8"), str(path))
            found.append(nq)
    return found


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


def resolve_query(ref: str, queries_dir: Path | None = None) -> tuple[str, str | None]:
    """Turn a name, a file path or SPARQL text into (text, name or None).

    Raises:
        InputError: ref looks like a name or path but matches nothing.
    """
    for nq in named_queries(queries_dir):
        if ref == nq.name:
            return nq.text, nq.name
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
    """One solution: values by variable name (rdflib terms, None when unbound)."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]):
        self._values = values

    def __getitem__(self, key: str):
        return self._values.get(key)

    def __getattr__(self, key: str):
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(key) from None

    def get(self, key: str, default=None):
        v = self._values.get(key)
        return default if v is None else v

    def asdict(self) -> dict[str, Any]:
        return dict(self._values)

    def __repr__(self) -> str:
        return f"Row({self._values!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Row) and other._values == self._values

    def python(self, key: str, default=None):
        """The value as a plain Python object (str, int, Decimal, date...; IRIs as str)."""
        v = self._values.get(key)
        return default if v is None else v.toPython() if hasattr(v, "toPython") else v


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

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

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
        rows = [Row({n: (None if sol[n] is None else to_rdflib_term(sol[n])) for n in names}) for sol in result]
        return QueryResult("SELECT", variables=names, rows=rows)
    g = Graph()
    for t in result:
        g.add(to_rdflib_term(t))
    return QueryResult("CONSTRUCT", graph=g)


def _as_term(v):
    from rdflib import Literal, URIRef
    from rdflib.term import Node

    from .namespaces import curie_to_iri

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
        store: the Oxigraph store (see :func:`kg.store.open_store`).
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
    """An undirected MultiGraph from rows ?s ?p ?o (with optional _zh/_en labels)."""
    import networkx as nx

    g = nx.MultiGraph()
    missing = {"s", "p", "o"} - set(result.variables)
    if missing:
        raise InputError(f"a networkx step needs the variables ?s ?p ?o; missing {sorted(missing)}")
    for row in result.rows:
        for var in ("s", "o"):
            node = str(row[var])
            if node not in g:
                g.add_node(node, term=row[var], zh=row[f"{var}_zh"], en=row[f"{var}_en"])
        p = str(row["p"])
        g.add_edge(str(row["s"]), str(row["o"]), key=(str(row["s"]), p),
                   s=row["s"], p=row["p"], p_zh=row["p_zh"], p_en=row["p_en"], o=row["o"])
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
        rows = [Row({"rank": Literal(i, datatype=XSD.integer), "node": g.nodes[n]["term"],
                     "node_zh": g.nodes[n]["zh"], "node_en": g.nodes[n]["en"],
                     "degree": Literal(d, datatype=XSD.integer)}) for i, (n, d) in enumerate(ranked, 1)]
        return QueryResult("SELECT", ["rank", "node", "node_zh", "node_en", "degree"], rows)
    ends = []
    for name in step.args:
        if name not in params:
            raise InputError(f"the networkx step needs ?{name} bound (--bind {name}=ID)", Position(source))
        iri = str(_as_term(params[name]))
        if iri not in g:
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
                s, o = str(data["s"]), str(data["o"])
                rows.append(Row({
                    "path": Literal(number, datatype=XSD.integer), "hop": Literal(hop, datatype=XSD.integer),
                    "from": URIRef(s), "from_zh": g.nodes[s]["zh"], "from_en": g.nodes[s]["en"],
                    "predicate": data["p"], "predicate_zh": data["p_zh"], "predicate_en": data["p_en"],
                    "to": URIRef(o), "to_zh": g.nodes[o]["zh"], "to_en": g.nodes[o]["en"]}))
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
    return [{v: _ox(row[v]) for v in result.variables if row[v] is not None} for row in result.rows]
