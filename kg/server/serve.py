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
updates are refused (403) before anything runs; queries are limited in size (413), time (504) and
rows (truncated, marked by ``X-SPARQL-Truncated``); every page escapes what it shows; responses
carry a same-origin Content-Security-Policy.

Nothing a request does can stop the server: queries run in worker processes
(:mod:`kg.read.runner`) with a memory cap each, killed at their deadline and replaced when they
die; a client whose queries run slow is held to a share of the workers; idle and slow
connections are closed and open connections are capped (:class:`GuardedProtocol`). The
server serves the published build (``build/current``) and names it in ``X-KG-Build`` and in the
service description; when ``kg build`` publishes a new one, the server opens it beside the old and
switches (:func:`watch_builds`): each request is answered from one build, start to end, and a build
does not remove the release a running server still serves (:func:`kg.read.store.hold`).
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import json
import os
import re
import sys
import time
from collections import OrderedDict, deque
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
from kg.read import runner
from kg.read.store import BuildUnreadable, hold, load_nq, published

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
    """Worker processes running quick queries at once."""
    slow_threads: int = 2
    """Further worker processes kept for slow clients' queries (run at the lowest CPU priority), so
    that slow queries never take a worker from quick ones."""
    query_memory_mb: int = runner.DEFAULT_MEMORY_MB
    """Address space a query worker may use (MiB); a query needing more fails alone."""
    slow_after: float = 1.0
    """A query running longer than this (seconds) makes its client a slow client for a minute."""
    max_connections: int = 1000
    """Open connections at most; more are closed at once."""
    header_timeout: float = 10.0
    """Seconds a connection may take to send a request's headers (slow or idle clients are closed)."""
    keep_alive: float = 5.0
    """Seconds an idle keep-alive connection stays open."""
    trusted_proxies: str = ""
    """Addresses (comma-separated) of reverse proxies whose X-Forwarded-For names the client. None
    by default: any local program could otherwise claim to be many clients and escape the
    per-client limits."""
    reload: bool = True
    """Serve a new build as soon as ``kg build`` publishes it (requests already running finish on
    the build they started on)."""
    reload_interval: float = 2.0
    """Seconds between two looks at the published build."""
    cache_mb: int = 64
    """Memory kept for the answers of recent queries (MiB; 0 = none). The build a server serves never
    changes, so a repeated query (a dashboard's, a page's) is answered from memory."""

    @property
    def public_base(self) -> str:
        """This server's base URL, from its own settings (never from a request's Host header)."""
        host = self.host if self.host not in ("0.0.0.0", "::") else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"


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

    def __init__(self, build_dir: Path, settings: Settings, clients: Clients | None = None):
        self.build_dir = Path(build_dir)
        self.settings = settings
        self.release = published(self.build_dir)
        self.build_id = self.release.id or "unversioned"
        self._hold = hold(self.release)  # a build does not remove the release a server serves
        self.store = load_nq(self.release.nq)
        self.queries = runner.WorkerPool(
            runner.WorkerConfig(str(self.release.nq), "kg.server.sparql:answer_in_worker", settings.query_memory_mb),
            size=settings.threads + settings.slow_threads, slow_after=settings.slow_after)
        self.queries.start()
        self.clients = clients or Clients(settings)  # who is slow outlives a change of build
        self.explorer = ExplorerAPI(self.store)
        self.index = self.explorer.viz.index
        self.describer = self.explorer.viz.describer
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(local_path=linked_data.local_path, curie=curie)
        self.env.filters["href"] = lambda iri: linked_data.local_path(iri) or iri
        self.ontology_triples = linked_data.ontology_triples(self.store)
        self.ontology_doc = linked_data.ontology_doc(self.ontology_triples)
        self.examples = examples()
        self.graph_counts = self._graph_counts()
        self.union_triples = self._union_triples()
        self.void = self._void()
        self._descriptions: dict[str, object] = {}
        self.answers = ResultCache(settings.cache_mb * 1024 * 1024)

    def _graph_counts(self) -> list[tuple[str, int]]:
        rows = self.store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g")
        return [(r["g"].value, int(r["n"].value)) for r in rows]

    def _union_triples(self) -> int:
        """Triples in the union default graph: each counted once, however many graphs state it."""
        rows = self.store.query("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }")
        return int(next(iter(rows))["n"].value)

    def _void(self) -> bytes | None:
        """void.ttl of the release, its URLs on this server's real address."""
        from kg.pipeline.void import PUBLIC_BASE

        path = self.release.path / "void.ttl"
        if not path.is_file():
            return None
        return path.read_bytes().replace(f"<{PUBLIC_BASE}/".encode(), f"<{self.settings.public_base}/".encode())

    def close(self) -> None:
        self.queries.close()
        if self._hold is not None:
            self._hold.close()
            self._hold = None

    def describe(self, iri: str):
        """Describer.describe, cached (the graph does not change while the server runs)."""
        if iri not in self._descriptions:
            if len(self._descriptions) > 4096:
                self._descriptions.clear()
            self._descriptions[iri] = self.describer.describe(iri)
        return self._descriptions[iri]

    def render(self, name: str, **context) -> str:
        return self.env.get_template(name).render(**context)


class ResultCache:
    """Answers of recent queries, by query text and media type, for one build.

    A build never changes while a :class:`Site` serves it, so an answer stays right as long as it is
    kept (a new build gets a new Site, and an empty cache). Bounded in bytes; the least recently
    used answers go first; an answer over an eighth of the bound is not kept. An answer is kept
    the second time its text is asked within the last ``REMEMBERED`` distinct texts (the first
    time only the text's hash is remembered): texts asked once, which most generated queries are,
    neither cost the memory nor push out the answers of texts that do repeat.
    """

    REMEMBERED = 8192

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = self.misses = 0
        self._items: OrderedDict[tuple, tuple[tuple, int]] = OrderedDict()
        self._asked_once: OrderedDict[int, None] = OrderedDict()

    def get(self, key: tuple):
        item = self._items.get(key)
        if item is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return item[0]

    def put(self, key: tuple, answer: tuple, size: int) -> None:
        if size > self.max_bytes // 8 or key in self._items:
            return
        h = hash(key)
        if h not in self._asked_once:
            self._asked_once[h] = None
            if len(self._asked_once) > self.REMEMBERED:
                self._asked_once.popitem(last=False)
            return
        del self._asked_once[h]
        self._items[key] = (answer, size)
        self.size += size
        while self.size > self.max_bytes and self._items:
            _, (_, old_size) = self._items.popitem(last=False)
            self.size -= old_size


# ----- middleware -----------------------------------------------------------------------------

class HeadersMiddleware:
    """Security headers and CORS on every response; answers CORS preflight requests.

    Everything this server offers is a read, so any origin may read it (no credentials).
    A response may set its own Content-Security-Policy (the explorer page adds hashes).
    """

    def __init__(self, app, current_site):
        self.app = app
        self.current_site = current_site

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # the build a request is answered from is fixed when it arrives (see site_of)
        site = scope["kg.site"] = self.current_site()
        build_id = site.build_id.encode("ascii", "replace")
        if scope["method"] == "OPTIONS" and _known_path(scope["path"]):
            headers = [(b"allow", b"GET, HEAD, POST, OPTIONS"),(b"access-control-allow-origin", b"*"),
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
                extra = [(b"x-kg-build", build_id),
                         (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
                         (b"x-frame-options", b"DENY"), (b"access-control-allow-origin", b"*"),
                         (b"access-control-expose-headers",
                          b"Content-Type, Content-Location, X-SPARQL-Truncated, X-SPARQL-MaxRows, X-KG-Build, X-KG-Cache")]
                if b"content-security-policy" not in names:
                    extra.append((b"content-security-policy", CSP.encode()))
                message = {**message, "headers": headers + [h for h in extra if h[0] not in names]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def site_of(request: Request) -> Site:
    """The site (build) a request is answered from: the one published when the request arrived,
    so that one request never mixes two builds, even when a new one is published meanwhile."""
    return request.scope.get("kg.site") or request.app.state.site


_KNOWN = re.compile(r"^/(|sparql|query|ontology(\.\w+)?|\.well-known/void|favicon\.ico|"
                    r"(id|source|api|static|dumps)/.+)$")


def _known_path(path: str) -> bool:
    """Whether a path is one this server answers (an OPTIONS preflight elsewhere is a 404)."""
    return _KNOWN.match(path) is not None


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

class Clients:
    """Who is running what: a client (by address) runs at most ``threads - 1`` queries at once, so
    one client never holds every worker. A client whose query ran past ``slow_after`` seconds in
    its worker (waiting for a worker does not count) is a slow client for five times as long as
    the query ran (a minute when it was killed or crashed its worker): it runs one query at a time,
    at the lowest CPU priority, and slow clients together hold at most ``slow_threads`` workers,
    the ones the pool keeps beyond ``threads`` for them, so quick clients always find a worker and
    most of the CPU. Requests over these bounds wait their turn (up to the time limit), then get 429."""

    SLOW_FOR = 60.0

    def __init__(self, settings: Settings):
        self.settings = settings
        self.per_client = max(1, settings.threads - 1)
        self.slow_slots = max(1, settings.slow_threads)
        self.running: dict[str, int] = {}
        self.slow_until: dict[str, float] = {}
        self.slow_running = 0
        # requests waiting for a place, in arrival order: a place that frees up is handed to the
        # first that may take it (waking every waiter to look again costs the event loop
        # O(waiters) per query when many requests come from one address)
        self._waiting: deque[tuple[str, asyncio.Future]] = deque()
        self._queued: dict[str, int] = {}

    def is_slow(self, client: str) -> bool:
        return self.slow_until.get(client, 0.0) > time.monotonic()

    def _grant(self, client: str) -> dict | None:
        """A place for client if its bounds allow one now (taken), else None."""
        slow = self.is_slow(client)
        mine = self.running.get(client, 0)
        if not ((not slow and mine < self.per_client) or (slow and mine < 1 and self.slow_running < self.slow_slots)):
            return None
        self.running[client] = mine + 1
        if slow:
            self.slow_running += 1
        return {"client": client, "slow": slow, "start": None, "usage": {}}

    async def enter(self, client: str, wait: float) -> dict:
        """Take a place for one query of client (waiting at most ``wait`` seconds, behind the
        client's earlier requests).

        Raises:
            TooBusy: the client's places stayed taken.
        """
        if not self._queued.get(client):
            ticket = self._grant(client)
            if ticket is not None:
                return ticket
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        entry = (client, future)
        self._waiting.append(entry)
        self._queued[client] = self._queued.get(client, 0) + 1
        # the time limit settles the future itself, so a place handed over and the limit reached
        # in the same turn of the loop cannot both happen (wait_for, on Python 3.12 and later,
        # raised TimeoutError there with the place handed over and never given back)
        timer = loop.call_later(wait, lambda: future.done() or future.set_exception(TooBusy(self.is_slow(client))))
        try:
            return await future
        except BaseException:
            # cancelled (the client went away) just as a place was handed over: give it back
            if _granted(future):
                self._release(future.result())
            raise
        finally:
            timer.cancel()
            if not _granted(future):
                with contextlib.suppress(ValueError):
                    self._waiting.remove(entry)
                self._unqueue(client)

    def _unqueue(self, client: str) -> None:
        left = self._queued.get(client, 0) - 1
        if left > 0:
            self._queued[client] = left
        else:
            self._queued.pop(client, None)

    def started(self, ticket: dict) -> None:
        """The ticket's query was taken by a worker: from now on its time counts."""
        ticket["start"] = time.monotonic()

    def turned_slow(self, ticket: dict) -> None:
        """The ticket's query has used ``slow_after`` seconds of CPU and is still running."""
        if ticket["slow"]:
            return
        self.slow_until[ticket["client"]] = max(self.slow_until.get(ticket["client"], 0.0),
                                                time.monotonic() + 5 * self.settings.slow_after)
        ticket["slow"] = True
        self.slow_running += 1

    async def leave(self, ticket: dict, *, failed: bool = False) -> None:
        """The ticket's query ended. Its cost is the CPU time it used (``ticket["usage"]``, filled by
        the worker pool; the time since it started where that is unknown), so that queries slowed
        down by a busy machine do not make their client a slow one."""
        client = ticket["client"]
        now = time.monotonic()
        cpu = ticket["usage"].get("cpu")
        cost = cpu if cpu is not None else (now - ticket["start"] if ticket["start"] is not None else 0.0)
        if ticket.get("crashed") or (failed and ticket["start"] is not None
                                     and (cost >= self.settings.slow_after or ticket["slow"])):
            self.slow_until[client] = now + self.SLOW_FOR  # crashed its worker, or killed by its own doing
        elif cost > self.settings.slow_after:
            self.slow_until[client] = max(self.slow_until.get(client, 0.0), now + min(self.SLOW_FOR, 5 * cost))
        if len(self.slow_until) > 10000:  # forget old entries
            self.slow_until = {c: t for c, t in self.slow_until.items() if t > now}
        self._release(ticket)

    def _release(self, ticket: dict) -> None:
        """Give the ticket's place back and hand free places to waiting requests, first come first."""
        client = ticket["client"]
        self.running[client] -= 1
        if not self.running[client]:
            del self.running[client]
        if ticket["slow"]:
            self.slow_running -= 1
        if not self._waiting:
            return
        still: deque[tuple[str, asyncio.Future]] = deque()
        passed: set[str] = set()  # a client's later requests never overtake its earlier ones
        for entry in self._waiting:
            waiter, future = entry
            if future.done():
                continue
            granted = self._grant(waiter) if waiter not in passed else None
            if granted is None:
                passed.add(waiter)
                still.append(entry)
                continue
            self._unqueue(waiter)
            future.set_result(granted)
        self._waiting = still


def _granted(future: asyncio.Future) -> bool:
    """A waiting request's future holds a place."""
    return future.done() and not future.cancelled() and future.exception() is None


class TooBusy(Exception):
    """A client has as many queries running as it may."""

    def __init__(self, slow: bool):
        self.slow = slow
        super().__init__()


PROTOCOL_DATASET = ("default-graph-uri", "named-graph-uri")


async def sparql_endpoint(request: Request) -> Response:
    """The SPARQL 1.1 Protocol query operation."""
    site = site_of(request)
    settings = site.settings
    limit = settings.max_query_bytes
    url_params = list(request.query_params.multi_items())
    if request.method in ("GET", "HEAD"):
        if len(request.url.query.encode()) > limit * 3:  # percent-encoding at most triples the size
            return text_error(413, f"the query is too long: at most {limit} bytes (use POST for long queries)")
        params = url_params
    else:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            body = await asyncio.wait_for(read_body(request, limit), settings.header_timeout)
        except TooLarge:
            return text_error(413, f"the request body is too large: at most {limit} bytes")
        except asyncio.TimeoutError:
            return text_error(408, f"the request body did not arrive within {settings.header_timeout:g} s")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return text_error(400, "the request body is not UTF-8")
        if ctype == "application/x-www-form-urlencoded":
            # parameters in the URL of a form POST are not part of the protocol: refused below
            # when they ask for something (update, a dataset), never silently ignored
            params = parse_qsl(text, keep_blank_values=True) + url_params
        elif ctype == "application/sparql-query":
            params = url_params + [("query", text)]
        elif ctype == "application/sparql-update":
            return text_error(403, "SPARQL Update is not allowed: this endpoint is read-only")
        else:
            return text_error(415, "POST the query as application/x-www-form-urlencoded (query=...) or "
                                   f"as application/sparql-query; got Content-Type {ctype or '(none)'!r}")
    names = [k for k, _ in params]
    if "update" in names or "using-graph-uri" in names or "using-named-graph-uri" in names:
        return text_error(403, "SPARQL Update is not allowed: this endpoint is read-only")
    if any(n in names for n in PROTOCOL_DATASET):
        return text_error(403, "default-graph-uri and named-graph-uri are not supported: queries run on the "
                               "union of the graphs of this dataset; use GRAPH <...> { } in the query")
    queries = [v for k, v in params if k == "query"]
    if not queries:
        if request.method in ("GET", "HEAD"):
            return service_description(request)
        return text_error(400, "no query: send query=... (form) or the query itself as application/sparql-query")
    if len(queries) > 1:
        return text_error(400, "more than one query parameter")
    query = queries[0]
    if not query.strip():
        return text_error(400, "the query is empty: send a SPARQL query (SELECT, ASK, CONSTRUCT or DESCRIBE)")
    if len(query.encode("utf-8")) > limit:
        return text_error(413, f"the query is too long: at most {limit} bytes")
    fmt = next((v for k, v in params if k in ("format", "output")), None)
    try:
        admitted = sp.check_query(query, allow_service=settings.allow_federation)
        media_type = choose_media_type(admitted.form, request.headers.get("accept"), fmt)
    except sp.Refused as exc:
        return text_error(exc.status, str(exc))
    except conneg.NotAcceptable as exc:
        return text_error(406, str(exc))
    key = (query, media_type, settings.max_rows)
    cached = site.answers.get(key)
    if cached is not None:
        status, media_type, body, headers = cached
        return Response(body, status_code=status, headers={**headers, "X-KG-Cache": "hit"},
                        media_type=_media_type_header(media_type))
    client = request.client.host if request.client else "unknown"
    try:
        ticket = await site.clients.enter(client, settings.timeout)
    except TooBusy as exc:
        why = ("your recent queries ran slow, and slow queries may only use part of the server"
               if exc.slow else "you have as many queries running as one client may")
        return text_error(429, f"too many queries at once: {why}; wait for them to end and try again",
                          **{"Retry-After": "5"})
    job = {"text": query, "admitted": admitted, "media_type": media_type, "max_rows": settings.max_rows,
           "timeout": settings.timeout}
    failed = True
    try:
        status, media_type, body, headers = await site.queries.run(
            job, settings.timeout + 0.5, on_start=lambda: site.clients.started(ticket),
            on_slow=lambda: site.clients.turned_slow(ticket), nice=ticket["slow"], usage=ticket["usage"])
        failed = False
    except (runner.WorkerTimeout, sp.QueryTimeout):
        return text_error(504, f"the query ran past the time limit of {settings.timeout:g} s and was stopped; "
                               "add LIMIT, narrow the patterns, or ask for fewer results")
    except runner.WorkerCrashed as exc:
        ticket["crashed"] = True
        return text_error(500, f"the query could not be answered: {exc}. The server itself is fine; "
                               "simplify the query (for instance drop ORDER BY inside a subquery)")
    except runner.WorkerUnavailable as exc:
        return text_error(503, f"no query worker is available: {exc}", **{"Retry-After": "5"})
    except sp.Refused as exc:
        failed = False
        return text_error(exc.status, str(exc))
    except sp.NotWritable as exc:
        failed = False
        return text_error(406, str(exc))
    finally:
        await site.clients.leave(ticket, failed=failed)
    if status == 200 and not _CHANGING.search(query):
        site.answers.put(key, (status, media_type, body, headers), len(body) + len(query))
    return Response(body, status_code=status, headers=headers, media_type=_media_type_header(media_type))


_CHANGING = re.compile(r"\b(?:RAND|NOW|UUID|STRUUID)\s*\(", re.IGNORECASE)
"""Calls of the functions whose value changes from one run of a query to the next: such an answer
is not kept (a text that merely mentions one, in a string or a comment, is not kept either)."""


def choose_media_type(form: str, accept: str | None, fmt: str | None) -> str:
    """The media type to answer a query of this form in (``format=`` first, then Accept).

    Raises:
        Refused: an unknown ``format=``. NotAcceptable: nothing in Accept fits.
    """
    is_graph = form in ("CONSTRUCT", "DESCRIBE")
    offers = sp.GRAPH_TYPES if is_graph else sp.RESULT_TYPES
    if fmt:
        media_type = sp.format_override(fmt, is_graph)
        if media_type is None:
            raise sp.Refused(400, f"unknown format {fmt!r} for a {form} query; use one of: " + ", ".join(offers))
        return media_type
    return conneg.negotiate(accept, offers)


def service_description(request: Request) -> Response:
    """The SPARQL 1.1 Service Description (Turtle, or another RDF format by Accept); browsers that
    prefer HTML are sent to the query page."""
    site = site_of(request)
    try:
        media_type = conneg.negotiate(request.headers.get("accept"), ["text/turtle", HTML] + LD_TYPES[2:])
    except conneg.NotAcceptable as exc:
        return text_error(406, str(exc))
    if media_type == HTML:
        return RedirectResponse("/query", status_code=303)
    endpoint = site.settings.public_base + "/sparql"
    formats = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
               "Turtle", "N-Triples", "JSON-LD", "RDF_XML"]
    named = "".join(
        f"""    sd:namedGraph [ a sd:NamedGraph ; sd:name <{g}> ;
        sd:graph [ a sd:Graph ; void:triples {n} ] ] ;\n""" for g, n in site.graph_counts)
    total = site.union_triples
    features = "sd:UnionDefaultGraph" + (", sd:BasicFederatedQuery" if site.settings.allow_federation else "")
    ttl = f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .

[] a sd:Service ;
  rdfs:label "鱼峰区知识图谱 SPARQL 端点"@zh, "Yufeng KG SPARQL endpoint"@en ;
  sd:endpoint <{endpoint}> ;
  sd:supportedLanguage sd:SPARQL11Query ;
  sd:feature {features} ;
{"".join(f"  sd:resultFormat <http://www.w3.org/ns/formats/{f}> ;{chr(10)}" for f in formats)}  sd:defaultDataset [ a sd:Dataset ; dcterms:identifier {json.dumps(site.build_id)} ;
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
    site = site_of(request)
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
    site = site_of(request)
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
    site = site_of(request)
    if site.void is None:
        return text_error(404, "no VoID description in this build (void.ttl is missing); "
                               "the SPARQL service description is at /sparql")
    return Response(site.void, media_type="text/turtle; charset=utf-8")


def dump_file(request: Request) -> Response:
    """/dumps/{name}: the published build's files that the VoID description lists."""
    from starlette.responses import FileResponse

    from kg.pipeline.void import DUMPS

    site = site_of(request)
    name = request.path_params["name"]
    path = site.release.path / name
    if name not in DUMPS or not path.is_file():
        return text_error(404, f"no dump {name!r}; there are: " + ", ".join(f"/dumps/{n}" for n in DUMPS))
    media = DUMPS[name][0]
    return FileResponse(path, media_type=_media_type_header(media) if media.startswith("text/") else media,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ----- pages ----------------------------------------------------------------------------------

def query_page(request: Request) -> Response:
    """/query: YASGUI with the named queries as tabs."""
    site = site_of(request)
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
    site = site_of(request)
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
            return JSONResponse(fn(site_of(request).explorer, request))
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
        BuildUnreadable: build_dir holds no usable build (run `kg build`).
        WorkerUnavailable: the query workers could not start.
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
        Route("/dumps/{name}", dump_file, methods=["GET", "HEAD"]),
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

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        watcher = asyncio.create_task(watch_builds(app)) if settings.reload else None
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            app.state.site.close()
            for old in app.state.retired:
                old.close()

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found}, lifespan=lifespan)
    app.state.site = site
    app.state.retired = []
    app.state.settings = settings
    app.add_middleware(HeadersMiddleware, current_site=lambda: app.state.site)
    return app


async def watch_builds(app: Starlette) -> None:
    """Serve each build ``kg build`` publishes: every ``reload_interval`` seconds, look at the
    published release; when it changed, open it beside the one being served (store, workers), then
    switch to it in one assignment. Requests that arrived before keep their build to the end; the
    old one is closed once they are done. A new build that cannot be opened is reported once and
    the old one stays served."""
    loop = asyncio.get_running_loop()
    refused: Path | None = None
    while True:
        current: Site = app.state.site
        await asyncio.sleep(current.settings.reload_interval)
        try:
            release = published(current.build_dir)
        except BuildUnreadable:
            continue  # mid-switch, or broken: what is served stays
        if release.path == current.release.path or release.path == refused:
            continue
        try:
            new = await loop.run_in_executor(None, Site, current.build_dir, current.settings, current.clients)
        except (BuildUnreadable, runner.WorkerUnavailable, OSError, ValueError) as exc:
            refused = release.path
            print(f"kg: the new build {release.id} cannot be served ({exc}); still serving {current.build_id}",
                  file=sys.stderr)
            continue
        refused = None
        app.state.site = new
        print(f"kg: now serving build {new.build_id} ({len(new.store)} quads)", file=sys.stderr)
        app.state.retired.append(current)
        loop.call_later(current.settings.timeout + 5.0, _retire, app, current)


def _retire(app: Starlette, site: Site) -> None:
    """Close a site no request can still be using (they run at most the query time limit)."""
    site.close()
    if site in app.state.retired:
        app.state.retired.remove(site)


# ----- the CLI --------------------------------------------------------------------------------

MAX_HEAD_BYTES = 64 * 1024  # a request line and headers larger than this get 431
MAX_PIPELINED = 100  # requests a connection may have waiting behind the one being answered (and
# their heads 4 * MAX_HEAD_BYTES together)


class GuardedProtocol:
    """Made into a subclass of one of uvicorn's HTTP protocols on first use (uvicorn is imported
    lazily): the httptools one (a C parser, several times cheaper per request) when httptools is
    installed, as it is with this package; h11 (pure Python) otherwise.

    Beyond uvicorn's keep-alive timeout (which only starts after a response), a connection must
    deliver a request's headers within ``header_timeout`` seconds of opening or of its last
    response, however slowly it dribbles bytes; a request's head (line and headers) may not
    exceed ``MAX_HEAD_BYTES`` (431; httptools' parser has no limit of its own, h11's is set to the
    same), counted also while an earlier request is answered (pipelined heads, chunked trailers); a
    connection with more than ``MAX_PIPELINED`` requests (or 4 x ``MAX_HEAD_BYTES`` of heads) waiting
    behind the one answered is closed; and connections beyond ``max_connections`` are closed at
    once rather than left to exhaust the file handles.
    """

    @classmethod
    def base(cls):
        """uvicorn's protocol class this server builds on."""
        try:
            import httptools  # noqa: F401
            from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
            return HttpToolsProtocol
        except ImportError:
            from uvicorn.protocols.http.h11_impl import H11Protocol
            return H11Protocol

    @classmethod
    def make(cls, settings: Settings):
        base = cls.base()
        counts_head = base.__name__ == "HttpToolsProtocol"  # h11 has a limit of its own

        class Guarded(base):
            def connection_made(self, transport):
                super().connection_made(transport)
                self._header_timer = None
                self._unparsed = 0  # bytes received since the parser last finished a head or read body
                self._progressed = False
                if len(self.connections) > settings.max_connections:
                    transport.abort()
                    return
                self._arm()

            def data_received(self, data):
                if not counts_head:
                    super().data_received(data)
                    return
                self._progressed = False
                super().data_received(data)
                # bytes that neither completed a head nor were body: a head (or trailer) still
                # incomplete. Counted whether or not a request is being answered meanwhile: a
                # pipelined request's head and a chunked body's trailers arrive while one is, and
                # httptools keeps a header's pieces until it ends (joined each time: the memory
                # grows and the event loop stalls on the copies)
                self._unparsed = 0 if self._progressed else self._unparsed + len(data)
                if self._unparsed > MAX_HEAD_BYTES and not self.transport.is_closing():
                    self._head_too_large = True
                    self.send_400_response("")

            def on_body(self, body):
                self._progressed = True
                super().on_body(body)

            def on_message_complete(self):
                self._progressed = True
                super().on_message_complete()

            # httptools' parser callbacks: a whole head that arrived at once is measured as parsed;
            # an exception here ends the request with uvicorn's 400, made a 431 below
            def on_message_begin(self):
                self._parsed_head = 0
                super().on_message_begin()

            def on_url(self, url):
                self._count_head(len(url))
                super().on_url(url)

            def on_header(self, name, value):
                self._count_head(len(name) + len(value) + 4)
                super().on_header(name, value)

            def _count_head(self, n):
                self._parsed_head = getattr(self, "_parsed_head", 0) + n
                if self._parsed_head > MAX_HEAD_BYTES:
                    self._head_too_large = True
                    raise ValueError("request head too large")

            def on_headers_complete(self):
                self._progressed = True
                super().on_headers_complete()
                # uvicorn queues pipelined requests (a few KiB each, or a head's size) and reads on
                # after every answer however many wait: one connection sending requests without
                # pause held 500 MB. Bounded in number, and in bytes as a connection's one head is
                pipeline = getattr(self, "pipeline", ())
                if pipeline and (len(pipeline) > MAX_PIPELINED or sum(
                        len(cycle.scope["raw_path"]) + len(cycle.scope["query_string"])
                        + sum(len(n) + len(v) + 4 for n, v in cycle.scope["headers"])
                        for cycle, _ in pipeline) > 4 * MAX_HEAD_BYTES):
                    self._too_many = True
                    raise ValueError("too many pipelined requests")

            def send_400_response(self, msg):
                if getattr(self, "_too_many", False):
                    # an answer now would be taken for the first waiting request's: none is sent
                    self.transport.close()
                    return
                if not getattr(self, "_head_too_large", False):
                    super().send_400_response(msg)
                    return
                msg = f"the request line and headers are too large: at most {MAX_HEAD_BYTES} bytes"
                self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                     b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
                                     b"content-length: " + str(len(msg)).encode() + b"\r\n\r\n" + msg.encode())
                self.transport.close()

            def _arm(self):
                if self._header_timer is not None:
                    self._header_timer.cancel()
                self._header_timer = self.loop.call_later(settings.header_timeout, self._expire)

            def _expire(self):
                self._header_timer = None
                if self.cycle is not None and not self.cycle.response_complete:
                    return  # a request is being answered: its own limits apply
                if not self.transport.is_closing():
                    self.transport.close()

            def on_response_complete(self):
                super().on_response_complete()
                if not self.transport.is_closing():
                    self._arm()

            def connection_lost(self, exc):
                if getattr(self, "_header_timer", None) is not None:
                    self._header_timer.cancel()
                    self._header_timer = None
                super().connection_lost(exc)

        return Guarded


def uvicorn_options(settings: Settings) -> dict:
    """uvicorn's limits for this server (connections, keep-alive, header sizes)."""
    return {"http": GuardedProtocol.make(settings), "timeout_keep_alive": settings.keep_alive,
            # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise
            "proxy_headers": bool(settings.trusted_proxies),
            "forwarded_allow_ips": settings.trusted_proxies or None,
            "limit_concurrency": settings.max_connections, "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
            "backlog": 512, "timeout_graceful_shutdown": 5, "log_level": "warning", "access_log": False}


def cmd_serve(args) -> int:
    import resource

    import uvicorn

    from kg import paths
    from kg.pipeline.build import build

    _check_port_free(args.host, args.port)  # before anything is printed or built
    build_dir = Path(args.build or paths.build_dir())
    if not (build_dir / "kg.nq").exists() and not (build_dir / "current").exists():
        print(f"kg: no build in {build_dir}: building it first", file=sys.stderr)
        build(out_dir=build_dir, progress=lambda m: print(f"kg: {m}", file=sys.stderr))
    if args.max_rows < 1 or args.timeout <= 0 or args.workers < 1 or args.threads < 1 or args.slow_threads < 1 \
            or args.query_memory < 64 or args.cache_mb < 0 \
            or args.header_timeout <= 0:
        print("kg: error: --max-rows, --workers, --threads and --slow-threads must be at least 1, --timeout and "
              "--header-timeout above 0, "
              "--query-memory at least 64 (MiB) and --cache-mb not negative", file=sys.stderr)
        return 2
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    max_connections = max(16, min(args.max_connections, soft - 64 - 8 * args.threads))
    settings = Settings(host=args.host, port=args.port, timeout=args.timeout, max_rows=args.max_rows,
                        allow_federation=args.allow_federation, threads=args.threads,
                        slow_threads=args.slow_threads,
                        query_memory_mb=args.query_memory, max_connections=max_connections,
                        header_timeout=args.header_timeout, keep_alive=min(5.0, args.header_timeout),
                        cache_mb=args.cache_mb, reload=not args.no_reload,
                        trusted_proxies=",".join(args.trusted_proxy or []))
    t0 = time.perf_counter()
    app = create_app(build_dir, settings)
    site = app.state.site
    url = settings.public_base
    print(f"kg: serving {site.release.path} (build {site.build_id}, {len(site.store)} quads, "
          f"{settings.threads} + {settings.slow_threads} query workers, ready in {time.perf_counter() - t0:.1f} s)\n"
          f"  explorer  {url}/\n  query     {url}/query\n  SPARQL    {url}/sparql\n"
          f"  example   {url}/id/yufeng-qu\n  ontology  {url}/ontology", file=sys.stderr)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"kg: warning: listening on {args.host}: reachable from other machines", file=sys.stderr)
    options = uvicorn_options(settings)
    if args.workers > 1:
        # Each worker process loads its own copy of the store (the graph is small and read-only),
        # so Python's per-request work runs on several cores. uvicorn starts them by spawning, so
        # the app and the guarded protocol are named by import path and read the settings from
        # the environment (kg.server.protocol). Per-client limits hold per process.
        os.environ[CONFIG_ENV] = json.dumps({"build_dir": str(build_dir), **asdict(settings)})
        site.close()
        del app
        options["http"] = "kg.server.protocol:Guarded"
        uvicorn.run("kg.server.serve:app_from_env", factory=True, workers=args.workers, host=args.host,
                    port=args.port, **options)
    else:
        try:
            uvicorn.run(app, host=args.host, port=args.port, **options)
        finally:
            site.close()
    return 0


def _check_port_free(host: str, port: int) -> None:
    """Raise InputError (exit 2) when host:port cannot be bound (in use, or not an address here)."""
    import socket

    from kg.errors import InputError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"--host {host}: not an address of this machine ({exc.strerror})") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}; "
                             f"is another server running? choose another with --port") from None


CONFIG_ENV = "KG_SERVE_CONFIG"


def config_from_env() -> tuple[Path, Settings]:
    """The build folder and settings ``kg serve --workers N`` passes to its processes."""
    config = json.loads(os.environ[CONFIG_ENV])
    build_dir = Path(config.pop("build_dir"))
    return build_dir, Settings(**config)


def app_from_env() -> Starlette:
    """The app for a worker process started by ``kg serve --workers N`` (settings from the environment)."""
    return create_app(*config_from_env())


def register(subparsers) -> None:
    """Add the ``serve`` verb."""
    p = subparsers.add_parser("serve", help="serve SPARQL, Linked Data pages and the explorer over HTTP")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--build", type=Path, help="build folder (default: build/ or $KG_BUILD; built if missing)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds a query may run (default 10)")
    p.add_argument("--max-rows", type=int, default=10000, help="rows or triples returned at most (default 10000)")
    p.add_argument("--allow-federation", action="store_true", help="allow SERVICE in queries (off by default)")
    p.add_argument("--threads", type=int, default=4,
                   help="queries run at once, each in its own worker process (default 4)")
    p.add_argument("--slow-threads", type=int, default=2,
                   help="further query workers kept for clients whose queries run slow (default 2)")
    p.add_argument("--query-memory", type=int, default=runner.DEFAULT_MEMORY_MB, metavar="MIB",
                   help=f"memory a query worker may use, in MiB (default {runner.DEFAULT_MEMORY_MB})")
    p.add_argument("--header-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="seconds a connection may take to send a request (idle and slow clients are closed; default 10)")
    p.add_argument("--max-connections", type=int, default=1000,
                   help="open connections at most (default 1000, or fewer if the file limit is lower)")
    p.add_argument("--trusted-proxy", action="append", metavar="ADDR",
                   help="a reverse proxy whose X-Forwarded-For header names the client (repeatable; "
                        "none by default, so clients are told apart by their own address)")
    p.add_argument("--no-reload", action="store_true",
                   help="keep serving the build found at start, even when `kg build` publishes a new one")
    p.add_argument("--cache-mb", type=int, default=64, metavar="MIB",
                   help="memory for the answers of recent queries, answered again from memory (default 64; 0: none)")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes, each with its own copy of the store (default 1)")
    p.set_defaults(func=cmd_serve)

