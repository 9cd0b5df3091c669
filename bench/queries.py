"""Time every competency query and the bulk load, side by side, on generated graphs.

Engines, in one run on the same data:
  kg.query      our API: the store opened by kg (in-memory Oxigraph), results as typed rows of
                rdflib terms, networkx steps included (CQ9, CQ13)
  kg.load       rdflib Dataset over oxrdflib (kg.load()), ``ds.query`` (SPARQL only)
  pyoxigraph    raw ``Store.query`` (SPARQL only), every solution read
  rdflib        plain rdflib: ``Dataset(default_union=True)``, default in-memory store, its own
                N-Quads parser and SPARQL engine; run in a worker process so a slow query can
                be stopped at the time limit and reported as ">T"

Medians with min-max over N repetitions; ratios of medians. Writes bench/results/<stamp>.json
and bench/results/<stamp>.md.

    python -m bench.queries --scales 10k 100k 1m
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
from kg.query import header_of, inline_bindings, named_queries

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"
RESULTS = ROOT / "results"


def median_range(times: list[float]) -> dict:
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "n": len(times)}


def timed(fn, reps: int) -> tuple[dict, object]:
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return median_range(times), out


def sparql_bindings(text: str) -> dict[str, str]:
    """The header's default bindings that go into the SPARQL (not the networkx step's)."""
    h = header_of(text)
    used = set(h.networkx.split()[1:3]) if h.networkx and h.networkx.startswith("paths") else set()
    return {k: v for k, v in h.bindings.items() if k not in used}


def expand(value: str) -> str:
    from kg.namespaces import curie_to_iri

    return curie_to_iri(value) or value


# -- plain rdflib in a worker process -----------------------------------------------------------

def _rdflib_worker(conn, nq: str) -> None:
    from rdflib import Dataset, URIRef

    t0 = time.perf_counter()
    ds = Dataset(default_union=True)
    ds.parse(nq, format="nquads")
    conn.send(("loaded", time.perf_counter() - t0, len(ds)))
    while True:
        msg = conn.recv()
        if msg is None:
            return
        text, bindings = msg
        init = {k: URIRef(expand(v)) for k, v in bindings.items()}
        t0 = time.perf_counter()
        res = ds.query(text, initBindings=init)
        n = len(list(res)) if res.type == "SELECT" else (1 if res.type == "ASK" else len(res.graph))
        conn.send(("done", time.perf_counter() - t0, n))


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

def run_scale(scale: str, reps: int, timeout: float, projected: dict | None, log) -> dict:
    nq = DATA / scale / "kg.nq"
    if not nq.is_file():
        raise SystemExit(f"{nq} missing: run python -m bench.generate")
    quads = sum(1 for _ in nq.open("rb"))
    out = {"scale": scale, "quads": quads, "load": {}, "queries": {}}
    log(f"[{scale}] {quads} quads")

    # load: our API (kg.load: Oxigraph bulk load + rdflib wrapper), raw pyoxigraph, plain rdflib
    kg._STORES.clear()
    stats, _ = timed(lambda: (kg._STORES.clear(), kg.load(nq.parent))[1], reps)
    out["load"]["kg.load"] = stats

    def raw_load():
        st = ox.Store()
        st.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
        return st
    stats, store = timed(raw_load, reps)
    out["load"]["pyoxigraph"] = stats
    worker = RdflibWorker(nq, load_timeout=max(timeout * 5, 600))
    t = worker.start()
    out["load"]["rdflib"] = median_range([t])
    for k, v in out["load"].items():
        log(f"  load {k}: {v['median']:.3f} s ({quads / v['median']:,.0f} quads/s)")

    kg._STORES.clear()
    kg.query("ASK {}", build_dir=nq.parent)  # open the API's store once, as a user's session does
    ds = kg.load(nq.parent)
    for nq_ in named_queries():
        if nq_.group != "cq":
            continue
        name, text = nq_.name, nq_.text
        binds = sparql_bindings(text)
        # every engine runs the same text: bindings inlined as VALUES, as kg.query does
        text, _ = inline_bindings(text, {ox.Variable(k): ox.NamedNode(expand(v)) for k, v in binds.items()})
        subs = {}
        row = {}
        row["kg.query"], res = timed(lambda: kg.query(name, build_dir=nq.parent), reps)
        row["kg.query"]["rows"] = len(res.rows)

        def via_oxrdflib():
            return list(ds.query(text))
        row["kg.load"], res = timed(via_oxrdflib, reps)
        row["kg.load"]["rows"] = len(res)

        def raw():
            return [tuple(sol) for sol in store.query(text, use_default_graph_as_union=True, substitutions=subs or None)]
        row["pyoxigraph"], res = timed(raw, reps)
        row["pyoxigraph"]["rows"] = len(res)

        skip = projected and projected.get(name, 0) > timeout
        if skip:
            row["rdflib"] = {"timeout": timeout, "projected": True}
        else:
            times, n = [], None
            for i in range(reps):
                if worker.proc is None:
                    worker.start()
                r = worker.query(text, {}, timeout)
                if r is None:
                    times = None
                    break
                times.append(r[0])
                n = r[1]
                if r[0] > 2 and i == 0:
                    break  # slow: one repetition is enough
            row["rdflib"] = {"timeout": timeout} if times is None else {**median_range(times), "rows": n}
        out["queries"][name] = row
        rd = row["rdflib"]
        rd_text = f">{timeout:.0f}s" if "median" not in rd else f"{rd['median']:.3f}s"
        log(f"  {name}: kg.query {row['kg.query']['median']:.4f}s  kg.load {row['kg.load']['median']:.4f}s  "
            f"pyoxigraph {row['pyoxigraph']['median']:.4f}s  rdflib {rd_text}  rows {row['kg.query']['rows']}/"
            f"{row['pyoxigraph']['rows']}/{rd.get('rows', '-')}")
    worker.stop()
    return out


def fmt_t(s: dict) -> str:
    if "median" not in s:
        return f">{s['timeout']:.0f} s" + (" (projected)" if s.get("projected") else "")
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
        lines += ["", "| query | rows | kg.query | kg.load (oxrdflib) | pyoxigraph | rdflib | kg.query / pyoxigraph | rdflib / kg.query |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, row in run["queries"].items():
            a, o, p, r = row["kg.query"], row["kg.load"], row["pyoxigraph"], row["rdflib"]
            lines.append(f"| {name} | {a['rows']} | {fmt_t(a)} | {fmt_t(o)} | {fmt_t(p)} | {fmt_t(r)} | "
                         f"{a['median'] / p['median']:.2f}× | {ratio(a, r)} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", nargs="+", default=["10k", "100k", "1m"])
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
    runs, previous = [], None
    for scale in args.scales:
        reps = 3 if scale == "1m" else args.reps
        projected = None
        if previous is not None:  # skip rdflib queries that the previous scale projects past the limit
            factor = 10 * 1.2
            projected = {n: r["rdflib"].get("median", r["rdflib"].get("timeout", 0)) * factor
                         for n, r in previous["queries"].items()}
        run = run_scale(scale, reps, args.timeout, projected, log)
        runs.append(run)
        previous = run
        (RESULTS / f"{stamp}.json").write_text(json.dumps({"machine": machine, "runs": runs}, indent=1))
        (RESULTS / f"{stamp}.md").write_text(markdown(runs, machine))
    print(markdown(runs, machine))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
