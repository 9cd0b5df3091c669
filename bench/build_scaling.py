"""`kg build` end to end at 1x/10x/30x fact-file data, per stage, beside a baseline commit's build.

The data: the real ``data/`` replicated as fictional districts. Copy 0 is the real data unchanged;
copy n (n >= 1) renames every district-specific id (``yufeng-qu`` -> ``yufeng-qu-x3``), marks its
labels as fictional (``鱼峰区（虚构3）``, ``Yufeng District (fictional 3)``) and has its own fact
file ``<doc>-x3.yaml`` whose document is the same source text under a new document id (same file,
same sha256), so every span and quote stays valid. Ids of shared concepts (country, province,
city, industries, indicators, designations, strategies, plans) and the ontology's individuals
are not renamed: copies point to them as another district's report would. External links stay
with copy 0 (a wrong link is worse than none). Deterministic: the same scale gives the same bytes.

Timing: each scale is built by ``kg build --data DIR --sources SOURCES --out TMP`` in a fresh
process (interpreter start included), ours and the baseline's (a git worktree of ``--baseline``,
made on first use under bench/data/) interleaved run by run; the whole command is timed by the
wall clock, and each stage by the pipeline's own ``timings_s`` (``kg build`` is called through a
small driver that prints them). Medians of ``--runs`` runs.

    python -m bench.build_scaling --scales 1 10 30 --runs 3 --baseline e0c868b
    python -m bench.build_scaling --make-only --scales 10   # just write bench/data/build-10x/
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from kg import paths
from kg.pipeline.records import plain, read_yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
SHARED_CLASSES = {"Country", "ProvincialDivision", "PrefectureCity", "Industry", "Indicator", "Designation",
                  "Strategy", "Plan"}
"""Classes whose instances every district shares: their ids are not renamed in the copies."""
LABEL_KEYS = ("label", "altLabel")



def _fictional(labels: dict, n: int) -> dict:
    """{zh: 鱼峰区, en: Yufeng District} -> {zh: 鱼峰区（虚构3）, en: Yufeng District (fictional 3)}."""
    def mark(lang: str, text: str) -> str:
        if lang.startswith("zh") and "Latn" not in lang:
            return f"{text}（虚构{n}）"
        return f"{text} (fictional {n})"
    return {lang: [mark(lang, t) for t in texts] if isinstance(texts, list) else mark(lang, texts)
            for lang, texts in labels.items()}


def _rename_value(v, renamed: dict[str, str]):
    if isinstance(v, str):
        return renamed.get(v, v)
    if isinstance(v, list):
        return [_rename_value(x, renamed) for x in v]
    if isinstance(v, dict) and "value" in v:
        return {**v, "value": _rename_value(v["value"], renamed)}
    return v


def _copy_record(rec: dict, n: int, renamed: dict[str, str]) -> dict:
    out = {}
    for key, value in rec.items():
        if key in ("id", "about"):
            out[key] = renamed.get(value, value)
        elif key in LABEL_KEYS and rec.get("id", rec.get("about")) in renamed:
            out[key] = _fictional(value, n)
        elif key in ("label", "altLabel", "definition", "supportReason", "title") or isinstance(value, dict) and "value" not in value:
            out[key] = value  # texts by language
        else:
            out[key] = _rename_value(value, renamed)
    return out


def make_data(scale: int, out: Path, data_dir: Path | None = None) -> Path:
    """Write ``scale`` copies of the curated data (see the module docstring) into out/; returns out.

    The folder is written once per scale and reused (its content depends only on data/ and scale).
    """
    data_dir = Path(data_dir or paths.data_dir())
    registry = plain(read_yaml(data_dir / "entities.yaml"))
    facts = {p.stem: plain(read_yaml(p)) for p in sorted((data_dir / "facts").glob("*.yaml"))}
    shared = {e["id"] for e in registry["entities"]
              if set(e["type"] if isinstance(e["type"], list) else [e["type"]]) & SHARED_CLASSES}
    local = [e["id"] for e in registry["entities"] if e["id"] not in shared]
    local += [r["id"] for f in facts.values() for r in f["records"] if "id" in r]
    entities, fact_files = list(registry["entities"]), {}
    fact_files.update(facts)
    for n in range(1, scale):
        renamed = {slug: f"{slug}-x{n}" for slug in local}
        entities += [_copy_record(e, n, renamed) for e in registry["entities"] if e["id"] in renamed]
        for stem, f in facts.items():
            doc = dict(f["document"], id=f"{stem}-x{n}")
            doc["title"] = _fictional(doc.get("title", {}), n)
            fact_files[doc["id"]] = {"document": doc, "records": [_copy_record(r, n, renamed) for r in f["records"]]}
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent if out.parent.exists() else None))
    (tmp / "facts").mkdir()
    dump = lambda obj: yaml.safe_dump(obj, allow_unicode=True, sort_keys=False, width=1000)  # noqa: E731
    (tmp / "entities.yaml").write_text(dump({"entities": entities}), encoding="utf-8")
    for stem, f in fact_files.items():
        (tmp / "facts" / f"{stem}.yaml").write_text(dump(f), encoding="utf-8")
    if (data_dir / "links").is_dir():
        (tmp / "links").mkdir()
        for p in (data_dir / "links").iterdir():
            (tmp / "links" / p.name).write_bytes(p.read_bytes())
    if out.exists():
        import shutil

        shutil.rmtree(out)
    os.replace(tmp, out)
    return out


def data_for(scale: int) -> Path:
    out = DATA / f"build-{scale}x"
    if not (out / "entities.yaml").is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        make_data(scale, out)
    return out


DRIVER = r"""
import json, sys, time
t0 = time.perf_counter()
from kg.pipeline.build import build
t1 = time.perf_counter()
r = build(sys.argv[1], sys.argv[2], sys.argv[3], with_reasoning=sys.argv[4] == "1")
t = dict(r.report["timings_s"]); t["import"] = round(t1 - t0, 3)
print(json.dumps({"timings": t, "triples": r.report["triples"]}))
"""


def baseline_tree(commit: str) -> Path:
    """A git worktree of the baseline commit (made once); it runs with our interpreter and
    installed dependencies, its own code first on PYTHONPATH (its ontology, shapes and queries)."""
    tree = DATA / f"baseline-{commit}"
    if not (tree / "kg" / "pipeline" / "build.py").is_file():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit], check=True)
    return tree


def run_build(python: Path, cwd: Path, data: Path, sources: Path, reasoning: bool) -> dict:
    """One `kg build` in a fresh process: wall time, and each stage's time from the pipeline."""
    with tempfile.TemporaryDirectory(prefix="kg-bench-build-") as out:
        env = dict(os.environ, PYTHONPATH=str(cwd))
        t0 = time.perf_counter()
        proc = subprocess.run([str(python), "-c", DRIVER, str(data), str(sources), out, "1" if reasoning else "0"],
                              cwd=cwd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"build failed ({cwd}, {data}):\n{proc.stderr[-3000:]}")
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        res["wall"] = round(wall, 3)
        # the published quads, compared by value between ours and the baseline (sha256 of kg.nq)
        res["nq_sha256"] = hashlib.sha256((Path(out) / "kg.nq").read_bytes()).hexdigest()
        return res


def median_row(runs: list[dict]) -> dict:
    keys = sorted({k for r in runs for k in r["timings"]})
    out = {k: statistics.median(r["timings"].get(k, 0.0) for r in runs) for k in keys}
    out["wall"] = statistics.median(r["wall"] for r in runs)
    out["wall_min"], out["wall_max"] = min(r["wall"] for r in runs), max(r["wall"] for r in runs)
    out["triples"] = runs[0]["triples"]
    return out


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", nargs="+", type=int, default=[1, 10, 30])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--baseline", help="commit to build beside ours (its worktree is made under bench/data/)")
    ap.add_argument("--baseline-max-scale", type=int, default=1000, help="largest scale the baseline is run at")
    ap.add_argument("--sources", type=Path, default=paths.sources_dir())
    ap.add_argument("--no-reason", action="store_true")
    ap.add_argument("--make-only", action="store_true", help="write the data folders and stop")
    ap.add_argument("--json", type=Path, help="also write every run here")
    args = ap.parse_args(argv)
    folders = {s: data_for(s) for s in args.scales}
    if args.make_only:
        for s, f in folders.items():
            print(f"{s}x: {f}")
        return 0
    if args.sources is None:
        ap.error("no sources folder: give --sources (the quotes are part of the build)")
    engines = {"ours": (ROOT / ".venv" / "bin" / "python", ROOT)}
    if args.baseline:
        tree = baseline_tree(args.baseline)
        engines["baseline"] = (ROOT / ".venv" / "bin" / "python", tree)
    results: dict = {}
    for scale in args.scales:
        for i in range(args.runs):
            for name, (py, cwd) in engines.items():  # interleaved: ours, baseline, ours, baseline, ...
                if name == "baseline" and scale > args.baseline_max_scale:
                    continue
                load = load_average()
                r = run_build(py, cwd, folders[scale], args.sources, not args.no_reason)
                r["load"] = load
                results.setdefault((scale, name), []).append(r)
                print(f"# {scale}x {name} run {i + 1}: {r['wall']:.2f} s wall, {json.dumps(r['timings'])} "
                      f"(load {load})", file=sys.stderr, flush=True)
    # the baseline reports load+rdfize, validate, reason, write; ours reports finer stages, summed
    # here into the same four (ours: "reason" is what the build waits for HermiT beyond validation,
    # since HermiT runs while Python validates)
    groups = {"load+rdfize": ("load+rdfize", "ontology", "records", "evidence", "rdfize"), "validate": ("validate",),
              "reason": ("reason",), "write": ("write", "report", "publish")}
    print("| data | quads | build | import | load+rdfize | validate | reason | write (outputs, VoID, store, publish) "
          "| wall (median) | min–max | 1-min load at each run's start | kg.nq |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|")
    for (scale, name), runs in sorted(results.items()):
        m = median_row(runs)
        cells = [f"{m.get('import', 0):.2f} s"]
        for keys in groups.values():
            cells.append(f"{sum(m.get(k, 0.0) for k in keys):.2f} s")
        loads = ", ".join(r["load"].split()[0] for r in runs)
        ours = results.get((scale, "ours"))
        same = "—" if name == "ours" or not ours else (
            "same as ours" if {r["nq_sha256"] for r in runs} == {r["nq_sha256"] for r in ours} else "DIFFERS")
        print(f"| {scale}x | {m['triples']:,} | {name} | " + " | ".join(cells) +
              f" | **{m['wall']:.2f} s** | {m['wall_min']:.2f}–{m['wall_max']:.2f} s | {loads} | {same} |")
    detail = ["ontology", "records", "evidence", "rdfize", "validate", "reason", "report", "serialise", "void", "store",
              "publish"]
    print("\nours, each stage (medians; publish includes serialise, void and store):\n")
    print("| data | " + " | ".join(detail) + " |")
    print("|---|" + "---:|" * len(detail))
    for (scale, name), runs in sorted(results.items()):
        if name == "ours":
            m = median_row(runs)
            print(f"| {scale}x | " + " | ".join(f"{m.get(k, 0):.2f}" for k in detail) + " |")
    if args.json:
        args.json.write_text(json.dumps({f"{s}x-{n}": r for (s, n), r in results.items()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
