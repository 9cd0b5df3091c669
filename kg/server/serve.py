"""``kg serve``: the graph over HTTP, read-only and bound to 127.0.0.1 unless told otherwise.

- ``/sparql``: the SPARQL 1.1 Protocol (https://www.w3.org/TR/sparql11-protocol/) query
  operation: GET, form POST and direct POST; SELECT/ASK as JSON, XML, CSV, TSV; CONSTRUCT and
  DESCRIBE as Turtle, N-Triples, JSON-LD, RDF/XML; a service description when asked with no query.
- ``/query``: YASGUI (vendored) with the named queries as examples.
- ``/id/{slug}``, ``/source/{id}``, ``/ontology``: Linked Data, HTML / Turtle / JSON-LD by Accept
  header or by ``.ttl`` / ``.jsonld`` suffix (200 with ``Vary: Accept``; see :mod:`kg.server.linked_data`).
- ``/``: the graph explorer, its data from ``/api/*`` (spec/explorer-api.md).
- ``/.well-known/void``: the VoID description of the dataset, when the build has one.

Safe by default: no update operation exists; SERVICE, FROM / FROM NAMED, protocol datasets and
updates are refused (403) on a real parse; queries are limited in size (413), time (504) and
rows (truncated, marked by ``X-SPARQL-Truncated``); every page escapes what it shows; responses
carry a same-origin Content-Security-Policy.
"""
from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import json
import os
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import pyoxigraph as ox
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kg.server import conneg, linked_data
from kg.server import sparql as sp
from kg.views import viz
from kg.server.explorer_api import BadParameter, ExplorerAPI, NotFound
from kg.namespaces import ID, SOURCE, curie
from kg.read.store import open_store

WEB = Path(__file__).resolve().parent.parent / "web"
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"
EXAMPLES = WEB / "examples"

HTML = "text/html"
LD_TYPES = ["text/html", "text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]
SUFFIXES = {".ttl": "text/turtle", ".jsonld": "application/ld+json", ".nt": "application/n-triples",
            ".rdf": "application/rdf+xml", ".html": "text/html"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@dataclass
class Settings:
    """How the server runs. Every limit has a safe default."""

    host: str = "127.0.0.1"
    port: int = 8000
    timeout: float = 10.0
    """Seconds a query may run (504 after)."""
    max_rows: int = 10000
    """Rows (or triples) returned at most; the rest is cut and the response says so."""
    max_query_bytes: int = 64 * 1024
    """Longest query text (and request body) accepted (413 beyond)."""
    allow_federation: bool = False
    """Let queries use SERVICE (reaching other servers); FROM, LOAD and updates stay refused."""
    threads: int = 4
    """Worker threads running queries at once."""


# ----- the site: everything computed once from the build -------------------------------------

@dataclass
class Example:
    """A query shown on the query page."""

    name: str
    question_zh: str
    question_en: str
    text: str


def examples() -> list[Example]:
    """The named queries (queries/cq/*.rq, then queries/*.rq); while there are no competency
    questions yet, the built-in examples (kg/web/examples) come first. A query's default
    bindings (``# bind:`` lines, which `kg query` applies) become a trailing VALUES clause, so
    the example answers what its question asks."""
    from kg.read.query import named_queries

    found = named_queries()
    if not any(q.group == "cq" for q in found):
        found = named_queries(EXAMPLES) + found
    return [Example(q.name, q.question_zh, q.question_en, with_bindings(q.text, query_bindings(q))) for q in found]


def query_bindings(nq) -> dict[str, str]:
    """A named query's default bindings that belong to its SPARQL (not to its networkx step)."""
    bindings = dict(getattr(nq, "bindings", {}) or {})
    if getattr(nq, "networkx", None):
        from kg.read.query import parse_networkx

        for name in parse_networkx(nq.networkx, nq.name).uses:
            bindings.pop(name, None)
    return bindings


def with_bindings(text: str, bindings: dict[str, str]) -> str:
    """text with its bindings as ``VALUES (?a ?b) { (x y) }``: at the start of the WHERE clause
    when that still parses, else as the trailing VALUES clause SPARQL 1.1 allows."""
    from rdflib import Literal, URIRef

    from kg.namespaces import curie_to_iri

    if not bindings:
        return text
    terms = []
    for value in bindings.values():
        value = value.strip()
        if value.startswith("<") and value.endswith(">"):
            term = URIRef(value[1:-1])
        elif value.startswith(("http://", "https://")):
            term = URIRef(value)
        elif curie_to_iri(value):
            term = URIRef(curie_to_iri(value))
        else:
            term = Literal(value)
        terms.append(term.n3())
    names = " ".join("?" + n for n in bindings)
    values = f"VALUES ({names}) {{ ({' '.join(terms)}) }}"
    note = f"# default binding (kg query --bind {', '.join(bindings)})"
    # Inline, at the start of the outer WHERE group: Oxigraph then joins from the bound value
    # (cq07: 7 ms, against 600 ms for a trailing VALUES, which it applies after the whole query).
    m = re.search(r"(?im)^(?!\s*#).*?\bWHERE\s*\{", text)
    if m:
        inline = text[: m.end()] + f"\n  {note}\n  {values}\n" + text[m.end():]
        try:
            if sp.check_query(inline, allow_service=True).form == sp.check_query(text, allow_service=True).form:
                return inline
        except sp.Refused:
            pass
    # otherwise one trailing clause (a query has at most one), bracketed: rdflib's parser rejects
    # `ORDER BY ?x VALUES ?y { ... }`
    return text.rstrip() + f"\n{note}\n{values}\n"


class Site:
    """The store and everything derived from it that the handlers share (read-only)."""

    def __init__(self, build_dir: Path, settings: Settings):
        self.build_dir = Path(build_dir)
        self.settings = settings
        self.store = open_store(self.build_dir)
        self.explorer = ExplorerAPI(self.store)
        self.index = self.explorer.viz.index
        self.describer = self.explorer.viz.describer
        self.runner = sp.QueryRunner(self.store, threads=settings.threads)
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(local_path=linked_data.local_path, curie=curie)
        self.env.filters["href"] = lambda iri: linked_data.local_path(iri) or iri
        self.ontology_triples = linked_data.ontology_triples(self.store)
        self.ontology_doc = linked_data.ontology_doc(self.ontology_triples)
        self.examples = examples()
        self.graph_counts = self._graph_counts()
        self._descriptions: dict[str, object] = {}

    def _graph_counts(self) -> list[tuple[str, int]]:
        rows = self.store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g")
        return [(r["g"].value, int(r["n"].value)) for r in rows]

    def describe(self, iri: str):
        """Describer.describe, cached (the graph does not change while the server runs)."""
        if iri not in self._descriptions:
            if len(self._descriptions) > 4096:
                self._descriptions.clear()
            self._descriptions[iri] = self.describer.describe(iri)
        return self._descriptions[iri]

    def render(self, name: str, **context) -> str:
        return self.env.get_template(name).render(**context)


# ----- middleware -----------------------------------------------------------------------------

class HeadersMiddleware:
    """Security headers and CORS on every response; answers CORS preflight requests.

    Everything this server offers is a read, so any origin may read it (no credentials).
    A response may set its own Content-Security-Policy (the explorer page adds hashes).
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            headers = [(b"access-control-allow-origin", b"*"),
                       (b"access-control-allow-methods", b"GET, HEAD, POST, OPTIONS"),
                       (b"access-control-allow-headers", b"Accept, Content-Type"),
                       (b"access-control-max-age", b"600"), (b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
                         (b"x-frame-options", b"DENY"), (b"access-control-allow-origin", b"*"),
                         (b"access-control-expose-headers",
                          b"Content-Type, Content-Location, X-SPARQL-Truncated, X-SPARQL-MaxRows")]
                if b"content-security-policy" not in names:
                    extra.append((b"content-security-policy", CSP.encode()))
                message = {**message, "headers": headers + [h for h in extra if h[0] not in names]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# ----- helpers --------------------------------------------------------------------------------

class TooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (TooLarge) anything over limit bytes without reading it all."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise TooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def text_error(status: int, message: str, **headers) -> PlainTextResponse:
    """A plain-text error body that says what went wrong and what to do."""
    return PlainTextResponse(message.rstrip() + "\n", status_code=status, headers=headers or None)


def _media_type_header(media_type: str) -> str:
    if media_type.startswith("text/") or media_type.endswith(("+json", "+xml", "/json", "/xml")) \
            or media_type == "application/n-triples":
        return media_type + "; charset=utf-8"
    return media_type


def rdf_response(triples, media_type: str, *, location: str | None = None, vary: bool = True) -> Response:
    headers = {}
    if vary:
        headers["Vary"] = "Accept"
    if location:
        headers["Content-Location"] = location
    return Response(sp.write_rdf(triples, media_type), headers=headers,
                    media_type=_media_type_header(media_type))


# ----- /sparql --------------------------------------------------------------------------------

async def sparql_endpoint(request: Request) -> Response:
    """The SPARQL 1.1 Protocol query operation."""
    site: Site = request.app.state.site
    limit = site.settings.max_query_bytes
    if request.method == "GET":
        if len(request.url.query.encode()) > limit * 3:  # percent-encoding at most triples the size
            return text_error(413, f"the query is too long: at most {limit} bytes (use POST for long queries)")
        params = list(request.query_params.multi_items())
    else:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            body = await read_body(request, limit)
        except TooLarge:
            return text_error(413, f"the request body is too large: at most {limit} bytes")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return text_error(400, "the request body is not UTF-8")
        if ctype == "application/x-www-form-urlencoded":
            params = parse_qsl(text, keep_blank_values=True)
        elif ctype == "application/sparql-query":
            params = list(request.query_params.multi_items()) + [("query", text)]
        elif ctype == "application/sparql-update":
            return text_error(403, "SPARQL Update is not allowed: this endpoint is read-only")
        else:
            return text_error(415, "POST the query as application/x-www-form-urlencoded (query=...) or "
                                   f"as application/sparql-query; got Content-Type {ctype or '(none)'!r}")
    names = [k for k, _ in params]
    if "update" in names:
        return text_error(403, "SPARQL Update is not allowed: this endpoint is read-only")
    if "default-graph-uri" in names or "named-graph-uri" in names:
        return text_error(403, "default-graph-uri and named-graph-uri are not supported: queries run on the "
                               "union of the graphs of this dataset; use GRAPH <...> { } in the query")
    queries = [v for k, v in params if k == "query"]
    if not queries:
        if request.method == "GET":
            return service_description(request)
        return text_error(400, "no query: send query=... (form) or the query itself as application/sparql-query")
    if len(queries) > 1:
        return text_error(400, "more than one query parameter")
    query = queries[0]
    if len(query.encode("utf-8")) > limit:
        return text_error(413, f"the query is too long: at most {limit} bytes")
    fmt = next((v for k, v in params if k in ("format", "output")), None)
    accept = request.headers.get("accept")
    settings = site.settings
    deadline = time.monotonic() + settings.timeout
    try:
        future = site.runner.submit(answer_query, site, query, accept, fmt, deadline)
    except sp.Busy:
        return text_error(503, "the server is busy with other queries (some may have run past their time limit); "
                               "try again shortly", **{"Retry-After": "5"})
    try:
        status, media_type, body, headers = await asyncio.wait_for(asyncio.wrap_future(future),
                                                                   settings.timeout + 0.25)
    except (asyncio.TimeoutError, sp.QueryTimeout):
        return text_error(504, f"the query ran past the time limit of {settings.timeout:g} s and was stopped; "
                               "add LIMIT, narrow the patterns, or ask for fewer results")
    except sp.Refused as exc:
        return text_error(exc.status, str(exc))
    except conneg.NotAcceptable as exc:
        return text_error(406, str(exc))
    return Response(body, status_code=status, headers=headers, media_type=_media_type_header(media_type))


def answer_query(site: Site, query: str, accept: str | None, fmt: str | None, deadline: float):
    """Check, negotiate, run and write one query (in a worker thread).

    Returns (status, media type, body, headers). Raises Refused, NotAcceptable, QueryTimeout.
    """
    checked = sp.check_query(query, allow_service=site.settings.allow_federation)
    is_graph = checked.form in ("CONSTRUCT", "DESCRIBE")
    offers = sp.GRAPH_TYPES if is_graph else sp.RESULT_TYPES
    if fmt:
        media_type = sp.format_override(fmt, is_graph)
        if media_type is None:
            raise sp.Refused(400, f"unknown format {fmt!r} for a {checked.form} query; use one of: "
                                  + ", ".join(offers))
    else:
        media_type = conneg.negotiate(accept, offers)
    outcome = sp.execute(site.store, query, deadline=deadline, max_rows=site.settings.max_rows)
    headers = {"Vary": "Accept"}
    if outcome.truncated:
        headers["X-SPARQL-Truncated"] = "true"
        headers["X-SPARQL-MaxRows"] = str(site.settings.max_rows)
    return 200, media_type, sp.write(outcome, media_type), headers


def service_description(request: Request) -> Response:
    """The SPARQL 1.1 Service Description (Turtle, or another RDF format by Accept); browsers that
    prefer HTML are sent to the query page."""
    site: Site = request.app.state.site
    try:
        media_type = conneg.negotiate(request.headers.get("accept"), ["text/turtle", HTML] + LD_TYPES[2:])
    except conneg.NotAcceptable as exc:
        return text_error(406, str(exc))
    if media_type == HTML:
        return RedirectResponse("/query", status_code=303)
    endpoint = str(request.url.replace(query="", fragment=""))
    formats = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
               "Turtle", "N-Triples", "JSON-LD", "RDF_XML"]
    named = "".join(
        f"""    sd:namedGraph [ a sd:NamedGraph ; sd:name <{g}> ;
        sd:graph [ a sd:Graph ; void:triples {n} ] ] ;\n""" for g, n in site.graph_counts)
    total = sum(n for _, n in site.graph_counts)
    features = "sd:UnionDefaultGraph" + (", sd:BasicFederatedQuery" if site.settings.allow_federation else "")
    ttl = f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

[] a sd:Service ;
  rdfs:label "鱼峰区知识图谱 SPARQL 端点"@zh, "Yufeng KG SPARQL endpoint"@en ;
  sd:endpoint <{endpoint}> ;
  sd:supportedLanguage sd:SPARQL11Query ;
  sd:feature {features} ;
{"".join(f"  sd:resultFormat <http://www.w3.org/ns/formats/{f}> ;{chr(10)}" for f in formats)}  sd:defaultDataset [ a sd:Dataset ;
    sd:defaultGraph [ a sd:Graph ; rdfs:comment "the union of all named graphs" ; void:triples {total} ] ;
{named}  ] .
"""
    if media_type == "text/turtle":
        return Response(ttl.encode(), media_type="text/turtle; charset=utf-8", headers={"Vary": "Accept"})
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(ttl.encode(), format=ox.RdfFormat.TURTLE)]
    return rdf_response(triples, media_type)


# ----- Linked Data ----------------------------------------------------------------------------

def _choose(request: Request, rest: str) -> tuple[str, str | None]:
    """(name without suffix, media type) for a Linked Data path; media type None = negotiate."""
    for suffix, media_type in SUFFIXES.items():
        if rest.endswith(suffix):
            return rest[: -len(suffix)], media_type
    return rest, None


def not_found_page(site: Site, request: Request, message: str, status: int = 404) -> Response:
    return Response(site.render("error.html", status=status, message=message), status_code=status,
                    media_type="text/html; charset=utf-8")


def resource_page(request: Request) -> Response:
    """/id/{slug} and /source/{id}: the resource in HTML, Turtle, JSON-LD, N-Triples or RDF/XML."""
    site: Site = request.app.state.site
    base = str(ID) if request.url.path.startswith("/id/") else str(SOURCE)
    slug, media_type = _choose(request, request.path_params["rest"])
    if not linked_data.slug_ok(slug):
        return not_found_page(site, request, f"not a valid identifier: {slug!r}", 400)
    iri = base + slug
    if not linked_data.exists(site.store, iri):
        return not_found_page(site, request, f"nothing is known about {iri}")
    if media_type is None:
        try:
            media_type = conneg.negotiate(request.headers.get("accept"), LD_TYPES)
        except conneg.NotAcceptable as exc:
            return text_error(406, str(exc))
    path = linked_data.local_path(iri)
    if media_type != HTML:
        ext = next(s for s, m in SUFFIXES.items() if m == media_type)
        return rdf_response(linked_data.resource_triples(site.store, iri), media_type, location=path + ext)
    return Response(entity_html(site, iri), media_type="text/html; charset=utf-8",
                    headers={"Vary": "Accept", "Content-Location": path + ".html"})


def entity_html(site: Site, iri: str) -> str:
    d = site.describe(iri)
    groups: dict[str, dict] = {}
    for f in d.out:
        groups.setdefault(f.predicate, {"predicate": f.predicate, "label_zh": f.predicate_label_zh,
                                        "label_en": f.predicate_label_en, "facts": []})["facts"].append(f)
    incoming: dict[str, dict] = {}
    for f in d.incoming:
        incoming.setdefault(f.predicate, {"predicate": f.predicate, "label_zh": f.predicate_label_zh,
                                          "label_en": f.predicate_label_en, "facts": []})["facts"].append(f)
    neighbours, seen = [], set()
    for f, outgoing in [(f, True) for f in d.out] + [(f, False) for f in d.incoming]:
        if f.is_resource and not f.predicate.endswith("#type") and f.value not in seen:
            seen.add(f.value)
            neighbours.append((f.value, f.value_label_zh, f.predicate_label_zh, outgoing))
    nodes, edges, hidden = linked_data.neighbourhood((iri, d.label_zh), neighbours)
    documents = sorted({e.document for f in d.out + d.incoming for e in f.evidence})
    title = _document_titles(site, documents)
    if iri not in site.index.labels:  # documents have titles, not labels
        titles = {f.lang: f.value for f in d.out if f.predicate == "http://purl.org/dc/terms/title" and f.lang}
        if titles:
            d = dataclasses.replace(d, label_zh=titles.get("zh") or titles.get("en"),
                                    label_en=titles.get("en") or titles.get("zh"))
    return site.render("entity.html", d=d, iri=iri, path=linked_data.local_path(iri),
                       groups=list(groups.values()), incoming=list(incoming.values()),
                       types=[(t, site.describer.term_label(t, "zh"), site.describer.term_label(t, "en")) for t in d.types],
                       svg_nodes=nodes, svg_edges=edges, svg_hidden=hidden, doc_titles=title,
                       chart_img=linked_data.observation_chart_img(site.store, iri))


def _document_titles(site: Site, documents: list[str]) -> dict[str, str]:
    titles = {}
    for doc in documents:
        rows = site.store.query(f"SELECT ?t WHERE {{ {ox.NamedNode(doc)} <http://purl.org/dc/terms/title> ?t "
                                "FILTER(LANG(?t) = 'zh') }", use_default_graph_as_union=True)
        titles[doc] = next((r["t"].value for r in rows), curie(doc))
    return titles


def ontology_page(request: Request) -> Response:
    """/ontology (and .ttl, .jsonld, ...): the ontology's documentation or its RDF."""
    site: Site = request.app.state.site
    suffix = request.path_params.get("suffix")
    media_type = SUFFIXES.get("." + suffix) if suffix else None
    if suffix and media_type is None:
        return not_found_page(site, request, f"no such format: .{suffix}")
    if media_type is None:
        try:
            media_type = conneg.negotiate(request.headers.get("accept"), LD_TYPES)
        except conneg.NotAcceptable as exc:
            return text_error(406, str(exc))
    if media_type != HTML:
        ext = next(s for s, m in SUFFIXES.items() if m == media_type)
        return rdf_response(site.ontology_triples, media_type, location="/ontology" + ext)
    if not hasattr(site, "_ontology_html"):
        site._ontology_html = site.render("ontology.html", o=site.ontology_doc,
                                          label=lambda iri, lang: site.describer.term_label(iri, lang))
    return Response(site._ontology_html, media_type="text/html; charset=utf-8",
                    headers={"Vary": "Accept", "Content-Location": "/ontology.html"})


def void_page(request: Request) -> Response:
    """/.well-known/void: build/void.ttl when the build has it."""
    site: Site = request.app.state.site
    path = site.build_dir / "void.ttl"
    if not path.is_file():
        return text_error(404, "no VoID description in this build (build/void.ttl is missing); "
                               "the SPARQL service description is at /sparql")
    return Response(path.read_bytes(), media_type="text/turtle; charset=utf-8")


# ----- pages ----------------------------------------------------------------------------------

def query_page(request: Request) -> Response:
    """/query: YASGUI with the named queries as tabs."""
    site: Site = request.app.state.site
    data = [{"name": e.name, "zh": e.question_zh, "en": e.question_en, "query": e.text} for e in site.examples]
    # YASGUI (CodeMirror, DataTables) writes style attributes into its markup: allow inline
    # styles on this page only; scripts stay 'self'.
    csp = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    return Response(site.render("query.html", examples=site.examples, examples_json=data),
                    media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": csp})


def _inline_hashes(page: str) -> tuple[list[str], list[str]]:
    """CSP hashes of the page's inline scripts and styles (so a generated page runs under CSP)."""
    def hashes(tag: str) -> list[str]:
        found = []
        for m in re.finditer(rf"<{tag}(\s[^>]*)?>(.*?)</{tag}>", page, re.DOTALL | re.IGNORECASE):
            attrs, body = m.group(1) or "", m.group(2)
            if tag == "script" and ("src=" in attrs or "application/json" in attrs):
                continue
            digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
            found.append(f"'sha256-{digest}'")
        return found
    return hashes("script"), hashes("style")


def explorer_page(request: Request) -> Response:
    """/: the explorer (kg.views.viz in server mode) or, without kg.views.viz, a page of links."""
    site: Site = request.app.state.site
    if not hasattr(site, "_home"):
        site._home = _explorer_html(site)
    page, csp = site._home
    headers = {"Content-Security-Policy": csp} if csp else None
    return Response(page, media_type="text/html; charset=utf-8", headers=headers)


def _explorer_html(site: Site) -> tuple[str, str | None]:
    """The explorer page in server mode, and the Content-Security-Policy that lets its inline
    scripts (by hash) run."""
    hidden = site.explorer.viz.vocabulary_groups()
    page = viz.render_html(None, mode="server", api_base="/api", hidden_groups=hidden)
    scripts, styles = _inline_hashes(page)
    csp = CSP.replace("script-src 'self'", "script-src 'self' " + " ".join(scripts)) \
             .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'" if styles else "style-src 'self'")
    return page, csp


# ----- /api -----------------------------------------------------------------------------------

def _int(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise BadParameter(f"{name} must be an integer, got {value!r}") from None


def api(fn):
    """Wrap an API handler: JSON out, 400/404 with {"error": ...}."""
    def handler(request: Request) -> Response:
        try:
            return JSONResponse(fn(request.app.state.site.explorer, request))
        except BadParameter as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except NotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
    handler.__name__ = fn.__name__
    handler.__doc__ = fn.__doc__
    return handler


@api
def api_graph(data: ExplorerAPI, request: Request):
    """GET /api/graph?focus=IRI&depth=N"""
    return data.graph_json(request.query_params.get("focus"), _int(request, "depth", 1))


@api
def api_search(data: ExplorerAPI, request: Request):
    """GET /api/search?q=TEXT&limit=20"""
    return data.search(request.query_params.get("q"), _int(request, "limit", 20))


@api
def api_node(data: ExplorerAPI, request: Request):
    """GET /api/node?iri=IRI"""
    return data.detail(request.query_params.get("iri"))


@api
def api_expand(data: ExplorerAPI, request: Request):
    """GET /api/expand?iri=IRI&predicate=IRI&offset=0&limit=50"""
    return data.expand(request.query_params.get("iri"), request.query_params.get("predicate"),
                       _int(request, "offset", 0), _int(request, "limit", 50))


# ----- the app --------------------------------------------------------------------------------

def create_app(build_dir: Path, settings: Settings | None = None) -> Starlette:
    """The ASGI app serving the build in build_dir (loaded into memory once).

    Raises:
        FileNotFoundError: build_dir holds no build (run `kg build`).
    """
    settings = settings or Settings()
    site = Site(Path(build_dir), settings)
    routes = [
        Route("/", explorer_page),
        Route("/sparql", sparql_endpoint, methods=["GET", "HEAD", "POST"]),
        Route("/query", query_page),
        Route("/id/{rest:path}", resource_page),
        Route("/source/{rest:path}", resource_page),
        Route("/ontology", ontology_page),
        Route("/ontology.{suffix}", ontology_page),
        Route("/.well-known/void", void_page),
        Route("/favicon.ico", lambda request: Response(status_code=204)),  # browsers ask; no 404 noise
        Route("/api/graph", api_graph),
        Route("/api/search", api_search),
        Route("/api/node", api_node),
        Route("/api/expand", api_expand),
        Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"),
    ]

    async def not_found(request: Request, exc) -> Response:
        status = getattr(exc, "status_code", 404)
        message = getattr(exc, "detail", "") or "not found"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=status)
        return text_error(status, f"{message}: {request.url.path}; see / (explorer), /query, /sparql, /ontology")

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    app.state.site = site
    app.state.settings = settings
    app.add_middleware(HeadersMiddleware)
    return app


# ----- the CLI --------------------------------------------------------------------------------

def cmd_serve(args) -> int:
    import uvicorn

    from kg import paths
    from kg.pipeline.build import build

    build_dir = Path(args.build or paths.build_dir())
    if not (build_dir / "kg.nq").is_file():
        print(f"kg: no build in {build_dir}: building it first", file=sys.stderr)
        build(out_dir=build_dir, progress=lambda m: print(f"kg: {m}", file=sys.stderr))
    if args.max_rows < 1 or args.timeout <= 0 or args.workers < 1 or args.threads < 1:
        print("kg: error: --max-rows, --workers and --threads must be at least 1 and --timeout above 0",
              file=sys.stderr)
        return 2
    settings = Settings(host=args.host, port=args.port, timeout=args.timeout, max_rows=args.max_rows,
                        allow_federation=args.allow_federation, threads=args.threads)
    t0 = time.perf_counter()
    app = create_app(build_dir, settings)
    url = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}"
    print(f"kg: serving {build_dir} ({len(app.state.site.store)} quads, ready in {time.perf_counter() - t0:.1f} s)\n"
          f"  explorer  {url}/\n  query     {url}/query\n  SPARQL    {url}/sparql\n"
          f"  example   {url}/id/yufeng-qu\n  ontology  {url}/ontology", file=sys.stderr)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"kg: warning: listening on {args.host}: reachable from other machines", file=sys.stderr)
    if args.workers > 1:
        # Each worker process loads its own copy of the store (the graph is small and read-only),
        # so Python's per-request work runs on several cores.
        os.environ[_CONFIG_ENV] = json.dumps({"build_dir": str(build_dir), **asdict(settings)})
        del app
        uvicorn.run("kg.server.serve:app_from_env", factory=True, workers=args.workers, host=args.host, port=args.port,
                    log_level="warning", access_log=False, timeout_keep_alive=30)
    else:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False,
                    timeout_keep_alive=30)
    return 0


_CONFIG_ENV = "KG_SERVE_CONFIG"


def app_from_env() -> Starlette:
    """The app for a worker process started by ``kg serve --workers N`` (settings from the environment)."""
    config = json.loads(os.environ[_CONFIG_ENV])
    build_dir = Path(config.pop("build_dir"))
    return create_app(build_dir, Settings(**config))


def register(subparsers) -> None:
    """Add the ``serve`` verb."""
    p = subparsers.add_parser("serve", help="serve SPARQL, Linked Data pages and the explorer over HTTP")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--build", type=Path, help="build folder (default: build/ or $KG_BUILD; built if missing)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds a query may run (default 10)")
    p.add_argument("--max-rows", type=int, default=10000, help="rows or triples returned at most (default 10000)")
    p.add_argument("--allow-federation", action="store_true", help="allow SERVICE in queries (off by default)")
    p.add_argument("--threads", type=int, default=4, help="queries run at once per worker (default 4)")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes, each with its own copy of the store (default 1)")
    p.set_defaults(func=cmd_serve)

