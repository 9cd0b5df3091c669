"""Load benchmark: `kg serve` against `oxigraph serve` on the same data and the same queries.

32 concurrent clients (asyncio + httpx, one connection each, loopback only) send requests for a
fixed time and record latency and status. Runs:

1. SPARQL mix against `kg serve`;
2. the same SPARQL mix against `oxigraph serve --location DIR --union-default-graph` (on-disk
   store loaded offline from the same build/kg.nq with `oxigraph load`);
3. the same against `oxigraph serve` in memory (loaded over HTTP), the store `kg serve` uses;
4. SPARQL and page views mixed (entity pages, ontology, explorer API) against `kg serve`.

The SPARQL mix is queries/cq/*.rq when present, else the query page's built-in examples
(kg/web/examples/*.rq); queries using SERVICE are left out. Before timing, every query is sent
once to each server and the answers are compared (same row or triple counts), so both serve
the same data with the same default graph.

Because the machine may be shared, each run's time is taken in slices, the servers in turn.

Usage: python -m bench.serve_bench [--duration 60] [--clients 32] [--slices 6] [--workers 1]
                                   [--build build] [--json FILE]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.server.sparql import check_query

ACCEPT_RESULTS = "application/sparql-results+json"
ACCEPT_GRAPH = "application/n-triples"


@dataclass
class Request:
    """One request of a mix: a SPARQL query (POSTed as a form) or a GET of a path."""

    kind: str  # "sparql" or "page"
    name: str
    query: str = ""
    accept: str = ""
    path: str = ""


@dataclass
class RunResult:
    target: str
    mix: str
    duration_s: float
    requests: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    status: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    samples: dict[int, str] = field(default_factory=dict)

    def summary(self) -> dict:
        lat = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else float("nan")

        return {
            "target": self.target, "mix": self.mix, "duration_s": round(self.duration_s, 1),
            "requests": self.requests, "throughput_rps": round(self.requests / self.duration_s, 1),
            "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(lat), 1) if lat else float("nan"),
            "status": {str(k): v for k, v in sorted(self.status.items())},
            "5xx": sum(v for k, v in self.status.items() if k >= 500),
            "other_errors": dict(self.errors),
            "error_samples": {str(k): v for k, v in self.samples.items()},
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {url}")
            time.sleep(0.1)


def oxigraph_binary() -> str:
    exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(exe).exists():
        raise SystemExit("the oxigraph server is not installed: pip install 'oxigraph==0.5.13' (same as pyoxigraph)")
    return exe


def sparql_mix() -> list[Request]:
    from kg.read.query import named_queries
    from kg.server.serve import EXAMPLES, query_bindings, with_bindings

    found = [q for q in named_queries(ROOT / "queries") if q.group == "cq"] or named_queries(EXAMPLES)
    mix = []
    for nq in found:
        # the question as `kg query` asks it: with its default bindings
        text = with_bindings(nq.text, query_bindings(nq))
        checked = check_query(text, allow_service=True)
        if checked.uses_service:
            continue
        graph = checked.form in ("CONSTRUCT", "DESCRIBE")
        mix.append(Request("sparql", nq.name, query=text, accept=ACCEPT_GRAPH if graph else ACCEPT_RESULTS))
    return mix


def page_mix(base: str, seed: int = 1) -> list[Request]:
    """Entity pages, the ontology page and explorer API calls for a sample of entities."""
    q = """SELECT DISTINCT ?s WHERE { ?s a ?t FILTER(STRSTARTS(STR(?s), "https://w3id.org/yufeng-kg/id/")
           && !CONTAINS(STR(?s), "/statement/")) } ORDER BY ?s"""
    r = httpx.post(base + "/sparql", data={"query": q}, headers={"Accept": ACCEPT_RESULTS}, timeout=30)
    iris = [b["s"]["value"] for b in r.json()["results"]["bindings"]]
    rng = random.Random(seed)
    sample = rng.sample(iris, min(40, len(iris)))
    mix = [Request("page", "ontology", path="/ontology"), Request("page", "search", path="/api/search?q=鱼峰")]
    for iri in sample:
        slug = iri.rsplit("/id/", 1)[1]
        mix.append(Request("page", "entity", path=f"/id/{slug}"))
        mix.append(Request("page", "api-node", path="/api/node?iri=" + httpx.QueryParams({"x": iri})["x"]))
        mix.append(Request("page", "api-expand", path=f"/api/expand?iri={iri}"))
    return mix


async def send(client: httpx.AsyncClient, endpoint: str, req: Request) -> httpx.Response:
    if req.kind == "sparql":
        return await client.post(endpoint, data={"query": req.query}, headers={"Accept": req.accept})
    return await client.get(req.path)


def counts(response: httpx.Response, req: Request) -> int:
    if req.accept == ACCEPT_RESULTS:
        data = response.json()
        return len(data["results"]["bindings"]) if "results" in data else int(bool(data.get("boolean")))
    return len([line for line in response.text.splitlines() if line.strip()])


async def verify(targets: dict[str, tuple[str, str]], mix: list[Request]) -> dict[str, dict[str, int]]:
    """Each query once on each server: the answers must have the same size."""
    sizes: dict[str, dict[str, int]] = {}
    for name, (base, endpoint) in targets.items():
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for req in mix:
                r = await send(client, endpoint, req)
                if r.status_code != 200:
                    raise SystemExit(f"{name}: {req.name} answered {r.status_code}: {r.text[:300]}")
                sizes.setdefault(req.name, {})[name] = counts(r, req)
    for query, by_target in sizes.items():
        if len(set(by_target.values())) != 1:
            raise SystemExit(f"servers disagree on {query}: {by_target}")
    return sizes


async def load(target: str, base: str, endpoint: str, mix: list[Request], mix_name: str, *, clients: int,
               duration: float, seed: int = 7) -> RunResult:
    """clients coroutines, each sending requests from the mix back to back for duration seconds."""
    result = RunResult(target, mix_name, duration)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    stop = time.monotonic() + duration

    async def worker(i: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(seed * 1000 + i)
        while time.monotonic() < stop:
            req = mix[rng.randrange(len(mix))]
            t0 = time.perf_counter()
            try:
                r = await send(client, endpoint, req)
                await r.aread()
                status = r.status_code
                if status >= 400 and status not in result.samples:
                    result.samples[status] = f"{req.name}: {r.text[:200]}"
            except httpx.HTTPError as exc:
                result.errors[type(exc).__name__] = result.errors.get(type(exc).__name__, 0) + 1
                continue
            result.latencies_ms.append((time.perf_counter() - t0) * 1000)
            result.status[status] = result.status.get(status, 0) + 1
            result.requests += 1

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30, trust_env=False) as client:
        t0 = time.monotonic()
        await asyncio.gather(*(worker(i, client) for i in range(clients)))
        result.duration_s = time.monotonic() - t0
    return result


def start_kg(build: Path, port: int, workers: int = 1, *options: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "kg", "serve", "--build", str(build), "--port", str(port),
                             "--workers", str(workers), *options],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_up(f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", proc)
    return proc


def start_oxigraph(build: Path, port: int, location: Path | None) -> subprocess.Popen:
    exe = oxigraph_binary()
    cmd = [exe, "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    if location is not None:
        subprocess.run([exe, "load", "--location", str(location), "--file", str(build / "kg.nq")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cmd += ["--location", str(location)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_up(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", proc)
    if location is None:
        data = (build / "kg.nq").read_bytes()
        r = httpx.post(f"http://127.0.0.1:{port}/store", content=data, headers={"Content-Type": "application/n-quads"},
                       timeout=120)
        r.raise_for_status()
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def merge(parts: list[RunResult]) -> RunResult:
    """One result from the slices of a run."""
    out = RunResult(parts[0].target, parts[0].mix, sum(p.duration_s for p in parts))
    for p in parts:
        out.requests += p.requests
        out.latencies_ms.extend(p.latencies_ms)
        for k, v in p.status.items():
            out.status[k] = out.status.get(k, 0) + v
        for k, v in p.errors.items():
            out.errors[k] = out.errors.get(k, 0) + v
        for k, v in p.samples.items():
            out.samples.setdefault(k, v)
    return out


async def main_async(args) -> list[dict]:
    build = Path(args.build).resolve()
    if not (build / "kg.nq").is_file():
        raise SystemExit(f"no build in {build}: run `kg build` first")
    mix = sparql_mix()
    print(f"SPARQL mix: {len(mix)} queries ({', '.join(r.name for r in mix)})", file=sys.stderr)
    procs = []
    tmp = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    try:
        kg_port, ox_port, oxm_port = free_port(), free_port(), free_port()
        procs.append(start_kg(build, kg_port, args.workers))
        procs.append(start_oxigraph(build, ox_port, tmp / "oxigraph"))
        procs.append(start_oxigraph(build, oxm_port, None))
        kg_name = "kg serve" + (f" (--workers {args.workers})" if args.workers > 1 else "")
        servers = {
            kg_name: (f"http://127.0.0.1:{kg_port}", "/sparql"),
            "oxigraph serve (on disk)": (f"http://127.0.0.1:{ox_port}", "/query"),
            "oxigraph serve (in memory)": (f"http://127.0.0.1:{oxm_port}", "/query"),
        }
        sizes = await verify(servers, mix)
        print("answers agree: " + ", ".join(f"{q}={next(iter(v.values()))}" for q, v in sizes.items()), file=sys.stderr)
        base = servers[kg_name][0]
        pages = page_mix(base)
        # half SPARQL, half pages: repeat the SPARQL part to balance the page list's length
        balanced = mix * max(1, len(pages) // max(len(mix), 1)) + pages
        runs = [(name, base_, endpoint, mix, "SPARQL") for name, (base_, endpoint) in servers.items()]
        runs.append((kg_name, base, "/sparql", balanced, "SPARQL + pages"))
        for name, base_, endpoint, m, _ in runs:
            await load(name, base_, endpoint, m, "warm-up", clients=args.clients, duration=3)
        # The machine may be shared: each run's time is cut into slices taken in turn, so that
        # every server sees the same background load.
        parts: dict[int, list[RunResult]] = {i: [] for i in range(len(runs))}
        for n in range(args.slices):
            for i, (name, base_, endpoint, m, mix_name) in enumerate(runs):
                parts[i].append(await load(name, base_, endpoint, m, mix_name, clients=args.clients,
                                           duration=args.duration / args.slices, seed=7 + n))
            print(f"slice {n + 1}/{args.slices} done", file=sys.stderr)
        results = [merge(parts[i]).summary() for i in range(len(runs))]
        for r in results:
            print(json.dumps(r, ensure_ascii=False), file=sys.stderr)
    finally:
        for p in procs:
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def table(results: list[dict]) -> str:
    lines = ["| target | mix | requests | throughput (req/s) | p50 (ms) | p99 (ms) | 5xx | other errors |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        lines.append(f"| {r['target']} | {r['mix']} | {r['requests']} | {r['throughput_rps']} | {r['p50_ms']} | "
                     f"{r['p99_ms']} | {r['5xx']} | {r['other_errors'] or 0} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--slices", type=int, default=6, help="take each run's time in this many turns")
    parser.add_argument("--workers", type=int, default=1, help="kg serve --workers")
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args(argv)
    results = asyncio.run(main_async(args))
    print(table(results))
    kg = next(r for r in results if r["target"].startswith("kg serve") and r["mix"] == "SPARQL")
    for r in results:
        if r["target"].startswith("oxigraph"):
            print(f"{kg['target']} / {r['target']} throughput on the SPARQL mix: "
                  f"{kg['throughput_rps'] / r['throughput_rps']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
