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

from kg import paths
from kg.errors import InputError, Position
from kg.read.sparql_text import PREFIXES, query_variables, syntax_error, values_clause, where_group_start

# rdflib (and kg.read.store, which imports it) is imported only when a result is read as rdflib
# terms: `kg query` prints tables and serialisations from the Oxigraph terms and starts without it.


def to_rdflib_term(term):
    """An Oxigraph term as an rdflib term (kg.read.store does the conversion)."""
    from kg.read.store import to_rdflib_term as convert

    return convert(term)


def to_oxigraph_term(term):
    """An rdflib term as an Oxigraph term."""
    from kg.read.store import to_oxigraph_term as convert

    return convert(term)

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
    """One solution: values by variable name (None when unbound).

    A row holds the store's terms in a tuple and shares its variable index and a term cache with
    the other rows of its result, so each distinct term is converted to rdflib once per result,
    on first access. ``row.name`` and ``row["name"]`` give the rdflib term (the Oxigraph term in a
    raw result, see :func:`run_query`), ``row.raw("name")`` the Oxigraph term, ``row.python("name")``
    the plain Python value.
    """

    __slots__ = ("_index", "_raw", "_terms", "_native")

    def __init__(self, values: dict[str, Any] | None = None, *, index: dict[str, int] | None = None,
                 raw: tuple | dict = (), terms: dict | None = None, native: bool = False):
        self._native = native
        if values is None and type(raw) is tuple:  # a solution of a result: the common, fast case
            self._index, self._raw = index or {}, raw
            self._terms = {} if terms is None else terms
            return
        if values is not None or isinstance(raw, dict):  # built by hand (rdflib terms, Oxigraph terms)
            merged: dict[str, Any] = {k: None if v is None else to_oxigraph_term(v) for k, v in (values or {}).items()}
            if isinstance(raw, dict):
                merged.update(raw)
            self._index = {k: i for i, k in enumerate(merged)}
            self._raw = tuple(merged.values())
            self._terms = {}
            for k, v in (values or {}).items():  # keep the rdflib terms given (datatypes as written)
                if v is not None:
                    self._terms[merged[k]] = v
        else:
            self._index = index or {}
            self._raw = raw
            self._terms = {} if terms is None else terms

    def _get(self, key: str):
        i = self._index.get(key)
        if i is None:
            return None
        term = self._raw[i]
        if term is None or self._native:
            return term
        value = self._terms.get(term)
        if value is None:
            value = self._terms[term] = to_rdflib_term(term)
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
        return None if i is None else self._raw[i]

    def asdict(self) -> dict[str, Any]:
        return {k: self._get(k) for k in self._keys()}

    def __repr__(self) -> str:
        return f"Row({self.asdict()!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Row) and other.asdict() == self.asdict()

    def python(self, key: str, default=None):
        """The value as a plain Python object (str, int, Decimal, date...; IRIs as str)."""
        i = self._index.get(key)
        if i is None or self._raw[i] is None:
            return default
        v = to_rdflib_term(self._raw[i]) if self._native else self._get(key)
        return v.toPython() if hasattr(v, "toPython") else v


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
    graph: Any = None  # rdflib Graph
    triples: list = field(default_factory=list)  # CONSTRUCT/DESCRIBE: the Oxigraph triples
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
        return len(self.rows) if self.kind == "SELECT" else len(self.triples)

    def raw_rows(self) -> list[tuple]:
        """The rows as tuples of Oxigraph terms in the order of ``variables`` (no conversion)."""
        shared = self.rows[0]._index if self.rows else None
        if shared is not None and list(shared) == self.variables and all(r._index is shared for r in self.rows):
            return [r._raw for r in self.rows]  # the solutions as the store gave them
        return [tuple(row.raw(v) for v in self.variables) for row in self.rows]


def run_query(store: ox.Store, text: str, bindings: dict[str, Any] | None = None, *,
              source: str = "query", raw: bool = False) -> QueryResult:
    """Run SPARQL text on a store (union default graph, the project's prefixes predeclared).

    Args:
        bindings: variable name -> value (rdflib or Oxigraph term, IRI, ``prefix:local``, text,
            number): applied through the parsed query (see :func:`bind`).
        source: a name for error messages.
        raw: rows give Oxigraph terms (fastest) instead of rdflib terms.
    Raises:
        SparqlSyntaxError: the query does not parse (line, column, the line, a caret, a hint).
        InputError: a binding names a variable the query does not have.
    """
    kind, variables, rows, boolean, triples = run_raw(store, text, bindings, source=source)
    return _as_result(kind, variables, rows, boolean, triples, raw)


def _as_result(kind: str, variables: list[str], rows: list[tuple], boolean: bool | None, triples: list,
               raw: bool) -> QueryResult:
    """A QueryResult of run_raw's output: rows convert each distinct term once, on first access."""
    if kind == "ASK":
        return QueryResult("ASK", boolean=boolean)
    if kind == "SELECT":
        index = {n: i for i, n in enumerate(variables)}
        terms: dict = {}
        return QueryResult("SELECT", variables=variables,
                           rows=[Row(index=index, raw=r, terms=terms, native=raw) for r in rows])
    if raw:
        return QueryResult("CONSTRUCT", triples=triples)
    from rdflib import Graph

    g = Graph()
    for t in triples:
        g.add(to_rdflib_term(t))
    return QueryResult("CONSTRUCT", graph=g, triples=triples)


def run_raw(store: ox.Store, text: str, bindings: dict[str, Any] | None = None, *,
            source: str = "query") -> tuple[str, list[str], list[tuple], bool | None, list]:
    """Run SPARQL text and return Oxigraph terms: (kind, variables, rows, boolean, triples).

    Bindings are applied through the parsed query (:func:`bind`); the project's prefixes are
    predeclared. A simple outer ORDER BY is applied here rather than by Oxigraph 0.5, whose sort
    panics (aborting the process) on mixed terms (see :mod:`kg.read.admission`).

    Raises:
        SparqlSyntaxError: the query does not parse (line, column, the line, a caret, a hint).
        InputError: a binding names a variable the query does not have.
    """
    from kg.read.admission import NotAdmitted, admit, sort_rows

    subs = {k.lstrip("?$"): as_oxigraph_term(v) for k, v in (bindings or {}).items()}
    bound, leftover = bind(text, subs, source)
    try:
        admitted = admit(bound, allow_service=True)
        plan, engine_text = admitted.order, admitted.engine_text(bound)
    except NotAdmitted:
        plan, engine_text = None, bound  # Oxigraph says what is wrong, below

    def execute(query_text: str, substitutions: dict):
        return store.query(query_text, use_default_graph_as_union=True, prefixes=PREFIXES,
                           substitutions={ox.Variable(k): v for k, v in substitutions.items()} or None)

    try:
        try:
            result = execute(engine_text, leftover)
        except SyntaxError:
            if engine_text is bound:
                raise
            plan = None  # the error's line and column must be the user's: their own text
            result = execute(bound, leftover)
    except SyntaxError as exc:
        if bound is not text:
            _check_syntax(text, source)  # the user's own text is wrong: say where in it
            plan = None
            result = execute(text, subs)
        else:
            raise syntax_error(text, exc, source) from None
    if isinstance(result, ox.QueryBoolean):
        return "ASK", [], [], bool(result), []
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        rows = [tuple(sol) for sol in result]
        if plan is not None:
            rows = sort_rows(rows, names, plan)
        return "SELECT", names, rows, None, []
    return "CONSTRUCT", [], [], None, list(result)


def answer_in_worker(store: ox.Store, job: dict):
    """What a query worker (:mod:`kg.read.runner`) does for `kg query` / ``kg.query``: run_raw."""
    return run_raw(store, job["text"], job["bindings"], source=job["source"])


def run_isolated(build_dir: Path, text: str, bindings: dict[str, Any] | None = None, *,
                 source: str = "query", timeout: float | None = None, raw: bool = False) -> QueryResult:
    """run_query in a worker process of the build (kept for the next call), so that a query that
    crashes the engine, exhausts memory or runs past timeout seconds fails alone.

    Raises:
        InputError: as run_query. QueryFailed: the query timed out or crashed its worker.
    """
    from kg.errors import QueryFailed
    from kg.read import runner

    pool = _isolated(Path(build_dir))
    subs = {k: _as_term(v) for k, v in (bindings or {}).items()}  # rdflib terms travel by pickle
    try:
        kind, variables, rows, boolean, triples = pool.run(
            {"text": text, "bindings": subs, "source": source}, timeout)
    except runner.WorkerTimeout:
        raise QueryFailed(f"{source}: the query ran past the time limit of {timeout:g} s and was stopped") from None
    except runner.WorkerCrashed as exc:
        raise QueryFailed(f"{source}: the query could not be answered: {exc}") from None
    except runner.WorkerUnavailable as exc:
        raise QueryFailed(f"{source}: {exc}") from None
    return _as_result(kind, variables, rows, boolean, triples, raw)


_ISOLATED: dict[Path, tuple] = {}


def _isolated(build_dir: Path):
    """The worker of a build's published release (a new one when the release changes)."""
    from kg.read import runner
    from kg.read.store import published

    release = published(build_dir)
    key = build_dir.resolve()
    stamp = (str(release.nq), release.nq.stat().st_mtime_ns)
    cached = _ISOLATED.get(key)
    if cached is None or cached[0] != stamp:
        if cached is not None:
            cached[1].close()
        _ISOLATED[key] = (stamp, runner.IsolatedQueries(
            runner.WorkerConfig(str(release.nq), "kg.read.query:answer_in_worker")))
    return _ISOLATED[key][1]


def _check_syntax(text: str, source: str) -> None:
    """Raise the SparqlSyntaxError of text, if it has one (parsed against an empty store)."""
    try:
        ox.Store().query(text, prefixes=PREFIXES)
    except SyntaxError as exc:
        raise syntax_error(text, exc, source) from None


def bind(text: str, bindings: dict[str, Any], source: str = "query") -> tuple[str, dict]:
    """Apply bindings through the query's structure: a VALUES block at the start of the outer
    WHERE group, located by the grammar (kg.read.sparql_text.where_group_start), never by pattern
    matching on the text.

    Oxigraph's own ``substitutions`` filter after evaluating the pattern (cq07 bound to one entity:
    3 s against 14 ms for the VALUES block on the real data, see BENCHMARKS.md), so they are used
    only where no group can take a VALUES block (``DESCRIBE <x>``, ``CONSTRUCT WHERE``, blank
    nodes or quoted triples as values).

    Args:
        bindings: variable name -> Oxigraph term.
    Returns:
        (query text, the bindings left for ``substitutions``).
    Raises:
        InputError: a binding names a variable the query does not mention.
    """
    if not bindings:
        return text, {}
    unknown = sorted(set(bindings) - query_variables(text))
    if unknown:
        have = ", ".join("?" + v for v in sorted(query_variables(text))) or "none"
        raise InputError(f"cannot bind {', '.join('?' + u for u in unknown)}: the query has no such variable "
                         f"(its variables: {have})", Position(source))
    if not all(isinstance(t, (ox.NamedNode, ox.Literal)) for t in bindings.values()):
        return text, dict(bindings)
    at = where_group_start(text)
    if at is None:
        return text, dict(bindings)
    return text[:at] + " " + values_clause({k: str(v) for k, v in bindings.items()}) + " " + text[at:], {}


def inline_bindings(text: str, subs: dict) -> tuple[str, dict]:
    """:func:`bind` for ``{Variable: term}`` (kept for callers of the old name)."""
    out, left = bind(text, {v.value: t for v, t in subs.items()})
    return out, {ox.Variable(k): t for k, t in left.items()}


_XSD = "http://www.w3.org/2001/XMLSchema#"


def as_oxigraph_term(v):
    """A binding value as an Oxigraph term: Oxigraph and rdflib terms as they are; text that is an
    IRI (``http...``, ``<...>``) or a known ``prefix:local`` as an IRI; numbers, booleans and dates
    as typed literals; other text as a plain literal."""
    import datetime
    import decimal

    from kg.namespaces import curie_to_iri

    if isinstance(v, (ox.NamedNode, ox.Literal, ox.BlankNode, ox.Triple)):
        return v
    if type(v).__module__.startswith("rdflib"):
        return to_oxigraph_term(v)
    if isinstance(v, bool):
        return ox.Literal("true" if v else "false", datatype=ox.NamedNode(_XSD + "boolean"))
    if isinstance(v, int):
        return ox.Literal(str(v), datatype=ox.NamedNode(_XSD + "integer"))
    if isinstance(v, (float, decimal.Decimal)):
        return ox.Literal(str(v), datatype=ox.NamedNode(_XSD + ("double" if isinstance(v, float) else "decimal")))
    if isinstance(v, datetime.datetime):
        return ox.Literal(v.isoformat(), datatype=ox.NamedNode(_XSD + "dateTime"))
    if isinstance(v, datetime.date):
        return ox.Literal(v.isoformat(), datatype=ox.NamedNode(_XSD + "date"))
    v = str(v)
    if re.match(r"^https?://\S+$", v):
        return ox.NamedNode(v)
    if v.startswith("<") and v.endswith(">"):
        return ox.NamedNode(v[1:-1])
    if re.match(r"^[a-z][\w-]*:[^\s/]", v) and curie_to_iri(v):
        return ox.NamedNode(curie_to_iri(v))
    return ox.Literal(v)


def _as_term(v):
    """A binding value as an rdflib term (see :func:`as_oxigraph_term`)."""
    return to_rdflib_term(as_oxigraph_term(v))


# -- named queries with their directives (default bindings, a networkx step) ---------------------

def run(store: ox.Store | None, ref: str, bindings: dict[str, Any] | None = None, *,
        queries_dir: Path | None = None, raw: bool = False, isolated: bool | None = None,
        build_dir: Path | None = None, timeout: float | None = None) -> QueryResult:
    """Run a named query, a query file or SPARQL text, honouring its header directives.

    ``# bind: NAME = VALUE`` lines give default bindings (overridden by ``bindings``);
    a ``# networkx: ...`` line hands the SPARQL result to :func:`networkx_step`.

    Args:
        store: the Oxigraph store (see :func:`kg.read.store.open_store`).
        ref: a query name (``cq01-campaigns``), a path to a .rq file, or SPARQL text.
        bindings: variable name -> value (rdflib term, IRI, ``prefix:local`` curie, str or number).
    Returns:
        a QueryResult (rows of rdflib terms; of Oxigraph terms with ``raw=True``).
        isolated: run in a worker process of build_dir (see :func:`run_isolated`); None (default):
            isolated for query text and files, in-process (faster) for the named queries of queries/.
        build_dir: the build (needed when isolated; store may then be None).
        timeout: seconds an isolated query may run (None: no limit).
    Raises:
        InputError: unknown name, unreadable file, syntax error (with line and column), bad directive.
        QueryFailed: an isolated query timed out or crashed its worker.
    """
    text, name = resolve_query(ref, queries_dir)
    if isolated is None:
        isolated = name is None and build_dir is not None
    if isolated and build_dir is None:
        raise ValueError("run(isolated=True) needs build_dir")

    def execute(merged_bindings, as_raw):
        if isolated:
            return run_isolated(Path(build_dir), text, merged_bindings, source=source, timeout=timeout,
                                raw=as_raw)
        return run_query(store, text, merged_bindings, source=source, raw=as_raw)

    source = name or (ref if len(ref) < 256 and "\n" not in ref else "query")
    header = header_of(text, source)
    merged: dict[str, Any] = dict(header.bindings)
    merged.update(bindings or {})
    if header.networkx:
        step = parse_networkx(header.networkx, source)
        params = {k: merged.pop(k) for k in step.uses if k in merged}
        out = networkx_step(execute(merged, True), step, params, source)
        if raw:
            for row in out.rows:
                row._native = True
        return out
    return execute(merged, raw)


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
        iri = as_oxigraph_term(params[name]).value
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

def to_tsv(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results TSV (https://www.w3.org/TR/sparql11-results-csv-tsv/)."""
    if result.kind == "ASK":
        return "?_askResult\n" + ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join("?" + v for v in result.variables)]
    for row in result.rows:
        lines.append("\t".join("" if row.raw(v) is None else str(row.raw(v)) for v in result.variables))
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
        w.writerow(["" if row.raw(v) is None else _plain(row.raw(v)) for v in result.variables])
    return buf.getvalue()


def _plain(term) -> str:
    return term.value if isinstance(term, (ox.NamedNode, ox.Literal, ox.BlankNode)) else str(term)


def _json_cell(t) -> dict:
    if isinstance(t, ox.Literal):
        d = {"type": "literal", "value": t.value}
        if t.language:
            d["xml:lang"] = t.language
        elif t.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            d["datatype"] = t.datatype.value
        return d
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    return {"type": "triple", "value": {"subject": _json_cell(t.subject), "predicate": _json_cell(t.predicate),
                                        "object": _json_cell(t.object)}}


def to_json(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results JSON (https://www.w3.org/TR/sparql11-results-json/)."""
    import json

    if result.kind == "ASK":
        return json.dumps({"head": {}, "boolean": bool(result.boolean)}) + "\n"
    bindings = [{v: _json_cell(row.raw(v)) for v in result.variables if row.raw(v) is not None}
                for row in result.rows]
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
_OX_GRAPH_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD}


def to_table(result: QueryResult, store: ox.Store | None = None, lang: str = "zh", iris: bool = False,
             width: int | None = None) -> str:
    """A table that fits ``width`` columns (default: the terminal); see :mod:`kg.read.table`."""
    from kg.read.table import result_table

    return result_table(result, store, lang, iris, width)


def format_result(result: QueryResult, fmt: str, store: ox.Store | None = None, lang: str = "zh",
                  iris: bool = False) -> str:
    """Serialise a result in a CLI format (table/csv/tsv/json; ttl/nt/jsonld for graphs).

    Raises:
        InputError: the format does not fit the kind of result.
    """
    if result.kind == "CONSTRUCT":
        if fmt not in GRAPH_FORMATS:
            raise InputError(f"--format {fmt} is for SELECT/ASK; a graph result takes ttl, nt or jsonld")
        return ox.serialize(sorted(result.triples, key=str), format=_OX_GRAPH_FORMATS[fmt],
                            prefixes=dict(PREFIXES) if fmt == "ttl" else None).decode("utf-8")
    if fmt in GRAPH_FORMATS:
        raise InputError(f"--format {fmt} is for CONSTRUCT/DESCRIBE; a {result.kind} result takes table, csv, tsv or json")
    if fmt == "csv":
        return to_csv(result)
    if fmt == "tsv":
        return to_tsv(result)
    if fmt == "json":
        return to_json(result)
    return to_table(result, store, lang, iris) + "\n"


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
    from kg.read.table import emit

    if args.prefixes:
        emit("".join(f"PREFIX {p}: <{iri}>\n" for p, iri in sorted(PREFIXES.items())), args.out)
        return 0
    if args.list:
        if args.format == "json":
            import json

            emit(json.dumps([{"name": nq.name, "zh": nq.question_zh, "en": nq.question_en,
                              "bindings": nq.bindings} for nq in named_queries()], ensure_ascii=False, indent=1) + "\n",
                 args.out)
            return 0
        emit("".join(f"{nq.name}\n  zh: {nq.question_zh}\n  en: {nq.question_en}\n" for nq in named_queries()), args.out)
        return 0
    if not args.query:
        raise InputError("name a query (kg query --list shows them), a .rq file, or - for stdin")
    ref = sys.stdin.read() if args.query == "-" else args.query
    if args.query == "-" and not ref.strip():
        raise InputError("no query on stdin")
    build_dir = Path(args.build or paths.build_dir())
    store = open_store(build_dir)
    isolated = False if args.in_process else None
    result = run(store, ref, _parse_bindings(args.bind), raw=True, isolated=isolated, build_dir=build_dir,
                 timeout=args.timeout)
    fmt = args.format or ("ttl" if result.kind == "CONSTRUCT" else "table")
    emit(format_result(result, fmt, store, args.lang, args.iris), args.out)
    return 0


DESCRIPTION = """Run a named query (kg query --list), a .rq file, or SPARQL text or stdin (-) on the build.
The project's prefixes (kg query --prefixes) are predeclared. SELECT results print as a table that
fits the terminal, one column per variable, IRIs shown by their label in --lang."""
EXAMPLES = """examples:
  kg query --list
  kg query cq05-awards-2023 --lang en
  kg query cq07-provenance --bind entity=yfid:baisha-zhen --format json | jq .
  echo 'SELECT ?e WHERE { ?e a yf:Enterprise }' | kg query - --format csv -o enterprises.csv"""


def register(sub) -> None:
    """Add `kg query` to the CLI."""
    import argparse

    p = sub.add_parser("query", help="run a named query, a .rq file or SPARQL from stdin (-)",
                       description=DESCRIPTION, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("query", nargs="?", help="query name (see --list), path to a .rq file, or - for stdin")
    p.add_argument("--list", action="store_true", help="list the named queries with their questions")
    p.add_argument("--prefixes", action="store_true", help="print the predeclared prefixes")
    p.add_argument("--format", choices=[*SELECT_FORMATS, *GRAPH_FORMATS],
                   help="table (default), csv, tsv, json; ttl (default), nt, jsonld for CONSTRUCT/DESCRIBE")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="label language in the table (default zh)")
    p.add_argument("--iris", action="store_true", help="table: show each IRI (as prefix:local) beside its label")
    p.add_argument("--bind", action="append", metavar="NAME=VALUE",
                   help="bind a variable (IRI, prefix:local or text); repeatable")
    p.add_argument("-o", "--out", metavar="FILE", help="write the result to FILE (- for stdout, the default)")
    p.add_argument("--build", type=Path, help="build folder (default: build/ or $KG_BUILD)")
    p.add_argument("--timeout", type=float, help="seconds the query may run (query text and files; default: no limit)")
    p.add_argument("--in-process", action="store_true",
                   help="run query text in this process (faster start; a crash of the engine then ends kg)")
    p.set_defaults(func=cmd_query)
