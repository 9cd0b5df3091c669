"""The SPARQL 1.1 Protocol's query operation over the embedded store, safe by default.

- SPARQL 1.1 Protocol: https://www.w3.org/TR/sparql11-protocol/
- Query results JSON: https://www.w3.org/TR/sparql11-results-json/
- Query results XML: https://www.w3.org/TR/rdf-sparql-XMLres/
- Query results CSV and TSV: https://www.w3.org/TR/sparql11-results-csv-tsv/
- Service description: https://www.w3.org/TR/sparql11-service-description/

What a query may do is decided before it runs, on its tokens (:mod:`kg.read.admission`):
SERVICE (unless federation is allowed), FROM / FROM NAMED and every update (LOAD, INSERT,
DROP, ...) are refused; the grammar itself is checked by Oxigraph's parser where the query runs.
Queries run on the union of all named graphs, with relative IRIs resolved against :data:`BASE_IRI`.

Queries run in worker processes (:mod:`kg.read.runner`): :func:`answer_in_worker` is what a
worker does with one request: run, read within the limits, write the body. A worker past its
deadline is killed, a worker that crashes is replaced, and the server itself never runs a query.
Results over the row cap are truncated and marked as such (see :class:`Outcome`).
"""
from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass, field
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import pyoxigraph as ox

from kg.namespaces import PREFIXES
from kg.read.admission import Admitted, NotAdmitted, admit, sort_rows
from kg.read.sparql_text import PREFIXES as QUERY_PREFIX_MAP, format_syntax_error

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

# Media types offered, in the server's order of preference.
RESULT_TYPES = [
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "application/json",  # what some clients ask for; answered as SPARQL JSON results
    "application/xml",
]
GRAPH_TYPES = [
    "text/turtle",
    "application/n-triples",
    "application/ld+json",
    "application/rdf+xml",
    "text/plain",  # N-Triples, for browsers and curl
    "application/json",  # JSON-LD
    "text/n3",  # Turtle is N3
]
RDF_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "text/n3": ox.RdfFormat.TURTLE,
}
# format= short names (also accepted: a full media type).
FORMAT_NAMES = {
    "json": ("application/sparql-results+json", "application/ld+json"),
    "srj": ("application/sparql-results+json", None),
    "xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "srx": ("application/sparql-results+xml", None),
    "csv": ("text/csv", None),
    "tsv": ("text/tab-separated-values", None),
    "turtle": (None, "text/turtle"),
    "ttl": (None, "text/turtle"),
    "nt": (None, "application/n-triples"),
    "ntriples": (None, "application/n-triples"),
    "n-triples": (None, "application/n-triples"),
    "jsonld": (None, "application/ld+json"),
    "json-ld": (None, "application/ld+json"),
    "rdfxml": (None, "application/rdf+xml"),
    "rdf": (None, "application/rdf+xml"),
    "n3": (None, "text/n3"),
}


BASE_IRI = PREFIXES["yfid"]  # a plain string: a query worker starts without the RDF library of the build
"""Relative IRIs in queries resolve against the dataset's identifier space (``<jinsangzi>``)."""

QUERY_PREFIXES: dict[str, str] = QUERY_PREFIX_MAP
"""The project's prefixes, predeclared as in `kg query` and ``kg.query`` (a query's own PREFIX wins)."""


class Refused(Exception):
    """A request the server will not run: ``status`` 400 (malformed) or 403 (not allowed)."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)

    def __reduce__(self):  # crosses the pipe from a worker process
        return (Refused, (self.status, str(self)))


class QueryTimeout(Exception):
    """The query ran past its time limit."""


class NotWritable(Exception):
    """The result cannot be written in the chosen format (HTTP 406)."""


Checked = Admitted


def check_query(text: str, *, allow_service: bool = False) -> Admitted:
    """Check that text is one read-only query this server may run (on its tokens; no lock, no parse).

    Raises:
        Refused: 400 for no query form or too deep nesting, 403 for SERVICE (unless allowed),
            FROM / FROM NAMED, or any update.
    """
    try:
        return admit(text, allow_service=allow_service)
    except NotAdmitted as exc:
        raise Refused(exc.status, str(exc)) from None


@dataclass
class Outcome:
    """A query's answer, read within the limits.

    Attributes:
        form: SELECT, ASK, CONSTRUCT or DESCRIBE.
        variables: SELECT variable names. rows: solutions as lists of terms (None = unbound).
        boolean: the ASK answer. triples: CONSTRUCT/DESCRIBE triples.
        truncated: True when there were more than max_rows rows or triples (the rest is dropped).
    """

    form: str
    variables: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)
    truncated: bool = False

    @property
    def is_graph(self) -> bool:
        return self.form in ("CONSTRUCT", "DESCRIBE")


def execute(store: ox.Store, text: str, *, deadline: float, max_rows: int,
            admitted: Admitted | None = None) -> Outcome:
    """Run an admitted query and read its results until max_rows or the deadline (time.monotonic()).

    A simple outer ORDER BY (see :class:`kg.read.admission.OrderPlan`) is applied here rather than
    by Oxigraph 0.5, whose sort panics on mixed terms.

    Raises:
        Refused: Oxigraph does not accept the query (400).
        QueryTimeout: the deadline passed while results were read.
    """
    plan = admitted.order if admitted is not None else None
    result = reader = None
    try:
        try:
            engine_text = admitted.engine_text(text) if admitted is not None else text
            try:
                result = _query(store, engine_text)
            except SyntaxError:
                if engine_text == text:
                    raise
                plan = None  # the error's line and column must be the user's: their own text
                result = _query(store, text)
        except SyntaxError as exc:
            raise Refused(400, format_syntax_error(text, exc)) from None
        except (OSError, RuntimeError, ValueError) as exc:
            raise Refused(400, f"query failed: {exc}") from None
        if isinstance(result, ox.QueryBoolean):
            return Outcome("ASK", boolean=bool(result))
        if isinstance(result, ox.QuerySolutions):
            names = [v.value for v in result.variables]
            out = Outcome("SELECT", variables=names)
            width = range(len(names))
            reader = _deadline_iter(result, deadline)
            if plan is not None:
                rows = [[solution[i] for i in width] for solution in reader]
                rows = sort_rows(rows, names, plan)
                out.truncated = len(rows) > max_rows
                out.rows = rows[:max_rows]
                return out
            for n, solution in enumerate(reader):
                if n >= max_rows:
                    out.truncated = True
                    break
                out.rows.append([solution[i] for i in width])
            return out
        out = Outcome("CONSTRUCT")
        reader = _deadline_iter(result, deadline)
        for n, triple in enumerate(reader):
            if n >= max_rows:
                out.truncated = True
                break
            out.triples.append(triple)
        return out
    finally:
        # Oxigraph's result iterators must be dropped on the thread that made them: release them
        # here, so that neither a traceback nor a half-read generator carries them elsewhere.
        if reader is not None:
            reader.close()
        result = reader = None


_UNKNOWN_FUNCTION = re.compile(r"custom function <([^>]*)> is not supported")


def _unknown(*_args):
    return None


def _query(store: ox.Store, text: str):
    """store.query on the union graph. A call of a function Oxigraph does not know is an error in
    the expression, as SPARQL 1.1 section 17.3 says (so BIND leaves the variable unbound and FILTER
    drops the row), rather than a refusal of the whole query."""
    functions: dict = {}
    while True:
        try:
            return store.query(text, base_iri=BASE_IRI, prefixes=QUERY_PREFIXES, use_default_graph_as_union=True,
                               custom_functions=functions or None)
        except RuntimeError as exc:
            m = _UNKNOWN_FUNCTION.search(str(exc))
            if not m or len(functions) >= 32 or ox.NamedNode(m.group(1)) in functions:
                raise
            functions[ox.NamedNode(m.group(1))] = _unknown


def answer_in_worker(store: ox.Store, job: dict) -> tuple[int, str, bytes, dict]:
    """One request's query in a worker process (see :mod:`kg.read.runner`): run, read, write.

    job: text, admitted (:class:`Admitted`), media_type, max_rows, timeout (seconds).
    Returns (status, media type, body, headers). Raises Refused, QueryTimeout, NotWritable.
    """
    deadline = time.monotonic() + job["timeout"]  # the native attempt's time counts too
    native = _answer_natively(store, job, deadline)
    if native is not None:
        return native
    outcome = execute(store, job["text"], deadline=deadline, max_rows=job["max_rows"], admitted=job["admitted"])
    headers = {"Vary": "Accept"}
    if outcome.truncated:
        headers["X-SPARQL-Truncated"] = "true"
        headers["X-SPARQL-MaxRows"] = str(job["max_rows"])
    return 200, job["media_type"], write(outcome, job["media_type"]), headers


NATIVE_CAP = 32 * 1024 * 1024
"""Bytes of results JSON that Oxigraph may write for one answer before the worker falls back to
reading the rows itself (which stops at the row cap)."""


class _Enough(Exception):
    """The native writer stops: the answer is over its byte cap, or may have more rows than max_rows."""


class _CappedBuffer:
    """A binary writer for Oxigraph's serializer of SPARQL JSON results that stops it (raising) past
    ``cap`` bytes, once more than ``max_rows`` rows may have been written, or at the deadline
    (:class:`QueryTimeout`); Oxigraph computes rows as it writes them (8 KiB at a time), so a row
    past the cap is never computed, as in the Python reader."""

    def __init__(self, cap: int, max_rows: int, deadline: float):
        self.cap = cap
        self.max_rows = max_rows
        self.deadline = deadline
        self.parts: list[bytes] = []
        self.size = 0
        self.rows = 1  # at least as many as written: the first, and one per separator seen
        self._tail = b""

    def write(self, data) -> int:
        data = bytes(data)
        self.size += len(data)
        if self.size > self.cap:
            raise _Enough("the answer is larger than the worker writes natively")
        # Oxigraph writes rows as {...},{...} without spaces: outside strings "},{" is found only
        # between two rows (a row's bindings are separated by },"), inside a literal it may be too:
        # so it counts at least the rows written, more only when a literal holds it
        self.rows += (self._tail + data).count(b"},{")
        self._tail = data[-2:]
        if self.rows > self.max_rows:
            raise _Enough("more rows than the cap: the Python reader stops there")
        if time.monotonic() > self.deadline:
            raise QueryTimeout()
        self.parts.append(data)
        return len(data)

    def flush(self) -> None:
        pass

    def value(self) -> bytes:
        return b"".join(self.parts)


def _answer_natively(store: ox.Store, job: dict, deadline: float | None = None) -> tuple[int, str, bytes, dict] | None:
    """A SELECT answered in SPARQL JSON, written by Oxigraph itself (in Rust, several times faster
    than building the document term by term in Python), or None for every other case, which
    :func:`execute` and :func:`write` then handle: other forms and formats, an outer ORDER BY
    applied outside Oxigraph, an error (reported there with the user's own positions), an
    answer over :data:`NATIVE_CAP` bytes or over ``max_rows`` rows (the Python reader cuts it and
    marks it with the truncation headers).

    The answer is the same bytes the Python writer makes (test_serve checks this on every named
    query). The deadline is looked at between two writes of the serializer; a query still running
    without writing is killed by the pool, which answers 504 as for one stopped in Python.

    Raises:
        QueryTimeout: the deadline passed while the answer was written.
    """
    admitted: Admitted = job["admitted"]
    if admitted.form != "SELECT" or admitted.order is not None or RESULT_WRITERS.get(job["media_type"]) is not results_json:
        return None
    max_rows = job["max_rows"]
    try:
        result = _query(store, admitted.engine_text(job["text"]))
        if not isinstance(result, ox.QuerySolutions):
            return None
        out = _CappedBuffer(NATIVE_CAP, max_rows, time.monotonic() + job["timeout"] if deadline is None else deadline)
        result.serialize(out, format=ox.QueryResultsFormat.JSON)
    except (SyntaxError, OSError, RuntimeError, ValueError, _Enough):
        return None
    finally:
        result = None  # Oxigraph's iterators are dropped where they were made
    body = out.value()
    headers = {"Vary": "Accept"}
    # a safeguard should Oxigraph ever write rows otherwise than counted above: each row opens one
    # brace of its own (so do the document, its head and its results), so an answer with no more
    # braces than that cannot be over the cap, and only a larger one is read
    if body.count(b"{") - 3 > max_rows:
        doc = json.loads(body)
        rows = doc["results"]["bindings"]
        if len(rows) > max_rows:
            doc["results"]["bindings"] = rows[:max_rows]
            body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["X-SPARQL-Truncated"] = "true"
            headers["X-SPARQL-MaxRows"] = str(max_rows)
    return 200, job["media_type"], body, headers


def _deadline_iter(results, deadline: float):
    it = iter(results)
    try:
        while True:
            try:
                item = next(it)
            except StopIteration:
                return
            except OSError as exc:
                raise Refused(400, f"query failed: {exc}") from None
            if time.monotonic() > deadline:
                raise QueryTimeout()
            yield item
    finally:
        it = results = None


# ----- writing results ------------------------------------------------------------------------

def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        d = {"type": "literal", "value": term.value}
        if term.language:
            d["xml:lang"] = term.language
            if term.direction is not None:  # RDF 1.2 "..."@en--ltr, as Oxigraph's own writer has it
                d["its:dir"] = str(term.direction)
        elif term.datatype.value != XSD_STRING:
            d["datatype"] = term.datatype.value
        return d
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                            "predicate": _json_term(term.predicate),
                                            "object": _json_term(term.object)}}
    raise TypeError(f"not an RDF term: {term!r}")


def results_json(outcome: Outcome) -> bytes:
    """SPARQL 1.1 Query Results JSON."""
    if outcome.form == "ASK":
        doc = {"head": {}, "boolean": outcome.boolean}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # the same bytes as json.dumps of the whole document, written from pieces: each distinct term
    # is encoded once (results repeat their labels and IRIs), and no dict is built per row
    names = outcome.variables
    keys = [json.dumps(n, ensure_ascii=False) + ":" for n in names]
    encoded: dict = {}
    rows = []
    for row in outcome.rows:
        items = []
        for i, term in enumerate(row):
            if term is None:
                continue
            piece = encoded.get(term)
            if piece is None:
                piece = encoded[term] = json.dumps(_json_term(term), ensure_ascii=False, separators=(",", ":"))
            items.append(keys[i] + piece)
        rows.append("{" + ",".join(items) + "}")
    head = json.dumps(names, ensure_ascii=False, separators=(",", ":"))
    return ('{"head":{"vars":' + head + '},"results":{"bindings":[' + ",".join(rows) + "]}}").encode("utf-8")


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{xml_escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{xml_escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{xml_escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{xml_escape(term.value)}</literal>"
        return f"<literal>{xml_escape(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}"
                f"</predicate><object>{_xml_term(term.object)}</object></triple>")
    raise TypeError(f"not an RDF term: {term!r}")


def results_xml(outcome: Outcome) -> bytes:
    """SPARQL Query Results XML Format."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>']
    if outcome.form == "ASK":
        parts.append(f"</head>\n<boolean>{'true' if outcome.boolean else 'false'}</boolean>\n</sparql>\n")
        return "".join(parts).encode("utf-8")
    names = outcome.variables
    parts.extend(f"<variable name={quoteattr(n)}/>" for n in names)
    parts.append("</head>\n<results>\n")
    for row in outcome.rows:
        parts.append("<result>")
        parts.extend(f"<binding name={quoteattr(names[i])}>{_xml_term(t)}</binding>"
                     for i, t in enumerate(row) if t is not None)
        parts.append("</result>\n")
    parts.append("</results>\n</sparql>\n")
    return "".join(parts).encode("utf-8")


def _csv_value(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def results_csv(outcome: Outcome) -> bytes:
    """SPARQL 1.1 Query Results CSV (values only: no language tags or datatypes; CRLF lines)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if outcome.form == "ASK":  # not defined by the CSV format; a one-cell table is what tools expect
        writer.writerow(["boolean"])
        writer.writerow(["true" if outcome.boolean else "false"])
    else:
        writer.writerow(outcome.variables)
        for row in outcome.rows:
            writer.writerow([_csv_value(t) for t in row])
    return buf.getvalue().encode("utf-8")


def results_tsv(outcome: Outcome) -> bytes:
    """SPARQL 1.1 Query Results TSV (terms in Turtle/N-Triples syntax)."""
    if outcome.form == "ASK":
        return ("?boolean\n" + ("true" if outcome.boolean else "false") + "\n").encode("utf-8")
    lines = ["\t".join("?" + n for n in outcome.variables)]
    for row in outcome.rows:
        lines.append("\t".join("" if t is None else str(t) for t in row))
    return ("\n".join(lines) + "\n").encode("utf-8")


RESULT_WRITERS = {
    "application/sparql-results+json": results_json,
    "application/json": results_json,
    "application/sparql-results+xml": results_xml,
    "application/xml": results_xml,
    "text/csv": results_csv,
    "text/tab-separated-values": results_tsv,
}


_NCNAME_TAIL = re.compile(r"[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]*$")


def xml_writable(predicate: str) -> bool:
    """Whether RDF/XML can name this predicate: it must end in an XML name (not '/', '#' or a digit run
    with nothing before it that starts a name)."""
    return _NCNAME_TAIL.search(predicate) is not None


def write_rdf(triples, media_type: str) -> bytes:
    """Triples in one of RDF_FORMATS (Turtle, RDF/XML with the project's prefixes).

    Raises:
        NotWritable: RDF/XML asked for, and a predicate cannot be written as an XML element name.
    """
    fmt = RDF_FORMATS[media_type]
    if fmt == ox.RdfFormat.RDF_XML:
        bad = next((t.predicate.value for t in triples if not xml_writable(t.predicate.value)), None)
        if bad is not None:
            raise NotWritable(f"the result cannot be written as RDF/XML: the predicate <{bad}> does not end in an "
                              "XML name; ask for text/turtle, application/n-triples or application/ld+json")
    prefixes = dict(PREFIXES) if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
    return ox.serialize(triples, format=fmt, prefixes=prefixes)


def write(outcome: Outcome, media_type: str) -> bytes:
    """The outcome in media_type (which must suit its form)."""
    if outcome.is_graph:
        return write_rdf(outcome.triples, media_type)
    return RESULT_WRITERS[media_type](outcome)


def format_override(value: str, is_graph: bool) -> str | None:
    """The media type a ``format=`` parameter names for this query form (None if unknown)."""
    value = value.strip().lower()
    if value in FORMAT_NAMES:
        return FORMAT_NAMES[value][1 if is_graph else 0]
    offers = GRAPH_TYPES if is_graph else RESULT_TYPES
    return value if value in offers else None
