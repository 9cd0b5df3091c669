"""Issue 9 benchmark: `kg serve` (queries in worker processes) beside `oxigraph serve`, same data.

Mixes, each sent by 32 concurrent clients (asyncio + httpx, loopback only):

- ``named``: the 15 named queries (queries/cq, with their default bindings), POSTed as forms;
- ``unique``: the same queries, each request with a text never sent before (a numbered comment
  line), so nothing can be cached by text; this is where the old rdflib pre-parse cost 100 ms;
- ``hostile``: the named mix, then the unique mix, from 32 normal clients beside 2 hostile clients
  (from 127.0.0.2 and 127.0.0.3) sending a 4-way cartesian COUNT back to back; normal clients'
  latency and statuses. kg serve keeps the answers of repeated query texts (``--cache-mb``), which
  the named mix repeats and the unique mix never does: the unique mix shows the workers' share.

Before timing, every query is sent once to each server and the answers are compared by value
(SPARQL JSON rows as multisets, or in order when the query has ORDER BY). Servers run in turn in
slices so both see the same background load (the order of the servers rotating from slice to slice);
every response is read in full.

Usage: python -m bench.harden_bench [--duration 20] [--clients 32] [--slices 4] [--build build] [--json F]
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serve_bench import (ACCEPT_RESULTS, RunResult, free_port, merge, sparql_mix,  # noqa: E402
                               start_kg, start_oxigraph, stop)
from kg.read.query import is_ordered  # noqa: E402
from kg.read.store import published  # noqa: E402

CARTESIAN_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
_counter = itertools.count()


def rows_by_value(response: httpx.Response, ordered: bool):
    data = response.json()
    if "boolean" in data:
        return data["boolean"]
    rows = [json.dumps(b, sort_keys=True, ensure_ascii=False) for b in data["results"]["bindings"]]
    return rows if ordered else sorted(rows)


async def verify(servers: dict[str, tuple[str, str]], mix) -> int:
    """Every query once per server; the answers must be equal by value. Returns rows compared."""
    answers: dict[str, dict] = {}
    total = 0
    for name, (base, endpoint) in servers.items():
        async with httpx.AsyncClient(base_url=base, timeout=60, trust_env=False) as client:
            for req in mix:
                r = await client.post(endpoint, data={"query": req.query}, headers={"Accept": ACCEPT_RESULTS})
                if r.status_code != 200:
                    raise SystemExit(f"{name}: {req.name} answered {r.status_code}: {r.text[:300]}")
                answers.setdefault(req.name, {})[name] = rows_by_value(r, is_ordered(req.query))
    for query, by_server in answers.items():
        values = list(by_server.values())
        if any(v != values[0] for v in values[1:]):
            raise SystemExit(f"servers disagree on {query}")
        total += len(values[0]) if isinstance(values[0], list) else 1
    return total


class Connection:
    """One keep-alive HTTP/1.1 connection with the least client-side work (the load generator shares
    the machine's two cores with the servers, and httpx spends about a millisecond of CPU per
    request): a form POST, then the status and the whole body (Content-Length or chunked)."""

    def __init__(self, base: str, local_address: str | None = None):
        host_port = base.split("//", 1)[1]
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)
        self.local = (local_address, 0) if local_address else None
        self.reader = self.writer = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, local_addr=self.local)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def post(self, path: str, query: str, timeout: float = 60) -> tuple[int, bytes]:
        body = urlencode({"query": query}).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept: {ACCEPT_RESULTS}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        for attempt in (1, 2):  # a keep-alive connection the server closed meanwhile: once more, anew
            if self.writer is None:
                await self._open()
            try:
                self.writer.write(head + body)
                return await asyncio.wait_for(self._response(), timeout)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
            except BaseException:
                self.close()
                raise
        raise AssertionError("unreachable")

    async def _response(self) -> tuple[int, bytes]:
        lines = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if b":" in line:
                k, v = line.split(b":", 1)
                headers[k.strip().lower()] = v.strip()
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            data = b"".join(parts)
        else:
            data = await self.reader.readexactly(int(headers.get(b"content-length", b"0")))
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, data


async def load(target: str, base: str, endpoint: str, mix, mix_name: str, *, clients: int, duration: float,
               unique: bool = False, hostile: int = 0, seed: int = 7) -> tuple[RunResult, RunResult]:
    """(normal clients' result, hostile clients' result). Each client has its own connection."""
    result = RunResult(target, mix_name, duration)
    bad = RunResult(target, "hostile clients", duration)
    stop_at = time.monotonic() + duration

    async def one(conn: Connection, query: str, into: RunResult, name: str) -> None:
        t0 = time.perf_counter()
        try:
            status, body = await conn.post(endpoint, query)
            if status == 200:
                json.loads(body)  # every row read and parsed
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            into.errors[type(exc).__name__] = into.errors.get(type(exc).__name__, 0) + 1
            return
        into.latencies_ms.append((time.perf_counter() - t0) * 1000)
        into.status[status] = into.status.get(status, 0) + 1
        into.requests += 1
        if status >= 400 and status not in into.samples:
            into.samples[status] = f"{name}: {body[:200].decode(errors='replace')}"

    async def normal_client(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        conn = Connection(base)
        try:
            while time.monotonic() < stop_at:
                req = mix[rng.randrange(len(mix))]
                text = f"# request {next(_counter)}\n{req.query}" if unique else req.query
                await one(conn, text, result, req.name)
        finally:
            conn.close()

    async def hostile_client(k: int) -> None:
        conn = Connection(base, f"127.0.0.{2 + k}")
        try:
            while time.monotonic() < stop_at:
                await one(conn, CARTESIAN_COUNT, bad, "cartesian")
        finally:
            conn.close()

    t0 = time.monotonic()
    hostiles = [asyncio.ensure_future(hostile_client(k)) for k in range(hostile)]
    await asyncio.gather(*(normal_client(i) for i in range(clients)))
    result.duration_s = bad.duration_s = time.monotonic() - t0
    for task in hostiles:  # a hostile query still running is abandoned (its connection closed)
        task.cancel()
    await asyncio.gather(*hostiles, return_exceptions=True)
    return result, bad


async def main_async(args) -> list[dict]:
    build = published(Path(args.build)).path
    mix = sparql_mix()
    print(f"SPARQL mix: {len(mix)} queries", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="harden-bench-"))
    procs = []
    try:
        kg_port, nocache_port, ox_port = free_port(), free_port(), free_port()
        procs.append(start_kg(Path(args.build), kg_port))
        procs.append(start_kg(Path(args.build), nocache_port, 1, "--cache-mb", "0"))
        procs.append(start_oxigraph(build, ox_port, None))  # in memory, like kg serve's workers
        servers = {"kg serve": (f"http://127.0.0.1:{kg_port}", "/sparql"),
                   "kg serve --cache-mb 0": (f"http://127.0.0.1:{nocache_port}", "/sparql"),
                   "oxigraph serve (in memory)": (f"http://127.0.0.1:{ox_port}", "/query")}
        rows = await verify(servers, mix)
        print(f"answers equal by value on both servers ({rows} rows compared)", file=sys.stderr)
        runs = [(name, base, ep, m) for m in args.mixes for name, (base, ep) in servers.items()]
        for name, base, ep, m in runs:
            await load(name, base, ep, mix, "warm-up", clients=args.clients, duration=2, unique=m == "unique")
        parts: dict[int, list[RunResult]] = {i: [] for i in range(len(runs))}
        for n in range(args.slices):
            # the order of the targets rotates from slice to slice, so that none always follows the same one
            for mix_name in args.mixes:
                same = [(i, r) for i, r in enumerate(runs) if r[3] == mix_name]
                shift = n % len(same)
                for i, (name, base, ep, m) in same[shift:] + same[:shift]:
                    normal, _ = await load(name, base, ep, mix, m, clients=args.clients,
                                           duration=args.duration / args.slices, unique=m == "unique", seed=7 + n)
                    parts[i].append(normal)
            print(f"slice {n + 1}/{args.slices} done", file=sys.stderr)
        results = [merge(parts[i]).summary() for i in range(len(runs))]
        # hostile clients last: oxigraph serve has no time limit, its runaway queries outlive the run
        # (so it is given the hostile mixes once, after kg serve's)
        for name in servers if args.hostile else ():
            base, ep = servers[name]
            for m in args.mixes:
                normal, bad = await load(name, base, ep, mix, f"{m} + 2 hostile", clients=args.clients,
                                         duration=args.duration, hostile=2, unique=m == "unique")
                results.append(normal.summary())
                results.append({**bad.summary(), "mix": f"hostile clients (beside {m})"})
        for r in results:
            print(json.dumps(r, ensure_ascii=False), file=sys.stderr)
        return results
    finally:
        for p in procs:
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)


def table(results: list[dict]) -> str:
    lines = ["| target | mix | requests | throughput (req/s) | p50 (ms) | p99 (ms) | statuses | other errors |",
             "|---|---|---:|---:|---:|---:|---|---|"]
    for r in results:
        lines.append(f"| {r['target']} | {r['mix']} | {r['requests']} | {r['throughput_rps']} | {r['p50_ms']} | "
                     f"{r['p99_ms']} | {r['status']} | {r['other_errors'] or 0} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--slices", type=int, default=4)
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--json", help="write the results here as JSON")
    parser.add_argument("--mixes", default="named,unique", help="comma-separated: named, unique")
    parser.add_argument("--no-hostile", dest="hostile", action="store_false",
                        help="skip the runs with hostile clients")
    args = parser.parse_args(argv)
    args.mixes = [m for m in args.mixes.split(",") if m]
    if not args.mixes or set(args.mixes) - {"named", "unique"}:
        parser.error("--mixes takes named and/or unique")
    results = asyncio.run(main_async(args))
    print(table(results))
    by = {(r["target"], r["mix"]): r for r in results}
    for mix in args.mixes:
        ox = by[("oxigraph serve (in memory)", mix)]
        for target in ("kg serve", "kg serve --cache-mb 0"):
            print(f"{mix}: {target} / oxigraph serve throughput {by[(target, mix)]['throughput_rps'] / ox['throughput_rps']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
