"""SPARQL query text: predeclared prefixes, syntax errors people can act on, bindings by parse.

SPARQL 1.1 Query grammar: https://www.w3.org/TR/sparql11-query/#grammar . Shared by the CLI
(`kg query`), the Python API (`kg.query`) and the endpoint (`kg serve`), so that all three accept
the same prefixes and word the same error the same way. Pure functions over text; no store, no
rdflib (this module is on the CLI's start-up path).

Public API:
    PREFIXES                                  prefix -> namespace IRI, predeclared in every query
    SparqlSyntaxError                         InputError with line, column, offending line, hint
    format_syntax_error(query_text, error)    the message: position, line, caret, hint
    syntax_error(query_text, error, source)   the exception to raise
    query_variables(query_text)               every ?var / $var name in the text
    where_group_start(query_text)             offset just after the outer WHERE group's '{'
    values_clause(bindings)                   VALUES text for {name: N-Triples term text}
"""
from __future__ import annotations

import difflib
import re

from kg.errors import InputError, Position
from kg.namespaces import PREFIXES as _PROJECT_PREFIXES

PREFIXES: dict[str, str] = dict(_PROJECT_PREFIXES)
"""Every prefix a query may use without declaring it (a PREFIX line in the query wins)."""

KEYWORDS = (
    "BASE PREFIX SELECT DISTINCT REDUCED AS CONSTRUCT DESCRIBE ASK FROM NAMED WHERE ORDER BY ASC DESC "
    "LIMIT OFFSET VALUES OPTIONAL GRAPH SERVICE SILENT BIND UNDEF MINUS UNION FILTER EXISTS NOT IN "
    "GROUP HAVING COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR STR LANG LANGMATCHES DATATYPE "
    "BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT STRLEN UCASE LCASE ENCODE_FOR_URI CONTAINS "
    "STRSTARTS STRENDS STRBEFORE STRAFTER YEAR MONTH DAY HOURS MINUTES SECONDS TIMEZONE TZ NOW UUID "
    "STRUUID MD5 SHA1 SHA256 SHA384 SHA512 COALESCE IF STRLANG STRDT SAMETERM ISIRI ISURI ISBLANK "
    "ISLITERAL ISNUMERIC REGEX SUBSTR REPLACE TRUE FALSE"
).split()
_KEYWORD_SET = set(KEYWORDS)

# One token of SPARQL text: what the grammar's terminals need to be told apart (strings, IRIs,
# comments, variables, names, punctuation). Longest alternatives first.
_TOKEN = re.compile(r'''
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'
              |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)
  | (?P<pname>(?:[^\W\d][\w.-]*)?:(?:[\w:%\\-]|\.(?=[\w:%]))*)
  | (?P<word>[^\W\d][\w-]*|_:[\w.-]+|\d[\w.+-]*)
  | (?P<punct>\^\^|\|\||&&|!=|<=|>=|[{}()\[\].,;*+/!=<>|^@?-])
  | (?P<other>.)
''', re.VERBOSE | re.DOTALL)


def tokens(text: str) -> list[tuple[str, str, int]]:
    """The tokens of SPARQL text as (kind, text, offset), white space and comments left out."""
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind not in ("ws", "comment"):
            out.append((kind or "other", m.group(), m.start()))
    return out


def query_variables(text: str) -> set[str]:
    """Names of the variables the query text mentions (without ? or $)."""
    return {tok[1:] for kind, tok, _ in tokens(text) if kind == "var"}


def _skip_group(toks: list, i: int) -> int:
    """Index just after the group that opens at toks[i] ('{')."""
    depth = 0
    while i < len(toks):
        t = toks[i][1]
        if t == "{":
            depth += 1
        elif t == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def where_group_start(text: str) -> int | None:
    """Offset just after the '{' that opens the outer query's WHERE group, or None.

    Walks the grammar's top level (Prologue, query form, projection, template, dataset clauses)
    over the tokens, so braces inside strings, IRIs, comments, projected expressions (``(EXISTS
    {...} AS ?x)``) and subqueries are never mistaken for it, and the WHERE keyword may be absent.
    None for queries without a group to bind into (``DESCRIBE <x>``, ``CONSTRUCT WHERE {...}``).
    """
    toks = tokens(text)
    i = 0
    while i < len(toks) and toks[i][1].upper() in ("BASE", "PREFIX"):  # Prologue
        i += 3 if toks[i][1].upper() == "PREFIX" else 2
    if i >= len(toks):
        return None
    form = toks[i][1].upper()
    i += 1
    if form == "CONSTRUCT":
        if i < len(toks) and toks[i][1] == "{":
            i = _skip_group(toks, i)  # the template
        else:
            return None  # CONSTRUCT WHERE { triples }: the short form takes triples only
    elif form not in ("SELECT", "ASK", "DESCRIBE"):
        return None
    depth = 0  # parentheses of projected expressions
    while i < len(toks):
        t = toks[i][1]
        if t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
        elif t == "{" and depth == 0:
            return toks[i][2] + 1
        i += 1
    return None


def values_clause(bindings: dict[str, str]) -> str:
    """``VALUES (?a ?b) { (t1 t2) }`` for variable name -> term in N-Triples/SPARQL syntax."""
    names = list(bindings)
    return ("VALUES (" + " ".join("?" + n for n in names) + ") { ("
            + " ".join(bindings[n] for n in names) + ") }")


# -- syntax errors ------------------------------------------------------------------------------

_POSITION = re.compile(r"(?:error )?at (\d+):(\d+)")


class SparqlSyntaxError(InputError):
    """A query that does not parse.

    Attributes:
        line, column: 1-based position of the error in the query text (None when unknown).
        detail: the parser's own words, shortened.
        hint: what is probably wrong (a misspelt keyword, an unknown prefix...), or "".
        text: the whole message (as str(exc)): position, the offending line with a caret, hint.
    """

    def __init__(self, text: str, line: int | None, column: int | None, detail: str, hint: str,
                 source: str = "query"):
        self.line, self.column, self.detail, self.hint, self.text = line, column, detail, hint, text
        super().__init__(text)
        self.position = Position(source, line, f"column {column}" if column else None)
        self.source = source

    def __reduce__(self):  # query workers send it back by pickle (kg.read.runner)
        return (type(self), (self.text, self.line, self.column, self.detail, self.hint, self.source))


def error_position(error) -> tuple[int | None, int | None]:
    """(line, column) from a parser error ("error at 3:10: ..."), else (None, None)."""
    m = _POSITION.search(str(error))
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


_ITEM = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|\[[^\]]*\]|[^,\s][^,]*')


def _detail(message: str) -> str:
    """The parser's message without its position, and without the character-class listings that
    make Oxigraph's messages unreadable (lines of Unicode ranges)."""
    text = _POSITION.sub("", message, count=1).lstrip(": ").strip()
    if "Prefix not found" in text:
        return "undeclared prefix"
    if text.startswith("expected one of"):
        items = [i.strip() for i in _ITEM.findall(text[len("expected one of"):])]
        words = [i for i in items if i and not i.startswith("[") and "\\u" not in i and "..=" not in i]
        shown = words[:8]
        text = "expected one of " + ", ".join(shown) + (", ..." if len(words) > len(shown) else "")
        if not words:
            text = "unexpected text"
    elif "[" in text and "..=" in text:
        text = "unexpected text"
    return " ".join(text.split())[:300]


def _declared_prefixes(text: str) -> set[str]:
    toks = tokens(text)
    return {toks[i + 1][1][:-1] for i in range(len(toks) - 1)
            if toks[i][1].upper() == "PREFIX" and toks[i + 1][0] == "pname"}


def _hint(text: str, line: int | None, column: int | None, message: str) -> str:
    """What is probably wrong, for the common mistakes; "" when nothing fits."""
    toks = tokens(text)
    offset = _offset(text, line, column)
    known = set(PREFIXES) | _declared_prefixes(text)
    # an undeclared prefix (the parser lists character ranges instead of saying so)
    undeclared = [(tok.split(":", 1)[0], at) for kind, tok, at in toks
                  if kind == "pname" and tok.split(":", 1)[0] not in known]
    undeclared = [(name, at) for name, at in undeclared if offset is None or at <= offset]
    if undeclared:
        name = undeclared[0][0]
        close = difflib.get_close_matches(name, sorted(known), n=1)
        also = f" (did you mean {close[0]}:?)" if close else ""
        return (f"unknown prefix '{name}:'{also}: declare it with PREFIX {name}: <...> or use a predeclared "
                f"one ({', '.join(sorted(PREFIXES)[:6])}, ...; `kg query --prefixes` lists them all)")
    # a misspelt keyword: a bare word near the error that is close to a keyword but is none
    before = [(tok, at) for kind, tok, at in toks if kind == "word" and (offset is None or at <= offset)]
    for tok, _ in reversed(before[-3:]):
        up = tok.upper()
        if up in _KEYWORD_SET or up in ("A",):
            continue
        close = difflib.get_close_matches(up, KEYWORDS, n=1, cutoff=0.75)
        if close:
            return f"'{tok}' is not a SPARQL keyword: did you mean {close[0]}?"
    # braces and parentheses that do not pair up
    opens = sum(1 for _, t, _ in toks if t == "{")
    closes = sum(1 for _, t, _ in toks if t == "}")
    if opens > closes:
        return f"a '{{' is never closed ({opens} '{{' against {closes} '}}'): add the missing '}}'"
    if closes > opens:
        return f"one '}}' too many ({closes} '}}' against {opens} '{{')"
    if sum(1 for _, t, _ in toks if t == "(") != sum(1 for _, t, _ in toks if t == ")"):
        return "the parentheses do not pair up: a '(' or ')' is missing"
    # two triple patterns without the '.' between them
    if offset is not None:
        prev = [t for t in toks if t[2] < offset]
        if len(prev) >= 4 and all(k in ("var", "iri", "pname", "string", "word") for k, _, _ in prev[-4:]):
            return "a '.' is probably missing at the end of the triple pattern before this point"
        if "\".\"" in message:
            return "a '.' is probably missing at the end of a triple pattern"
    return ""


def _offset(text: str, line: int | None, column: int | None) -> int | None:
    if line is None:
        return None
    lines = text.split("\n")
    if line > len(lines):
        return len(text)
    return sum(len(lines[i]) + 1 for i in range(line - 1)) + min(max((column or 1) - 1, 0), len(lines[line - 1]))


def _display_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def format_syntax_error(query_text: str, error, source: str = "query") -> str:
    """A readable message for a SPARQL syntax error.

    Args:
        query_text: the query as the user wrote it.
        error: the parser's exception (or its message), e.g. Oxigraph's ``SyntaxError``.
        source: a name for the query (file, named query), shown first.
    Returns:
        ``SOURCE:LINE:COLUMN: SPARQL syntax error: DETAIL`` then the offending line with a caret
        under the column (CJK characters count two columns) and, when one fits, a hint line.
    """
    return syntax_error(query_text, error, source).text


def syntax_error(query_text: str, error, source: str = "query") -> SparqlSyntaxError:
    """The :class:`SparqlSyntaxError` for a parser error on query_text (see format_syntax_error)."""
    message = str(error)
    line, column = error_position(message)
    detail = _detail(message)
    hint = _hint(query_text, line, column, message)
    head = f"{source}:{line}:{column}: " if line else f"{source}: "
    parts = [f"{head}SPARQL syntax error: {detail}"]
    lines = query_text.split("\n")
    if line and 1 <= line <= len(lines):
        shown = lines[line - 1].replace("\t", " ")
        col = min(max(column or 1, 1), len(shown) + 1)
        parts.append(f"  {line:>3} | {shown}")
        parts.append("      | " + " " * _display_width(shown[:col - 1]) + "^")
    if hint:
        parts.append(f"  hint: {hint}")
    return SparqlSyntaxError("\n".join(parts), line, column, detail, hint, source)
