"""Benchmark kg draft: characters per second on the real report, and draft -> accept -> build.

Usage: .venv/bin/python bench/draft_bench.py [--runs 5]
Drafting is timed in-process after one warm-up (jieba's dictionary loads once per process) and
also as a cold `kg draft` process; the loop is a fresh scratch data folder (registry cut back to
what was known before the report) drafted, accepted and built without the reasoner, then with it.
The baseline beside it is the time of `kg build` of the same scratch folder with the curated
(hand-written) fact file instead of the accepted draft. Medians are reported.
"""
from __future__ import annotations

import argparse
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
    cold = []
    loop, baseline = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            data = tmp / "data"
            (data / "facts").mkdir(parents=True)
            (data / "entities.yaml").write_text(yaml.safe_dump({"entities": cut}, allow_unicode=True), encoding="utf-8")
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "kg", "draft", str(SOURCES / f"{DOC}.txt"), "--published", "2024-01",
                            "--data", str(data)], check=True, capture_output=True)
            t1 = time.perf_counter()
            accept(data / "drafts" / f"{DOC}.yaml", data, None, SOURCES)
            build(data, SOURCES, tmp / "build", with_reasoning=False)
            loop.append(time.perf_counter() - t)
            cold.append(t1 - t)
            t = time.perf_counter()
            build(ROOT / "data", SOURCES, tmp / "build-curated", with_reasoning=False)
            baseline.append(time.perf_counter() - t)
    med = statistics.median
    print(f"document: {len(text)} characters")
    print(f"draft in-process (warm): median {med(warm):.2f} s = {len(text) / med(warm):,.0f} chars/s")
    print(f"kg draft process (cold, incl. imports and jieba dictionary): median {med(cold):.2f} s = {len(text) / med(cold):,.0f} chars/s")
    print(f"draft -> accept -> build (no reasoner): median {med(loop):.1f} s")
    print(f"baseline: kg build of the curated data (no reasoner): median {med(baseline):.1f} s")


if __name__ == "__main__":
    main()
