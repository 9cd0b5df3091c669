"""The command line: ``kg <verb>`` (also ``python -m kg``).

Results go to stdout, diagnostics to stderr. Exit codes: 0 ok, 1 the data does not conform
or a check failed, 2 bad usage or bad input, 3 unexpected error.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from pathlib import Path

from kg import __version__
from kg.errors import KGError, NonConformance

EXIT_OK, EXIT_NONCONFORM, EXIT_INPUT, EXIT_UNEXPECTED = 0, 1, 2, 3

# Modules that add verbs of their own: each has register(subparsers) setting `func` on its parser.
VERB_MODULES: list[str] = ["kg.read.query", "kg.read.explain", "kg.read.path", "kg.read.search", "kg.publish.link",
                           "kg.publish.export", "kg.publish.push", "kg.views.viz", "kg.server.serve", "kg.draft.cli",
                           "kg.views.chart"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2 on bad usage: keep that, with our prefix
        self.print_usage(sys.stderr)
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _progress(quiet: bool):
    if quiet:
        return None
    return lambda msg: print(f"kg: {msg}", file=sys.stderr)


def cmd_build(args) -> int:
    from kg.pipeline.build import build

    result = build(args.data, args.sources, args.out, with_reasoning=not args.no_reason,
                   progress=_progress(args.quiet))
    r = result.report
    print(f"built {result.out_dir}: {r['triples']} triples in {len(r['triples_per_graph'])} graphs, "
          f"{r['entities']} labelled nodes, {r['facts']} facts ({r['facts_with_evidence']} with evidence), "
          f"{r['quotes']} quotes")
    for cls, n in sorted(r["instances_per_class"].items(), key=lambda kv: (-kv[1], kv[0]))[:12]:
        print(f"  {n:5d}  {cls}")
    if r["reasoning"]:
        rr = r["reasoning"]
        print(f"reasoning: {'consistent' if rr['consistent'] else 'INCONSISTENT'}, "
              f"{rr['inferred_triples']} inferred triples" + (f" (skipped: {rr['skipped']})" if rr["skipped"] else ""))
    for w in result.warnings:
        print(f"kg: warning: {w}", file=sys.stderr)
    return EXIT_OK


def _asserted(args):
    from kg import paths
    from kg.pipeline.build import asserted, load_graph

    ontology = load_graph(paths.ontology_file())
    sources = args.sources if args.sources is not None else paths.sources_dir()
    ds, warnings, _ = asserted(Path(args.data or paths.data_dir()), sources, ontology)
    for w in warnings:
        print(f"kg: warning: {w}", file=sys.stderr)
    return ds, ontology


def cmd_validate(args) -> int:
    from kg import paths
    from kg.pipeline.build import load_graph
    from kg.pipeline.validate import validate

    ds, ontology = _asserted(args)
    report = validate(ds, ontology, load_graph(paths.shapes_file()), paths.queries_dir())
    if args.format == "json":
        print(json.dumps({
            "conforms": report.conforms,
            "violations": [v.__dict__ for v in report.violations],
            "check_failures": [f.__dict__ for f in report.check_failures],
            "checks_run": report.checks_run,
        }, ensure_ascii=False, indent=2))
    else:
        print(report.text())
        print("conforms" if report.conforms else "DOES NOT CONFORM")
    return EXIT_OK if report.conforms else EXIT_NONCONFORM


def cmd_reason(args) -> int:
    from kg.pipeline.reason import reason
    from kg.pipeline.validate import data_graph

    ds, ontology = _asserted(args)
    result = reason(ontology, data_graph(ds))
    if result.skipped:
        print(f"reasoning skipped: {result.skipped}")
        return EXIT_OK
    print(f"consistent: HermiT found no contradiction in {result.input_triples} triples; "
          f"{len(result.inferred)} inferred triples")
    if args.show:
        for s, p, o in sorted(result.inferred):
            print(f"  {s.n3()} {p.n3()} {o.n3()}")
    return EXIT_OK


def cmd_stats(args) -> int:
    from kg.read.stats import stats, stats_text

    if args.centrality:
        from kg.read.analytics import cmd_centrality

        return cmd_centrality(args)

    s = stats(args.build)
    print(json.dumps(s, ensure_ascii=False, indent=2) if args.format == "json" else stats_text(s))
    return EXIT_OK


def _common_inputs(p):
    p.add_argument("--data", type=Path, help="curated data folder (default: data/ or $KG_DATA)")
    p.add_argument("--sources", type=Path, help="folder of source documents, for quotes (default: $KG_SOURCES)")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kg", description="Yufeng KG: build, check, query, show and publish the graph.")
    parser.add_argument("--version", action="version", version=f"kg {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)

    p = sub.add_parser("build", help="load, validate, reason and write build/")
    _common_inputs(p)
    p.add_argument("--out", type=Path, help="output folder (default: build/ or $KG_BUILD)")
    p.add_argument("--no-reason", action="store_true", help="skip the reasoner")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("validate", help="SHACL shapes and check queries over the curated data")
    _common_inputs(p)
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("reason", help="HermiT consistency check and inferred facts")
    _common_inputs(p)
    p.add_argument("--show", action="store_true", help="print the inferred triples")
    p.set_defaults(func=cmd_reason)

    p = sub.add_parser("stats", help="counts per class, evidence coverage, missing labels")
    p.add_argument("--build", type=Path, help="build folder (default: build/)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--centrality", action="store_true",
                   help="top entities by degree, PageRank, betweenness, and communities")
    p.add_argument("--top", type=int, default=10, metavar="N", help="with --centrality: how many (default 10)")
    p.set_defaults(func=cmd_stats)

    for name in VERB_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (never raises for expected errors)."""
    try:
        args = make_parser().parse_args(argv)
    except _UsageError as exc:
        print(f"kg: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        make_parser().print_help(sys.stderr)
        return EXIT_INPUT
    try:
        return args.func(args)
    except NonConformance as exc:
        print(f"kg: {exc}", file=sys.stderr)
        return EXIT_NONCONFORM
    except (KGError, FileNotFoundError) as exc:  # bad input, missing build, missing Java
        print(f"kg: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except Exception:  # noqa: BLE001 - the last resort: say it is a bug, with the trace
        traceback.print_exc()
        print("kg: unexpected error (a bug): please report it with the trace above", file=sys.stderr)
        return EXIT_UNEXPECTED
