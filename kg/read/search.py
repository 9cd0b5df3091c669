"""`kg search TEXT`: entities by label, alias or pinyin (with or without tones), ranked."""
from __future__ import annotations

import sys
from pathlib import Path

from kg import paths
from kg.read.describe import Index
from kg.namespaces import curie


def cmd_search(args) -> int:
    """Print the entities matching args.text, best first; exit 1 when none matches."""
    import json
    from dataclasses import asdict

    from kg.read.store import open_store
    from kg.read.table import emit, render

    hits = Index(open_store(args.build or paths.build_dir())).search(args.text, limit=args.limit)
    if args.format == "json":
        emit(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=1) + "\n", args.out)
        return 0 if hits else 1
    if not hits:
        print(f"no entity matches {args.text!r}", file=sys.stderr)
        return 1
    rows = [[f"{h.score:.2f}", curie(h.iri), h.label_zh if args.lang == "zh" else h.label_en,
             ",".join(h.types), h.matched] for h in hits]
    emit(render(["score", "id", "label", "types", "matched"], rows, right={0}) + "\n", args.out)
    return 0


def register(sub) -> None:
    """Add `kg search` to the CLI."""
    p = sub.add_parser("search", help="find entities by label, alias or pinyin")
    p.add_argument("text")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="label language shown (default zh)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("-o", "--out", metavar="FILE", help="write to FILE (- for stdout, the default)")
    p.add_argument("--build", type=Path, help="build folder (default: build/ or $KG_BUILD)")
    p.set_defaults(func=cmd_search)
