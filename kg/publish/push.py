"""Push the built graph into an existing triple store, then count it back.

Standards only, so any store will do: SPARQL 1.1 Graph Store HTTP Protocol
(https://www.w3.org/TR/sparql11-http-rdf-update/): one PUT of Turtle per named graph, which
replaces the graph and so can be repeated; or SPARQL 1.1 Update
(https://www.w3.org/TR/sparql11-update/): DROP SILENT GRAPH, then INSERT DATA in batches. GSP
falls back to INSERT DATA when the store does not offer it (404, 405, 415, 501). Afterwards the
triples of each graph are counted with SPARQL 1.1 Query (GET, JSON results) and compared.

Server quirks this code keeps to (see shared/reference/sparql-servers.md): queries go by GET,
never as a direct POST (Virtuoso hangs); every query names its graph (Virtuoso's default graph is
the union of all graphs); batches stay at 1,000 triples or fewer by default (Virtuoso fails above
about 5,000); blank nodes connected to each other stay in one batch, and a batch holding blank
nodes is sent as INSERT {...} WHERE {} (Virtuoso refuses them in INSERT DATA); every request has
a time-out.
"""
from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox

from kg.read import store as kgstore
from kg.errors import InputError, KGError

FALLBACK_STATUS = {404, 405, 406, 415, 501}
DEFAULT_BATCH = 1000


class PushError(KGError):
    """The store refused or failed a request (the message names the URL and status)."""


@dataclass
class Target:
    """Where and how to push.

    Attributes:
        query_url: SPARQL query endpoint (counts). update_url: SPARQL update endpoint (None: no
            INSERT fallback). store_url: Graph Store Protocol endpoint (None: use INSERT DATA).
        auth: ``none``, ``basic`` or ``digest``. user, password: credentials for auth.
        timeout: seconds per request. batch_size: triples per INSERT DATA request.
    """

    query_url: str
    update_url: str | None = None
    store_url: str | None = None
    auth: str = "none"
    user: str | None = None
    password: str | None = None
    timeout: float = 60.0
    batch_size: int = DEFAULT_BATCH

    def client(self) -> httpx.Client:
        """An HTTP client with this target's auth and time-out."""
        auth = None
        if self.auth == "basic":
            auth = httpx.BasicAuth(self.user or "", self.password or "")
        elif self.auth == "digest":
            auth = httpx.DigestAuth(self.user or "", self.password or "")
        return httpx.Client(auth=auth, timeout=httpx.Timeout(self.timeout), follow_redirects=False)


@dataclass
class GraphResult:
    """What happened to one named graph."""

    graph: str
    local: int
    remote: int | None
    method: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.remote == self.local


def graphs_of(quads: list[ox.Quad]) -> dict[str, list[ox.Quad]]:
    """The quads grouped by named graph (default-graph quads are not pushed: a build has none)."""
    out: dict[str, list[ox.Quad]] = defaultdict(list)
    for q in quads:
        if isinstance(q.graph_name, ox.NamedNode):
            out[q.graph_name.value].append(q)
    return dict(sorted(out.items()))


def batches(quads: list[ox.Quad], size: int) -> list[list[ox.Quad]]:
    """Split quads into batches of at most ``size``, never splitting blank nodes that are linked.

    INSERT DATA scopes blank-node labels to one request, so an OWL restriction split across two
    requests would become two unrelated nodes. Triples sharing a blank node form one unit; a unit
    larger than ``size`` gets a batch of its own.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for q in quads:
        nodes = [str(t) for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)]
        for a in nodes[1:]:
            parent[find(a)] = find(nodes[0])
    units: dict[str, list[ox.Quad]] = defaultdict(list)
    singles: list[list[ox.Quad]] = []
    for q in quads:
        bn = next((str(t) for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)), None)
        if bn is None:
            singles.append([q])
        else:
            units[find(bn)].append(q)
    out: list[list[ox.Quad]] = []
    current: list[ox.Quad] = []
    for unit in singles + list(units.values()):
        if current and len(current) + len(unit) > size:
            out.append(current)
            current = []
        current.extend(unit)
    if current:
        out.append(current)
    return out


def _check(resp: httpx.Response, what: str) -> None:
    if resp.status_code >= 400:
        body = resp.text[:300].replace("\n", " ")
        hint = " (check --user/--password/--auth)" if resp.status_code in (401, 403) else ""
        raise PushError(f"{what}: {resp.request.method} {resp.request.url} -> HTTP {resp.status_code}{hint}: {body}")


def put_graph(client: httpx.Client, target: Target, graph: str, quads: list[ox.Quad]) -> bool:
    """Replace one graph with Graph Store Protocol PUT. Returns False when the store lacks GSP."""
    body = kgstore.serialize(quads, "ttl")
    resp = client.put(target.store_url, params={"graph": graph}, content=body,
                      headers={"Content-Type": "text/turtle; charset=utf-8"})
    if resp.status_code in FALLBACK_STATUS:
        return False
    _check(resp, f"PUT graph <{graph}>")
    return True


def update(client: httpx.Client, target: Target, text: str, what: str) -> None:
    """Send one SPARQL update (POST, application/sparql-update)."""
    if not target.update_url:
        raise PushError(f"{what}: no update endpoint (give --update-url or --endpoint)")
    resp = client.post(target.update_url, content=text.encode("utf-8"),
                       headers={"Content-Type": "application/sparql-update; charset=utf-8"})
    _check(resp, what)


def insert_graph(client: httpx.Client, target: Target, graph: str, quads: list[ox.Quad]) -> None:
    """Replace one graph with DROP SILENT GRAPH and batched INSERT DATA."""
    update(client, target, f"DROP SILENT GRAPH <{graph}>", f"DROP graph <{graph}>")
    for i, batch in enumerate(batches(quads, target.batch_size)):
        nt = kgstore.serialize(batch, "nt").decode("utf-8")
        if any(isinstance(t, ox.BlankNode) for q in batch for t in (q.subject, q.object)):
            # Virtuoso refuses blank nodes in INSERT DATA (SP031); a template with an empty
            # WHERE makes one fresh node per label, which is what INSERT DATA means.
            text = f"INSERT {{ GRAPH <{graph}> {{\n{nt}}} }} WHERE {{}}"
        else:
            text = f"INSERT DATA {{ GRAPH <{graph}> {{\n{nt}}} }}"
        update(client, target, text, f"INSERT batch {i + 1} into <{graph}>")


def count_graph(client: httpx.Client, target: Target, graph: str) -> int:
    """Count a graph's triples on the store (GET; JSON results)."""
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    resp = client.get(target.query_url, params={"query": query},
                      headers={"Accept": "application/sparql-results+json"})
    _check(resp, f"count <{graph}>")
    try:
        bindings = resp.json()["results"]["bindings"]
        return int(bindings[0]["n"]["value"]) if bindings else 0
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise PushError(f"count <{graph}>: not a SPARQL JSON result from {target.query_url}: {resp.text[:200]}") from exc


def push(quads: list[ox.Quad], target: Target, *, method: str = "gsp", graphs: list[str] | None = None,
         progress=None) -> list[GraphResult]:
    """Push every named graph (or those listed) and count each back.

    Args:
        quads: the build's quads. target: the store. method: ``gsp`` (fall back to INSERT DATA
            when the store has no GSP) or ``insert``. graphs: only these graph IRIs.
        progress: optional callable(str).
    Returns:
        one GraphResult per graph, in graph order.
    Raises:
        PushError: a request failed (HTTP error, refused credentials, time-out).
        InputError: a graph asked for is not in the build.
    """
    say = progress or (lambda _m: None)
    by_graph = graphs_of(quads)
    if graphs:
        unknown = [g for g in graphs if g not in by_graph]
        if unknown:
            raise InputError(f"graph(s) not in the build: {', '.join(unknown)}; known: {', '.join(by_graph)}")
        by_graph = {g: by_graph[g] for g in graphs}
    use_gsp = method == "gsp" and bool(target.store_url)
    if method == "gsp" and not target.store_url:
        say("no --store-url: using SPARQL Update (INSERT DATA)")
    results = []
    with target.client() as client:
        for graph, gq in by_graph.items():
            t0 = time.perf_counter()
            how = "gsp"
            try:
                if not (use_gsp and put_graph(client, target, graph, gq)):
                    if use_gsp:
                        say(f"{target.store_url} does not offer the Graph Store Protocol: using INSERT DATA")
                        use_gsp = False
                    how = "insert"
                    insert_graph(client, target, graph, gq)
                remote = count_graph(client, target, graph)
            except httpx.TimeoutException as exc:
                raise PushError(f"<{graph}>: no answer within {target.timeout} s ({exc.__class__.__name__})") from exc
            except httpx.TransportError as exc:
                raise PushError(f"<{graph}>: cannot reach the store: {exc}") from exc
            r = GraphResult(graph, len(gq), remote, how, round(time.perf_counter() - t0, 3))
            say(f"{graph}: {r.local} local, {r.remote} remote ({how}, {r.seconds} s)")
            results.append(r)
    return results


def results_text(results: list[GraphResult]) -> str:
    """A table of graphs, counts and differences."""
    lines = [f"{'graph':<60} {'local':>7} {'remote':>7}  method  status"]
    for r in results:
        status = "ok" if r.ok else f"DIFFERS by {(r.remote or 0) - r.local:+d}"
        lines.append(f"{r.graph:<60} {r.local:>7} {r.remote if r.remote is not None else '-':>7}  {r.method:<6}  {status}")
    bad = sum(1 for r in results if not r.ok)
    lines.append(f"{len(results)} graph(s), {sum(r.local for r in results)} triples; "
                 + ("all counts match" if not bad else f"{bad} graph(s) differ"))
    return "\n".join(lines)


# -- CLI -------------------------------------------------------------------------------------

def cmd_push(args) -> int:
    import sys

    from kg import paths

    if args.batch_size < 1:
        raise InputError("--batch-size must be at least 1")
    password = args.password if args.password is not None else os.environ.get("KG_PUSH_PASSWORD")
    auth = args.auth or ("basic" if args.user else "none")
    if auth != "none" and not args.user:
        raise InputError(f"--auth {auth} needs --user (and --password or KG_PUSH_PASSWORD)")
    target = Target(
        query_url=args.query_url or args.endpoint,
        update_url=args.update_url or args.endpoint,
        store_url=args.store_url,
        auth=auth, user=args.user, password=password,
        timeout=args.timeout, batch_size=args.batch_size,
    )
    quads = kgstore.read_quads(Path(args.build or paths.build_dir()))
    say = None if args.quiet else (lambda m: print(f"kg: {m}", file=sys.stderr))
    results = push(quads, target, method=args.method, graphs=args.graph, progress=say)
    if args.format == "json":
        print(json.dumps([{**asdict(r), "ok": r.ok} for r in results], ensure_ascii=False, indent=2))
    else:
        print(results_text(results))
    return 0 if all(r.ok for r in results) else 1


def register(sub) -> None:
    """Add ``kg push`` to the CLI."""
    p = sub.add_parser("push", help="put every named graph into a SPARQL store and count it back")
    p.add_argument("--endpoint", required=True,
                   help="the store's SPARQL endpoint (default for --query-url and --update-url)")
    p.add_argument("--query-url", help="SPARQL query endpoint (counts)")
    p.add_argument("--update-url", help="SPARQL update endpoint (INSERT DATA)")
    p.add_argument("--store-url", help="Graph Store Protocol endpoint (PUT ?graph=); without it: INSERT DATA")
    p.add_argument("--user")
    p.add_argument("--password", help="or set KG_PUSH_PASSWORD (keeps it out of the process list)")
    p.add_argument("--auth", choices=["none", "basic", "digest"], help="default: basic when --user is given")
    p.add_argument("--method", choices=["gsp", "insert"], default="gsp")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help="triples per INSERT DATA (default 1000)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per request (default 60)")
    p.add_argument("--graph", action="append", help="push only this graph IRI (repeatable)")
    p.add_argument("--build", type=Path, help="build folder (default: build/)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_push)
