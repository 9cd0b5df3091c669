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

_HEADER = re.compile(r"^#\s*(zh|en|id|kind|question)\s*:\s*(.+)$", re.IGNORECASE)


@dataclass
class NamedQuery:
    """A query file of queries/, with the question it answers (from its header comments)."""

    name: str
    path: Path
    question_zh: str = ""
    question_en: str = ""
    group: str = ""

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
            for line in path.read_text(encoding="utf-8").splitlines():
                if not line.startswith("#"):
                    break
                m = _HEADER.match(line.strip())
                if m and m.group(1).lower() == "zh":
                    nq.question_zh = m.group(2).strip()
                elif m and m.group(1).lower() == "en":
                    nq.question_en = m.group(2).strip()
            found.append(nq)
    return found


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
        raise InputError(f"SPARQL syntax error: {exc}", Position(source)) from exc
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

    if isinstance(v, Node):
        return v
    if isinstance(v, str) and re.match(r"^https?://", v):
        return URIRef(v)
    return Literal(v)
