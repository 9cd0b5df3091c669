"""Benchmark kg draft: characters per second on the real report, and draft -> accept -> build.

Usage: .venv/bin/python bench/draft_bench.py [--runs 5]
Drafting is timed in-process after one warm-up (jieba's dictionary loads once per process) and
as cold `kg draft` processes, interleaved in each round: with jieba's prefix-dictionary cache
present in the per-user cache dir (KG_CACHE_DIR), and with an empty cache dir (jieba parses its
dict.txt and writes the cache: what every cold run paid when the cache was lost), plus the
floor of a process that only imports kg.draft and loads the dictionary. The loop is a fresh
scratch data folder (registry cut back to what was known before the report) drafted, accepted
and built without the reasoner; the baseline beside it is `kg build` of the curated data.
Medians are reported, with the load average at the start and end.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT.parent / "shared" / "sources"
DOC = "000_b3b90ce150a63deb"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    from kg.draft.draft import draft_text
    from kg.draft.evaluate import cut_registry
    from kg.draft.accept import accept
    from kg.pipeline.build import build

    text = (SOURCES / f"{DOC}.txt").read_text(encoding="utf-8")
    registry = yaml.safe_load((ROOT / "data" / "entities.yaml").read_text(encoding="utf-8"))["entities"]
    cut = cut_registry(registry)
    draft_text(text, "2024-01", cut, DOC, f"{DOC}.txt")  # warm-up
    warm = []
    for _ in range(args.runs):
        t = time.perf_counter()
        draft_text(text, "2024-01", cut, DOC, f"{DOC}.txt")
        warm.append(time.perf_counter() - t)
    cold, nocache, floor = [], [], []
    loop, baseline = [], []
    cache = Path(tempfile.mkdtemp(prefix="kg-bench-cache-"))
    env = {**os.environ, "KG_CACHE_DIR": str(cache)}
    subprocess.run([sys.executable, "-c", "from kg.draft import segment; segment.segmenter(())"], env=env, check=True)
    load0 = os.getloadavg()
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            data = tmp / "data"
            (data / "facts").mkdir(parents=True)
            (data / "entities.yaml").write_text(yaml.safe_dump({"entities": cut}, allow_unicode=True), encoding="utf-8")
            draft_cmd = [sys.executable, "-m", "kg", "draft", str(SOURCES / f"{DOC}.txt"), "--published", "2024-01",
                         "--data", str(data)]
            t = time.perf_counter()
            subprocess.run(draft_cmd, check=True, capture_output=True, env=env)
            t1 = time.perf_counter()
            accept(data / "drafts" / f"{DOC}.yaml", data, None, SOURCES)
            build(data, SOURCES, tmp / "build", with_reasoning=False)
            loop.append(time.perf_counter() - t)
            cold.append(t1 - t)
            with tempfile.TemporaryDirectory() as empty:
                t = time.perf_counter()
                subprocess.run(draft_cmd + ["--out", str(tmp / "d2.yaml")], check=True, capture_output=True,
                               env={**os.environ, "KG_CACHE_DIR": empty})
                nocache.append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "from kg.draft import segment; segment.segmenter(())"], env=env, check=True)
            floor.append(time.perf_counter() - t)
            t = time.perf_counter()
            build(ROOT / "data", SOURCES, tmp / "build-curated", with_reasoning=False)
            baseline.append(time.perf_counter() - t)
    shutil.rmtree(cache, ignore_errors=True)
    load1 = os.getloadavg()
    med = statistics.median
    print(f"document: {len(text)} characters")
    print(f"draft in-process (warm): median {med(warm):.2f} s = {len(text) / med(warm):,.0f} chars/s")
    print(f"load average at start {load0[0]:.2f}, at end {load1[0]:.2f}")
    print(f"kg draft process, cold, jieba cache in the per-user cache dir: median {med(cold):.2f} s = {len(text) / med(cold):,.0f} chars/s")
    print(f"kg draft process, cold, empty cache dir (jieba parses dict.txt): median {med(nocache):.2f} s")
    print(f"floor: a process that imports kg.draft and loads the dictionary (cache present): median {med(floor):.2f} s")
    print(f"draft -> accept -> build (no reasoner): median {med(loop):.1f} s")
    print(f"baseline: kg build of the curated data (no reasoner): median {med(baseline):.1f} s")


if __name__ == "__main__":
    main()
