"""`kg search TEXT`: entities by label, alias or pinyin (with or without tones), ranked."""
from __future__ import annotations

import sys
from pathlib import Path

from kg import paths
from kg.read.describe import Index
from kg.namespaces import curie


def cmd_search(args) -> int:
    """Print the entities matching args.text, best first; exit 1 when none matches."""
    from kg.read.store import open_store

    hits = Index(open_store(args.build or paths.build_dir())).search(args.text, limit=args.limit)
    if not hits:
        print(f"no entity matches {args.text!r}", file=sys.stderr)
        return 1
    for h in hits:
        types = ",".join(h.types)
        print(f"{h.score:.2f}  {curie(h.iri)}  {h.label_zh} / {h.label_en}  [{types}]  matched: {h.matched}")
    return 0


def register(sub) -> None:
    """Add `kg search` to the CLI."""
    p = sub.add_parser("search", help="find entities by label, alias or pinyin")
    p.add_argument("text")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--build", type=Path, help="build folder (default: build/ or $KG_BUILD)")
    p.set_defaults(func=cmd_search)
