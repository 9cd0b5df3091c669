"""Reading a large result: raw pyoxigraph, kg.query raw, kg.query (rdflib terms, each distinct term
converted once per result) and the old way (every value converted on access), interleaved.

    python -m bench.rows --nq bench/data/scale-135820/kg.nq --rounds 5
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pyoxigraph as ox

from kg.read.query import run_query
from kg.read.store import to_rdflib_term

QUERY = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nq", type=Path, default=Path("build/kg.nq"))
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    store = ox.Store()
    store.bulk_load(path=str(args.nq), format=ox.RdfFormat.N_QUADS)

    def raw():
        return [v.value if hasattr(v, "value") else v for sol in store.query(QUERY, use_default_graph_as_union=True)
                for v in sol]

    def ours_rows():
        res = run_query(store, QUERY, raw=True)
        return [r.raw(v) for r in res for v in res.variables]

    def ours_raw():
        return [v.value if hasattr(v, "value") else v for t in run_query(store, QUERY, raw=True).raw_rows() for v in t]

    def ours():
        res = run_query(store, QUERY)
        return [r[v] for r in res for v in res.variables]

    def old():  # what Row did before: a cache per row, so a term repeated across rows is converted again
        out = []
        for sol in store.query(QUERY, use_default_graph_as_union=True):
            out += [to_rdflib_term(t) for t in sol]
        return out

    engines = {"pyoxigraph (values read)": raw, "kg.query raw=True, raw_rows()": ours_raw,
               "kg.query raw=True, row.raw(name)": ours_rows,
               "kg.query (rdflib, cache per result)": ours, "old Row (rdflib, cache per row)": old}
    times = {k: [] for k in engines}
    n = None
    for i in range(args.rounds):
        names = list(engines)
        for name in names[i % len(names):] + names[:i % len(names)]:
            t0 = time.perf_counter()
            n = len(engines[name]())
            times[name].append(time.perf_counter() - t0)
    base = statistics.median(times["pyoxigraph (values read)"])
    print(f"{n // 3:,} rows × 3 values, {args.nq}\n\n| reading | median (min–max) | vs pyoxigraph |\n|---|---|---|")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"| {name} | {m * 1000:.0f} ms ({min(ts) * 1000:.0f}–{max(ts) * 1000:.0f}) | {m / base:.2f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
