"""Validation (SHACL + check queries) at 1x/10x/30x data: the old way beside the new, same input.

Old (as of the baseline commit): pySHACL over an rdflib Graph of the data merged with the ontology,
and the check queries of that commit (FILTER NOT EXISTS) on Oxigraph.
New: SHACL compiled to SPARQL (kg.pipeline.shacl_sparql) and today's check queries, both on the
one Oxigraph union store.

Both sides start from the same generated N-Quads (bench/generate.py) already loaded (Oxigraph
store; rdflib Graph for pySHACL), so the numbers are the validation stage alone. The old side runs
in a child process stopped at --limit seconds (reported as stopped, never projected). Each side
also reports how many results it found; they are compared.

    python -m bench.validate_scaling --sizes 13582 135820 407460 --limit 300
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import subprocess
import time
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kg import paths
from kg.pipeline.shacl_sparql import validate_store
from kg.pipeline.validate import check_files, shacl

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"


def old_checks(baseline: str) -> dict[str, str]:
    names = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "--name-only", f"{baseline}:queries/checks"],
                           capture_output=True, text=True, check=True).stdout.split()
    return {n: subprocess.run(["git", "-C", str(ROOT), "show", f"{baseline}:queries/checks/{n}"],
                              capture_output=True, text=True, check=True).stdout for n in names}


def load(nq: Path) -> ox.Store:
    store = ox.Store()
    store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    return store


def run_checks(store: ox.Store, texts: list[str]) -> int:
    return sum(len(list(store.query(t, use_default_graph_as_union=True))) for t in texts)


def _old(conn, nq: str, checks: list[str]) -> None:
    from kg.pipeline.build import load_graph

    store = load(Path(nq))
    ontology, shapes = load_graph(paths.ontology_file()), load_graph(paths.shapes_file())
    data = Graph()  # the data graphs (not the ontology, which shacl() merges in itself)
    data.parse(data=b"".join(str(ox.Triple(q.subject, q.predicate, q.object)).encode() + b" .\n"
                             for q in store if not q.graph_name.value.endswith("/graph/ontology")), format="nt")
    t0 = time.perf_counter()
    n_shacl = len(shacl(data, shapes, ontology))
    t1 = time.perf_counter()
    conn.send(("shacl", t1 - t0, n_shacl))
    n_checks = run_checks(store, checks)
    conn.send(("checks", time.perf_counter() - t1, n_checks))


def run_old(nq: Path, checks: list[str], limit: float) -> dict:
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_old, args=(child, str(nq), checks), daemon=True)
    proc.start()
    out: dict = {}
    deadline = time.monotonic() + limit + 120  # + the time to build the rdflib graph, not counted
    for stage in ("shacl", "checks"):
        if not parent.poll(max(deadline - time.monotonic(), 0)):
            out[stage] = {"stopped": limit}
            break
        _, t, n = parent.recv()
        out[stage] = {"s": round(t, 2), "results": n}
        if t > limit:
            break
    proc.kill()
    proc.join()
    return out


def run_new(nq: Path) -> dict:
    from kg.pipeline.build import load_graph

    store = load(nq)
    shapes = load_graph(paths.shapes_file())
    checks = [p.read_text(encoding="utf-8") for p in check_files(paths.queries_dir())]
    t0 = time.perf_counter()
    n_shacl = len(validate_store(store, shapes))
    t1 = time.perf_counter()
    n_checks = run_checks(store, checks)
    t2 = time.perf_counter()
    return {"shacl": {"s": round(t1 - t0, 2), "results": n_shacl}, "checks": {"s": round(t2 - t1, 2), "results": n_checks}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[13582, 135820, 407460])
    ap.add_argument("--baseline", default="ebbdbb8", help="commit whose check queries are the old ones")
    ap.add_argument("--limit", type=float, default=300, help="seconds the old side may take per stage")
    ap.add_argument("--no-old", type=int, nargs="*", default=[], help="sizes to run the new side only")
    args = ap.parse_args(argv)
    checks = list(old_checks(args.baseline).values())
    print("| data | quads | new SHACL | new checks | new total | old SHACL (pySHACL) | old checks | old total |")
    print("|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        nq = DATA / f"scale-{size}" / "kg.nq"
        if not nq.is_file():
            from bench.generate import write

            write(size, nq)
        quads = sum(1 for _ in nq.open("rb"))
        new = run_new(nq)
        old = {} if size in args.no_old else run_old(nq, checks, args.limit)

        def cell(d: dict) -> str:
            if not d:
                return "not run"
            return f">{d['stopped']:.0f} s (stopped)" if "stopped" in d else f"{d['s']:.2f} s ({d['results']} results)"
        new_total = new["shacl"]["s"] + new["checks"]["s"]
        old_total = (f"{old['shacl']['s'] + old['checks']['s']:.2f} s" if all("s" in old.get(k, {}) for k in ("shacl", "checks"))
                     else "—")
        print(f"| {size / 13582:.0f}x | {quads:,} | {cell(new['shacl'])} | {cell(new['checks'])} | {new_total:.2f} s | "
              f"{cell(old.get('shacl', {}))} | {cell(old.get('checks', {}))} | {old_total} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
