"""Time every competency query and the bulk load, side by side, on generated graphs.

Engines, in one run on the same data and the same SPARQL text (default bindings placed by
kg.read.query.bind, as kg.query does; networkx steps left out so that every engine answers the
same question):
  kg.query       our API, rows of rdflib terms (each distinct term converted once per result)
  kg.query raw   our API with raw=True: rows of pyoxigraph terms
  kg.load        rdflib Dataset over oxrdflib (kg.load()), ``ds.query``
  pyoxigraph     raw ``Store.query``
  rdflib         plain rdflib: ``Dataset(default_union=True)``, its own N-Quads parser and SPARQL
                 engine, in a worker process so a query can be stopped at the time limit (reported
                 as ">T s", measured, never projected)

Every engine reads every row and every value; the values (not the counts) are compared across
engines, and a mismatch is reported. Repetitions are interleaved (engine order rotates each
round) so that a slow phase of the machine hits every engine alike. Medians with min-max; ratios
of medians. Writes bench/results/<stamp>.json and .md.

    python -m bench.generate --triples 100000 --out bench/data/100k/kg.nq
    python -m bench.queries --scales 10k 100k
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox

import kg
from kg.read.query import as_oxigraph_term, bind, header_of, named_queries
from kg.read.sparql_text import PREFIXES

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"
RESULTS = ROOT / "results"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def median_range(times: list[float]) -> dict:
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "n": len(times)}


def sparql_bindings(text: str) -> dict[str, str]:
    """The header's default bindings that go into the SPARQL (not the networkx step's)."""
    h = header_of(text)
    used = set(h.networkx.split()[1:3]) if h.networkx and h.networkx.startswith("paths") else set()
    return {k: v for k, v in h.bindings.items() if k not in used}


def expand(value: str) -> str:
    from kg.namespaces import curie_to_iri

    return curie_to_iri(value) or value


def key_ox(t) -> tuple:
    """A term as comparable plain data: (kind, value, datatype, language)."""
    if t is None:
        return ("",)
    if isinstance(t, ox.NamedNode):
        return ("iri", t.value)
    if isinstance(t, ox.BlankNode):
        return ("bnode",)
    if isinstance(t, ox.Literal):
        return ("lit", t.value, "" if t.language else t.datatype.value, (t.language or "").lower())
    return ("other", str(t))


def key_rdflib(t) -> tuple:
    from rdflib import BNode, Literal, URIRef

    if t is None:
        return ("",)
    if isinstance(t, URIRef):
        return ("iri", str(t))
    if isinstance(t, BNode):
        return ("bnode",)
    if isinstance(t, Literal):
        return ("lit", str(t), "" if t.language else str(t.datatype or XSD_STRING), (t.language or "").lower())
    return ("other", str(t))


def canonical(rows: list[tuple]) -> list[tuple]:
    return sorted(rows)


# -- plain rdflib in a worker process -----------------------------------------------------------

def _rdflib_worker(conn, nq: str) -> None:
    from rdflib import Dataset

    t0 = time.perf_counter()
    ds = Dataset(default_union=True)
    ds.parse(nq, format="nquads")
    conn.send(("loaded", time.perf_counter() - t0, len(ds)))
    while True:
        msg = conn.recv()
        if msg is None:
            return
        text, _bindings = msg
        t0 = time.perf_counter()
        res = ds.query(text)
        rows = [tuple(key_rdflib(v) for v in row) for row in res] if res.type == "SELECT" else []
        conn.send(("done", time.perf_counter() - t0, rows))


class RdflibWorker:
    def __init__(self, nq: Path, load_timeout: float):
        self.nq, self.load_timeout = nq, load_timeout
        self.proc = self.conn = None
        self.load_time = None

    def start(self) -> float:
        ctx = mp.get_context("fork")
        parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=_rdflib_worker, args=(child, str(self.nq)), daemon=True)
        self.proc.start()
        self.conn = parent
        if not parent.poll(self.load_timeout):
            self.stop()
            raise TimeoutError
        _, t, _n = parent.recv()
        self.load_time = t
        return t

    def query(self, text: str, bindings: dict, timeout: float):
        self.conn.send((text, bindings))
        if not self.conn.poll(timeout):
            self.stop()
            return None
        _, t, n = self.conn.recv()
        return t, n

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
        self.proc = None


# -- one scale -------------------------------------------------------------------------------------

def run_scale(scale: str, reps: int, timeout: float, log) -> dict:
    nq = DATA / scale / "kg.nq"
    if not nq.is_file():
        raise SystemExit(f"{nq} missing: run python -m bench.generate")
    quads = sum(1 for _ in nq.open("rb"))
    out = {"scale": scale, "quads": quads, "load": {}, "queries": {}}
    log(f"[{scale}] {quads} quads")

    # load: our API (kg.load: Oxigraph bulk load + rdflib wrapper), raw pyoxigraph (interleaved), plain rdflib
    loads: dict[str, list[float]] = {"kg.load": [], "pyoxigraph": []}
    store = None
    for _ in range(reps):
        t0 = time.perf_counter()
        kg._STORES.clear()
        kg.load(nq.parent)
        loads["kg.load"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        store = ox.Store()
        store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
        loads["pyoxigraph"].append(time.perf_counter() - t0)
    out["load"] = {k: median_range(v) for k, v in loads.items()}
    worker = RdflibWorker(nq, load_timeout=max(timeout * 5, 600))
    out["load"]["rdflib"] = median_range([worker.start()])
    for k, v in out["load"].items():
        log(f"  load {k}: {v['median']:.3f} s ({quads / v['median']:,.0f} quads/s)")

    kg._STORES.clear()
    kg.query("ASK {}", build_dir=nq.parent)  # open the API's store once, as a user's session does
    ds = kg.load(nq.parent)
    for nq_ in named_queries():
        if nq_.group != "cq":
            continue
        name = nq_.name
        binds = {k: as_oxigraph_term(expand(v)) for k, v in sparql_bindings(nq_.text).items()}
        # the SPARQL alone: the `# networkx:` directive would make kg.query run its graph step
        sparql = "\n".join(line for line in nq_.text.splitlines() if not line.startswith(("# networkx:", "# bind:")))
        text, left = bind(sparql, binds)
        assert not left, name

        engines = {
            "kg.query": lambda: [tuple(key_rdflib(r[v]) for v in res.variables)
                                 for res in [kg.query(text, build_dir=nq.parent)] for r in res],
            "kg.query raw": lambda: [tuple(key_ox(v) for v in t)
                                     for t in kg.query(text, build_dir=nq.parent, raw=True).raw_rows()],
            "kg.load": lambda: [tuple(key_rdflib(v) for v in row) for row in ds.query(text)],
            "pyoxigraph": lambda: [tuple(key_ox(v) for v in sol)
                                   for sol in store.query(text, use_default_graph_as_union=True,
                                                          prefixes=dict(PREFIXES))],
        }
        times: dict[str, list[float]] = {e: [] for e in [*engines, "rdflib"]}
        answers: dict[str, list] = {}
        rdflib_out = None
        order = list(engines) + ["rdflib"]
        for i in range(reps):
            for engine in order[i % len(order):] + order[:i % len(order)]:  # rotate: interleaved
                if engine == "rdflib":
                    if rdflib_out == "timeout" or (times["rdflib"] and times["rdflib"][0] > 2):
                        continue  # timed out, or slow: one measured repetition is enough
                    if worker.proc is None:
                        worker.start()
                    r = worker.query(text, {}, timeout)
                    if r is None:
                        rdflib_out = "timeout"
                        continue
                    times["rdflib"].append(r[0])
                    answers["rdflib"] = r[1]
                    continue
                t0 = time.perf_counter()
                rows = engines[engine]()
                times[engine].append(time.perf_counter() - t0)
                answers[engine] = rows
        reference = canonical(answers["pyoxigraph"])
        row = {}
        for engine, ts in times.items():
            if not ts:
                row[engine] = {"timeout": timeout}
                continue
            mine = canonical(answers[engine])
            same = mine == reference
            row[engine] = {**median_range(ts), "rows": len(answers[engine]), "same_values": same}
            if not same:  # the first differing row, to see why
                diff = sorted(set(mine) ^ set(reference))
                row[engine]["first_difference"] = [list(map(list, diff[:2]))]
        out["queries"][name] = row
        mismatched = [e for e, r in row.items() if r.get("same_values") is False]
        log(f"  {name}: " + "  ".join(f"{e} {fmt_t(r)}" for e, r in row.items())
            + f"  rows {len(reference)}" + (f"  VALUES DIFFER: {mismatched}" if mismatched else ""))
    worker.stop()
    return out


def fmt_t(s: dict) -> str:
    if "median" not in s:
        return f">{s['timeout']:.0f} s (stopped)"
    m, lo, hi = s["median"], s["min"], s["max"]
    unit = (lambda x: f"{x * 1000:.1f}") if m < 1 else (lambda x: f"{x:.2f}")
    return f"{unit(m)} ({unit(lo)}–{unit(hi)}) {'ms' if m < 1 else 's'}" if s["n"] > 1 else f"{unit(m)} {'ms' if m < 1 else 's'}"


def ratio(a: dict, b: dict) -> str:
    if "median" not in b:
        return f">{b['timeout'] / a['median']:.0f}×"
    return f"{b['median'] / a['median']:.1f}×"


def markdown(runs: list[dict], machine: str) -> str:
    lines = [f"Machine: {machine}", ""]
    for run in runs:
        q = run["quads"]
        lines += [f"#### {run['scale']} ({q:,} quads)", "",
                  "| load | median (min–max) | quads/s |", "|---|---|---|"]
        for k, v in run["load"].items():
            lines.append(f"| {k} | {fmt_t(v)} | {q / v['median']:,.0f} |")
        lines += ["", "| query | rows | kg.query | kg.query raw | kg.load (oxrdflib) | pyoxigraph | rdflib | "
                  "kg.query / pyoxigraph | raw / pyoxigraph | values |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for name, row in run["queries"].items():
            a, w, o, p, r = (row[e] for e in ("kg.query", "kg.query raw", "kg.load", "pyoxigraph", "rdflib"))
            same = all(x.get("same_values", True) for x in row.values())
            lines.append(f"| {name} | {p['rows']} | {fmt_t(a)} | {fmt_t(w)} | {fmt_t(o)} | {fmt_t(p)} | {fmt_t(r)} | "
                         f"{a['median'] / p['median']:.2f}× | {w['median'] / p['median']:.2f}× | "
                         f"{'same' if same else 'DIFFER'} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", nargs="+", default=["10k", "100k"])
    ap.add_argument("--reps", type=int, default=5, help="repetitions (3 at 1m)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds allowed to one rdflib query")
    args = ap.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    import os
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, "
               f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
               f"Python {platform.python_version()}, pyoxigraph {ox.__version__}")
    runs = []
    for scale in args.scales:
        reps = 3 if scale == "1m" else args.reps
        runs.append(run_scale(scale, reps, args.timeout, log))
        (RESULTS / f"{stamp}.json").write_text(json.dumps({"machine": machine, "runs": runs}, indent=1))
        (RESULTS / f"{stamp}.md").write_text(markdown(runs, machine))
    print(markdown(runs, machine))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
