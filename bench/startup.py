"""Start-up time of the CLI: `kg --version` and `kg query NAME`, beside a bare Python and a bare
pyoxigraph script doing the same query, and (when given) another checkout's `kg` as the baseline.

Each command runs as a fresh process; the commands are interleaved (one of each per round) and
the median of N rounds is reported with min-max. Output goes to stdout as a Markdown table.

    python -m bench.startup --build build --rounds 15 [--baseline /work/main/.venv/bin/kg]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BARE = """import pyoxigraph as ox
s = ox.Store(); s.bulk_load(path={nq!r}, format=ox.RdfFormat.N_QUADS)
for sol in s.query(open({rq!r}).read(), use_default_graph_as_union=True): print(*sol, sep="\\t")
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", type=Path, default=Path("build"))
    ap.add_argument("--query", default="cq02-six-zones")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--baseline", help="another kg executable (e.g. the main checkout's) to time beside ours")
    args = ap.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    kg = [sys.executable, "-m", "kg"]
    nq, rq = str(args.build / "kg.nq"), str(root / "queries" / "cq" / f"{args.query}.rq")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "kg --version": [*kg, "--version"],
        f"kg query {args.query}": [*kg, "query", args.query, "--build", str(args.build)],
        f"bare pyoxigraph script ({args.query})": [sys.executable, "-c", BARE.format(nq=nq, rq=rq)],
    }
    if args.baseline:
        commands["baseline kg --version"] = [args.baseline, "--version"]
        commands[f"baseline kg query {args.query}"] = [args.baseline, "query", args.query, "--build", str(args.build)]
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(args.rounds):
        for name, cmd in commands.items():
            t0 = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True)
            times[name].append(time.perf_counter() - t0)
            if done.returncode != 0:
                raise SystemExit(f"{name} failed: {done.stderr.decode()[-500:]}")
    print("| command | median (min–max) |\n|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts) * 1000:.0f} ms ({min(ts) * 1000:.0f}–{max(ts) * 1000:.0f}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
