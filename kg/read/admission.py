"""Admission of SPARQL text: what a query is and whether it may run, without running it.

- SPARQL 1.1 Query, grammar and terminals: https://www.w3.org/TR/sparql11-query/#grammar
- Codepoint escapes (processed before parsing): https://www.w3.org/TR/sparql11-query/#codepointEscape

The full grammar check is Oxigraph's own parser, run where the query runs (a worker process,
:mod:`kg.read.runner`); this module walks the query's *tokens* (strings, IRIs, comments, prefixed
names, variables and language tags are tokens of their own), which is enough to decide with
certainty, for any text that Oxigraph then accepts as a query:

- the form (SELECT, ASK, CONSTRUCT, DESCRIBE);
- whether it uses SERVICE (the keyword can only start a SERVICE pattern), a dataset clause
  (FROM / FROM NAMED), or is an update (INSERT, DELETE, LOAD, ... are not words of a query);
- how deeply it nests (Oxigraph's recursive parser overflows its stack past a few thousand
  levels and takes the process down, so the depth is bounded before it sees the text);
- the outer ``ORDER BY``, so that a simple ordering can be done outside Oxigraph 0.5, whose sort
  panics on mixed terms (docs/upstream/oxigraph-order-by-panic.md).

It costs well under a millisecond for a typical query and holds no lock.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

MAX_DEPTH = 256
"""Brackets (``{``, ``(``, ``[``) nested deeper than this are refused before any parser sees them."""

UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"})
FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_PN_CHARS = "A-Za-z0-9_\\-\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D\u203F-\u2040\u2070-\uFFFF"
_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<comment>\#[^\n\r]*)
    |(?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''|"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
    |(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    |(?P<var>[?$][""" + _PN_CHARS + r"""]+)
    |(?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    |(?P<bnode>_:[""" + _PN_CHARS + r""".]*)
    |(?P<pname>(?:[A-Za-z\u00C0-\uFFFF][""" + _PN_CHARS + r""".]*)?:(?:[""" + _PN_CHARS + r""".:%]|\\[^\s])*)
    |(?P<number>[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)
    |(?P<word>[A-Za-z][A-Za-z0-9_]*)
    |(?P<punct>\^\^|&&|\|\||!=|<=|>=|.)""",
    re.VERBOSE | re.DOTALL,
)


class NotAdmitted(Exception):
    """The text may not run here. ``status``: 400 (malformed), 403 (not allowed)."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


class Token(NamedTuple):
    """One token: its kind (a group name of the tokenizer), its text and where it is in the text.
    (A named tuple: a query has hundreds of tokens, and admission runs in the server's event loop.)"""

    kind: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class OrderPlan:
    """An outer ORDER BY to apply outside Oxigraph.

    Attributes:
        text: the query without its ORDER BY, LIMIT and OFFSET (same meaning otherwise).
        keys: (variable name, descending) in order of priority.
        offset, limit: the slice to take after sorting (limit None = all).
    """

    text: str
    keys: tuple[tuple[str, bool], ...]
    offset: int = 0
    limit: int | None = None


@dataclass(frozen=True)
class Admitted:
    """A query that passed admission.

    Attributes:
        form: SELECT, ASK, CONSTRUCT or DESCRIBE.
        uses_service: it has a SERVICE pattern (only admitted when federation is allowed).
        order: how to apply its outer ORDER BY outside Oxigraph, or None.
    """

    form: str
    uses_service: bool = False
    order: OrderPlan | None = field(default=None, compare=False)
    text: str | None = field(default=None, compare=False)

    def engine_text(self, original: str) -> str:
        """The text to give Oxigraph: without the outer ORDER BY that is applied outside it, and
        with every other ORDER BY made safe (:func:`guard_orders`)."""
        if self.text is not None:
            return self.text
        return self.order.text if self.order is not None else original


def decode_escapes(text: str) -> str:
    r"""The text with ``\uXXXX`` and ``\UXXXXXXXX`` escapes decoded, as SPARQL does before parsing."""
    def one(m: re.Match) -> str:
        try:
            return chr(int(m.group(1) or m.group(2), 16))
        except (ValueError, OverflowError):
            return m.group(0)
    return _ESCAPE.sub(one, text) if "\\" in text else text


def tokens(text: str) -> list[Token]:
    """The tokens of SPARQL text, whitespace and comments left out."""
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or ""
        if kind in ("ws", "comment"):
            continue
        out.append(Token(kind, m.group(), m.start(), m.end()))
    return out


def admit(text: str, *, allow_service: bool = False) -> Admitted:
    """Decide whether text is one read-only query this service may run.

    Raises:
        NotAdmitted: 403 for an update, SERVICE (unless allowed), FROM / FROM NAMED;
            400 for no query form, or nesting deeper than :data:`MAX_DEPTH`.
    """
    decoded = decode_escapes(text)
    toks = tokens(decoded)
    depth = 0
    form = None
    service = dataset = False
    for t in toks:
        if t.kind == "punct":
            if t.text in "{([":
                depth += 1
                if depth > MAX_DEPTH:
                    raise NotAdmitted(400, f"the query nests brackets more than {MAX_DEPTH} levels deep")
            elif t.text in "})]":
                depth -= 1
            continue
        if t.kind != "word":
            continue
        word = t.text.upper()
        if word in UPDATE_WORDS:
            raise NotAdmitted(403, "SPARQL Update (INSERT, DELETE, LOAD, CLEAR, CREATE, DROP, COPY, MOVE, ADD) "
                                   "is not allowed: this endpoint is read-only")
        if form is None and word in FORMS:
            form = word
        elif word == "SERVICE":
            service = True
        elif word == "FROM":
            dataset = True
    if form is None:
        raise NotAdmitted(400, "SPARQL syntax error: no query form (SELECT, ASK, CONSTRUCT or DESCRIBE) found")
    if dataset:
        raise NotAdmitted(403, "FROM and FROM NAMED are not allowed: queries run on the union of the graphs "
                               "of this dataset; use GRAPH <...> { } to choose a graph")
    if service and not allow_service:
        raise NotAdmitted(403, "SERVICE (federated query) is not allowed on this server; "
                               "start it with --allow-federation to permit it")
    order = _order_plan(text, toks, form) if form == "SELECT" and decoded == text else None
    engine_text = None
    if decoded == text:
        base = order.text if order is not None else text
        guarded = guard_orders(base, tokens(base) if order is not None else toks)
        engine_text = guarded if guarded != base else None
    return Admitted(form, service, order, engine_text)


KIND_KEY = ('IF(isBlank({v}), "0", IF(isIRI({v}), "1", IF(isNumeric({v}), "2", '
            'IF(lang({v}) != "" || datatype({v}) = <http://www.w3.org/2001/XMLSchema#string>, "3", '
            'CONCAT("4", STR(datatype({v})))))))')
"""An ORDER BY key put before a variable's own: blank nodes, IRIs, numbers, strings, then other
literals by datatype. It keeps SPARQL's order (section 15.1: blank < IRI < literal) and separates the
kinds of literal that SPARQL does not order against each other, which Oxigraph 0.5's comparator
calls equal in a way its sort detects as inconsistent, aborting the process (see
docs/upstream/oxigraph-order-by-panic.md). Unbound stays first: the key of an unbound variable is
an error, which sorts as unbound."""


def guard_orders(text: str, toks: list[Token]) -> str:
    """text with every ``ORDER BY`` condition on a plain variable (``?v``, ``ASC(?v)``,
    ``DESC(?v)``) preceded by its :data:`KIND_KEY` in the same direction; conditions after the
    first that is an expression are left as they are (Oxigraph sorts those, in a worker that may
    crash safely)."""
    edits: list[tuple[int, int, str]] = []
    i = 0
    while i < len(toks) - 1:
        t = toks[i]
        if not (t.kind == "word" and t.text.upper() == "ORDER" and toks[i + 1].kind == "word"
                and toks[i + 1].text.upper() == "BY"):
            i += 1
            continue
        j = i + 2
        while j < len(toks):
            c = toks[j]
            if c.kind == "var":
                edits.append((c.start, c.end, f"({KIND_KEY.format(v=c.text)}) {c.text}"))
                j += 1
            elif (c.kind == "word" and c.text.upper() in ("ASC", "DESC") and j + 3 < len(toks)
                  and toks[j + 1].text == "(" and toks[j + 2].kind == "var" and toks[j + 3].text == ")"):
                direction, var = c.text.upper(), toks[j + 2].text
                edits.append((c.start, toks[j + 3].end, f"{direction}({KIND_KEY.format(v=var)}) {direction}({var})"))
                j += 4
            else:
                break
        i = j
    for start, end, replacement in reversed(edits):
        text = text[:start] + replacement + text[end:]
    return text


def _top_level_groups(toks: list[Token]) -> list[tuple[int, int]]:
    """(index of '{', index of matching '}') for every brace group at depth 0."""
    groups, depth, start = [], 0, None
    for i, t in enumerate(toks):
        if t.kind != "punct":
            continue
        if t.text == "{":
            if depth == 0:
                start = i
            depth += 1
        elif t.text == "}":
            depth -= 1
            if depth == 0 and start is not None:
                groups.append((start, i))
    return groups


def _order_plan(text: str, toks: list[Token], form: str) -> OrderPlan | None:
    """The outer ORDER BY of a SELECT as an OrderPlan, when it orders by plain variables that the
    query returns; None otherwise (Oxigraph then sorts, inside a worker that may crash safely)."""
    groups = _top_level_groups(toks)
    if not groups:
        return None
    where_end = groups[0][1]
    # the modifiers run from the end of WHERE to a trailing VALUES clause (or the end)
    i = where_end + 1
    mods = []
    while i < len(toks) and not (toks[i].kind == "word" and toks[i].text.upper() == "VALUES"):
        mods.append(toks[i])
        i += 1
    words = [t.text.upper() if t.kind == "word" else t.text for t in mods]
    if "ORDER" not in words:
        return None
    at = words.index("ORDER")
    if at + 1 >= len(words) or words[at + 1] != "BY":
        return None
    keys: list[tuple[str, bool]] = []
    j = at + 2
    while j < len(mods):
        if mods[j].kind == "var":
            keys.append((mods[j].text[1:], False))
            j += 1
        elif words[j] in ("ASC", "DESC") and words[j + 1: j + 4:2] == ["(", ")"] and mods[j + 2].kind == "var":
            keys.append((mods[j + 2].text[1:], words[j] == "DESC"))
            j += 4
        else:
            break
    if not keys:
        return None
    offset, limit = 0, None
    while j < len(mods):
        if words[j] in ("LIMIT", "OFFSET") and j + 1 < len(mods) and mods[j + 1].kind == "number" \
                and mods[j + 1].text.isdigit():
            if words[j] == "LIMIT":
                limit = int(mods[j + 1].text)
            else:
                offset = int(mods[j + 1].text)
            j += 2
        else:
            return None  # something else after the ordering (e.g. an expression): leave it to Oxigraph
    if at != 0 and any(w in ("LIMIT", "OFFSET") for w in words[:at]):
        return None
    if not _projects(toks, groups[0][0], {k for k, _ in keys}):
        return None
    start = mods[at].start
    end = mods[-1].end
    return OrderPlan(text[:start] + " " * (end - start) + text[end:], tuple(keys), offset, limit)


def _projects(toks: list[Token], where_start: int, names: set[str]) -> bool:
    """Whether the outer SELECT returns every variable in names (``SELECT *`` does)."""
    try:
        sel = next(i for i, t in enumerate(toks) if t.kind == "word" and t.text.upper() == "SELECT")
    except StopIteration:
        return False
    head = toks[sel + 1: where_start]
    if any(t.text == "*" for t in head if t.kind == "punct"):
        return True
    projected, depth = set(), 0
    for k, t in enumerate(head):
        if t.kind == "punct" and t.text == "(":
            depth += 1
        elif t.kind == "punct" and t.text == ")":
            depth -= 1
        elif t.kind == "var" and (depth == 0 or (k > 0 and head[k - 1].kind == "word"
                                                  and head[k - 1].text.upper() == "AS")):
            projected.add(t.text[1:])
    return names <= projected


# ----- a total order on terms, for ORDER BY done outside Oxigraph --------------------------------

_NUMERIC = {"http://www.w3.org/2001/XMLSchema#" + n for n in (
    "integer", "decimal", "float", "double", "int", "long", "short", "byte", "nonNegativeInteger",
    "positiveInteger", "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt",
    "unsignedShort", "unsignedByte")}
_STRING = "http://www.w3.org/2001/XMLSchema#string"
_LANG = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def term_key(term) -> tuple:
    """A sort key giving a total order on pyoxigraph terms that follows SPARQL 1.1 section 15.1
    (unbound < blank node < IRI < literal; numbers by value, strings by their text) and orders
    what SPARQL leaves undefined (mixed kinds, other datatypes) by kind, datatype, then text."""
    import pyoxigraph as ox

    if term is None:
        return (0,)
    if isinstance(term, ox.BlankNode):
        return (1, term.value)
    if isinstance(term, ox.NamedNode):
        return (2, term.value)
    if isinstance(term, ox.Literal):
        dt = term.datatype.value
        if dt in _NUMERIC:
            try:
                value = float(term.value)
            except ValueError:
                value = float("nan")
            if value != value:  # NaN sorts before every number
                return (3, 0, float("-inf"), 0, term.value, dt)
            return (3, 0, value, 1, term.value, dt)
        if dt in (_STRING, _LANG):
            return (3, 1, term.value, term.language or "")
        return (3, 2, dt, term.value)
    return (4, str(term))  # quoted triples last


def _column_key(i: int):
    def key(row) -> tuple:
        return term_key(row[i])
    return key


def sort_rows(rows: list, variables: list[str], plan: OrderPlan) -> list:
    """rows (sequences of terms in the order of variables) sorted and sliced as plan says."""
    index = {name: i for i, name in enumerate(variables)}
    ordered = list(rows)
    # stable sorts from the least to the most significant key
    for name, desc in reversed(plan.keys):
        i = index.get(name)
        if i is None:
            continue
        ordered.sort(key=_column_key(i), reverse=desc)
    end = None if plan.limit is None else plan.offset + plan.limit
    return ordered[plan.offset:end]
