"""The ``kg draft`` verb: draft a report, accept a reviewed draft, evaluate the drafter.

    kg draft FILE --published YYYY-MM [--id DOC_ID] [--out DRAFT.yaml]
    kg draft accept DRAFT.yaml [--only ID ...] [--data DIR] [--sources DIR]
    kg draft --evaluate [--sources DIR] [--data DIR]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from kg.errors import InputError, NonConformance, Position


def register(sub) -> None:
    """Add `kg draft` to the CLI."""
    p = sub.add_parser("draft", help="draft facts from a new report, accept a reviewed draft, or evaluate",
                       description=__doc__.split("\n\n")[1] if __doc__ else None)
    p.add_argument("file", nargs="?", help="the report (UTF-8 text), or `accept`")
    p.add_argument("draft", nargs="?", help="with `accept`: the reviewed draft YAML")
    p.add_argument("--published", help="publication date YYYY-MM (relative dates resolve against it)")
    p.add_argument("--id", dest="doc_id", help="document id (default: the file name's stem)")
    p.add_argument("--out", type=Path, help="draft file (default: data/drafts/<doc-id>.yaml)")
    p.add_argument("--only", nargs="+", metavar="ID", help="with accept: only these record/entity ids")
    p.add_argument("--data", type=Path, help="curated data folder (default data/ or $KG_DATA)")
    p.add_argument("--sources", type=Path, help="source documents folder (default ../shared/sources or $KG_SOURCES)")
    p.add_argument("--evaluate", action="store_true", help="score drafts of the real and the eval documents")
    p.set_defaults(func=cmd_draft)


def read_report(path: Path) -> str:
    """The report's text, refusing what is not a UTF-8 text file with something in it."""
    if not path.is_file():
        raise InputError("no such file", Position(str(path)))
    data = path.read_bytes()
    if b"\x00" in data:
        raise InputError("a binary file (NUL bytes), not a text report", Position(str(path)))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 (byte {exc.start}: {exc.reason}); convert it first, e.g. iconv -f GB18030 -t UTF-8",
                         Position(str(path), line)) from exc
    if not text.strip():
        raise InputError("the file is empty", Position(str(path)))
    return text


def _registry(data_dir: Path) -> list[dict]:
    from kg.pipeline.records import read_yaml

    raw = read_yaml(data_dir / "entities.yaml")
    return [dict(e) for e in raw.get("entities") or []]


def cmd_draft(args) -> int:
    from kg import paths

    data_dir = Path(args.data or paths.data_dir())
    if args.evaluate:
        return _evaluate(args, data_dir)
    if args.file == "accept":
        return _accept(args, data_dir)
    if not args.file:
        raise InputError("give the report to draft (kg draft FILE --published YYYY-MM), `accept DRAFT`, or --evaluate")
    if not args.published:
        raise InputError("--published YYYY-MM is required: relative dates (去年, 今年9月) resolve against it")
    from kg.draft.dates import Published
    from kg.draft.draft import draft_text
    from kg.draft.review import render
    from kg.draft.writer import write_atomic, write_draft

    try:
        Published.parse(args.published)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    path = Path(args.file)
    text = read_report(path)
    doc_id = args.doc_id or path.stem
    t0 = time.perf_counter()
    draft = draft_text(text, args.published, _registry(data_dir), doc_id, path.name)
    out = Path(args.out or data_dir / "drafts" / f"{doc_id}.yaml")
    write_draft(draft, out)
    page = out.with_suffix(".html")
    write_atomic(page, render(draft))
    n = {k: sum(1 for r in draft.records if test(r)) for k, test in (
        ("figures", lambda r: "value" in r), ("conferrals", lambda r: r.get("type") == "DesignationConferral"),
        ("dated events", lambda r: "date" in r and r.get("type") != "DesignationConferral"),
        ("mentions", lambda r: "about" in r))}
    print(f"drafted {out}: {len(draft.records)} records ({', '.join(f'{v} {k}' for k, v in n.items())}), "
          f"{len(draft.entities)} proposed entities in {time.perf_counter() - t0:.2f} s")
    print(f"review page: {page}")
    return 0


def _accept(args, data_dir: Path) -> int:
    from kg.draft.accept import accept

    if not args.draft:
        raise InputError("kg draft accept DRAFT.yaml: which draft?")
    res = accept(Path(args.draft), data_dir, args.only, args.sources)
    for w in res.warnings:
        print(f"kg: warning: {w}", file=sys.stderr)
    print(f"accepted into {res.facts_file}: {res.records_added} record(s), {res.entities_added} new registry entit"
          f"{'y' if res.entities_added == 1 else 'ies'}" + ("" if res.records_added or res.entities_added else " (all already there)"))
    return 0


def _evaluate(args, data_dir: Path) -> int:
    from kg import paths
    from kg.draft.evaluate import TARGETS, evaluate_eval, evaluate_facts

    sources = Path(args.sources or paths.sources_dir() or "")
    registry = _registry(data_dir)
    evals = []
    real = sources / "000_b3b90ce150a63deb.txt"
    facts = data_dir / "facts" / "000_b3b90ce150a63deb.yaml"
    if real.is_file() and facts.is_file():
        evals.append(evaluate_facts(real, facts, registry))
    for text in sorted((sources / "eval").glob("*.txt")) if (sources / "eval").is_dir() else []:
        gold = text.with_suffix(".gold.yaml")
        if gold.is_file():
            evals.append(evaluate_eval(text, gold, registry))
    own = paths.project_root() / "tests" / "fixtures" / "draft"
    for text in sorted(own.glob("*.txt")) if own.is_dir() else []:
        gold = text.with_suffix(".gold.yaml")
        if gold.is_file():
            evals.append(evaluate_eval(text, gold, registry))
    if not evals:
        raise InputError(f"nothing to evaluate: no source documents under {sources} (--sources DIR)")
    for ev in evals:
        print(ev.table())
    missed = [ev.name for ev in evals if any(ev.headline()[k] < v for k, v in TARGETS.items())]
    return 1 if missed else 0
