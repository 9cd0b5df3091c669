"""The command line: ``kg <verb>`` (also ``python -m kg``).

Results go to stdout (or ``-o FILE``), diagnostics to stderr through the ``kg`` logger (``-v``
for more, ``-q`` for errors only). Exit codes: 0 ok, 1 the data does not conform or a check
failed, 2 bad usage or bad input, 3 unexpected error.

Start-up stays short because the parser imports only the module of the verb being run: every
verb is listed here with its one-line help, and its module registers its options only when the
verb is chosen (``kg --version`` imports no verb module at all).
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import traceback
from pathlib import Path

from kg import __version__
from kg.errors import KGError, NonConformance

EXIT_OK, EXIT_NONCONFORM, EXIT_INPUT, EXIT_UNEXPECTED = 0, 1, 2, 3

log = logging.getLogger("kg")

# verb -> (module that registers it, or None for the verbs defined here; one-line help)
VERBS: dict[str, tuple[str | None, str]] = {
    "build": (None, "load, validate, reason and write build/"),
    "validate": (None, "check the curated data: records, evidence, SHACL shapes, check queries (all errors at once)"),
    "reason": (None, "HermiT consistency check and inferred facts"),
    "stats": (None, "counts per class, evidence coverage, missing labels"),
    "query": ("kg.read.query", "run a named query, a .rq file or SPARQL from stdin (-)"),
    "explain": ("kg.read.explain", "every fact in and out of an entity, with evidence"),
    "path": ("kg.read.path", "shortest connections between two entities"),
    "search": ("kg.read.search", "find entities by label, alias or pinyin"),
    "link": ("kg.publish.link", "which entities have which external identifiers; propose Wikidata links"),
    "export": ("kg.publish.export", "write the graph as RDF, GraphML, GEXF, CSV tables or QuickStatements"),
    "push": ("kg.publish.push", "put every named graph into a SPARQL store and count it back"),
    "viz": ("kg.views.viz", "write the interactive graph explorer as one offline HTML file"),
    "serve": ("kg.server.serve", "serve SPARQL, Linked Data pages and the explorer over HTTP"),
    "draft": ("kg.draft.cli", "draft facts from a new report, accept a reviewed draft, or evaluate"),
    "chart": ("kg.views.chart", "draw a charted named query or an entity's observations as SVG"),
}
# Verbs other modules add (kept for modules that extend the CLI): registered only when chosen.
VERB_MODULES: list[str] = sorted({m for m, _ in VERBS.values() if m})

# What `kg VERB --help` says beyond the options (verbs whose module does not say it itself).
DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "build": ("Build the graph from the curated data: load the records, check their evidence, turn them into\n"
              "RDF, validate (SHACL and check queries), reason (HermiT) and write build/ atomically.",
              "examples:\n  kg build\n  kg build --no-reason --out /tmp/kg-build\n  kg -q build"),
    "validate": ("Check the curated data without building: every record, evidence span, SHACL shape and check\n"
                 "query, all errors in one run, each with its file:line and field. Exit 1 if any fails.",
                 "examples:\n  kg validate\n  kg validate --format json | jq '.errors[] | .where'"),
    "reason": ("Run the HermiT reasoner (needs Java) over the curated data: consistency and inferred facts.",
               "examples:\n  kg reason\n  kg reason --show"),
    "stats": ("Counts of the build: triples, instances per class, evidence coverage, missing English labels;\n"
              "with --centrality the most central entities.",
              "examples:\n  kg stats\n  kg stats --format json | jq .classes\n  kg stats --centrality --top 5"),
    "explain": ("Every fact in and out of one entity, grouped by predicate, with the passage stating it.\n"
                "ENTITY is an id, prefix:local, any IRI the server serves, a label, an alias or pinyin.",
                "examples:\n  kg explain 金嗓子\n  kg explain jinsangzi --lang en\n  kg explain yfid:level-national\n"
                "  kg explain yfid:jinsangzi --format json | jq '.out | length'"),
    "path": ("The shortest connections between two entities, each hop in its real direction.",
             "examples:\n  kg path 金嗓子 工业振兴大会战\n  kg path jinsangzi wangmei-cun --max 2 --format json"),
    "search": ("Entities whose label, alias or pinyin (with or without tones) matches TEXT, best first.",
               "examples:\n  kg search 白沙\n  kg search baisha --format json | jq '.[0].iri'"),
    "link": ("Which entities have which external identifiers (Wikidata, GeoNames, division codes...),\n"
             "and Wikidata candidates for review (--propose, needs network).",
             "examples:\n  kg link\n  kg link --missing --format json | jq length"),
    "export": ("Write the graph in another format for other tools.",
               "examples:\n  kg export --format graphml -o kg.graphml\n  kg export --format nt -o - | wc -l"),
    "push": ("Put every named graph into a SPARQL store (Virtuoso, Fuseki, Oxigraph) and count it back.",
             "examples:\n  kg push --endpoint http://127.0.0.1:8890/sparql --user dba"),
    "viz": ("Write the interactive graph explorer (vis-network, offline) as one HTML file.",
            "examples:\n  kg viz\n  kg viz --focus 金嗓子 --depth 2 -o jinsangzi.html"),
    "serve": ("Serve the SPARQL endpoint, Linked Data pages, the query page and the explorer.",
              "examples:\n  kg serve\n  kg serve --port 8080"),
}


class UsageError(KGError):
    """Bad command-line usage (exit 2); the verb's own usage line is printed before it."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2 on bad usage: keep the code, raise our error instead
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: {message}")


class _StderrHandler(logging.Handler):
    """Log records to the current sys.stderr as ``kg: message`` / ``kg: warning: message``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
            sys.stderr.write(f"kg: {level}{record.getMessage()}\n")
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def configure_logging(verbosity: int) -> None:
    """Send the ``kg`` logger to stderr: -1 errors only, 0 progress (info), 1+ debug."""
    log.handlers[:] = [_StderrHandler()]
    log.propagate = False
    log.setLevel({-1: logging.ERROR, 0: logging.INFO}.get(verbosity, logging.DEBUG))


def _progress(quiet: bool = False):
    """A progress callback for the pipeline (logged at info: shown unless -q)."""
    if quiet:
        return None
    return lambda msg: log.info(msg)


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
        log.warning(w)
    return EXIT_OK


def _asserted(args):
    from kg import paths
    from kg.pipeline.build import asserted, load_graph

    ontology = load_graph(paths.ontology_file())
    sources = args.sources if args.sources is not None else paths.sources_dir()
    ds, warnings, _ = asserted(Path(args.data or paths.data_dir()), sources, ontology)
    for w in warnings:
        log.warning(w)
    return ds, ontology


def cmd_validate(args) -> int:
    from kg import paths
    from kg.pipeline.build import load_graph
    from kg.pipeline.validate import validate_data
    from kg.read.table import emit

    sources = args.sources if args.sources is not None else paths.sources_dir()
    report = validate_data(Path(args.data or paths.data_dir()), sources, shapes=load_graph(paths.shapes_file()),
                           ontology=load_graph(paths.ontology_file()))
    if args.format == "json":
        emit(json.dumps(report.as_json(), ensure_ascii=False, indent=2) + "\n", args.out)
    else:
        emit(report.text() + "\n" + ("conforms\n" if report.conforms else "DOES NOT CONFORM\n"), args.out)
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
    from kg.read.table import emit

    if args.centrality:
        from kg.read.analytics import cmd_centrality

        return cmd_centrality(args)

    s = stats(args.build)
    emit((json.dumps(s, ensure_ascii=False, indent=2) if args.format == "json" else stats_text(s)) + "\n", args.out)
    return EXIT_OK


def _common_inputs(p):
    p.add_argument("--data", type=Path, help="curated data folder (default: data/ or $KG_DATA)")
    p.add_argument("--sources", type=Path, help="folder of source documents, for quotes (default: $KG_SOURCES)")


def _out(p, what: str = "the result") -> None:
    p.add_argument("-o", "--out", metavar="FILE", help=f"write {what} to FILE (- for stdout, the default)")


def _register_builtin(sub, verb: str) -> None:
    if verb == "build":
        p = sub.add_parser("build", help=VERBS["build"][1])
        _common_inputs(p)
        p.add_argument("-o", "--out", type=Path, metavar="DIR", help="output folder (default: build/ or $KG_BUILD)")
        p.add_argument("--no-reason", action="store_true", help="skip the reasoner")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
        p.set_defaults(func=cmd_build)
    elif verb == "validate":
        p = sub.add_parser("validate", help=VERBS["validate"][1])
        _common_inputs(p)
        p.add_argument("--format", choices=["text", "json"], default="text")
        _out(p, "the report")
        p.set_defaults(func=cmd_validate)
    elif verb == "reason":
        p = sub.add_parser("reason", help=VERBS["reason"][1])
        _common_inputs(p)
        p.add_argument("--show", action="store_true", help="print the inferred triples")
        p.set_defaults(func=cmd_reason)
    elif verb == "stats":
        p = sub.add_parser("stats", help=VERBS["stats"][1])
        p.add_argument("--build", type=Path, help="build folder (default: build/)")
        p.add_argument("--format", choices=["text", "json"], default="text")
        p.add_argument("--centrality", action="store_true",
                       help="top entities by degree, PageRank, betweenness, and communities")
        p.add_argument("--top", type=int, default=10, metavar="N", help="with --centrality: how many (default 10)")
        _out(p)
        p.set_defaults(func=cmd_stats)


def _chosen_verb(argv: list[str]) -> str | None:
    """The verb on the command line (the first word that is not an option), if it is one."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in VERBS else None
    return None


def make_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the chosen verb's module is imported (all of them when argv is None)."""
    parser = _Parser(prog="kg", description="Yufeng KG: build, check, query, show and publish the graph.",
                     epilog="`kg VERB --help` describes a verb, with examples.")
    parser.add_argument("--version", action="version", version=f"kg {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, dest="log_verbose",
                        help="more messages on stderr (-vv: debug)")
    parser.add_argument("-q", "--quiet", action="store_true", dest="log_quiet", help="errors only on stderr")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    parser.verb_parsers = sub.choices  # type: ignore[attr-defined]
    chosen = _chosen_verb(argv) if argv is not None else None
    for verb, (module, help_text) in VERBS.items():
        if argv is not None and verb != chosen:
            sub.add_parser(verb, help=help_text)  # listed in `kg --help`, options unknown until chosen
            continue
        if module is None:
            _register_builtin(sub, verb)
        else:
            importlib.import_module(module).register(sub)
        p = sub.choices[verb]
        if verb in DESCRIPTIONS and not p.description:
            p.description, p.epilog = DESCRIPTIONS[verb]
            p.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (never raises for expected errors)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    configure_logging(0)
    try:
        parser = make_parser(argv)
        args, extra = parser.parse_known_args(argv)
        if extra:  # argparse would blame the top-level parser: let the verb's own parser say it
            verb_parser = getattr(parser, "verb_parsers", {}).get(args.verb) if args.verb else None
            (verb_parser or parser).error(f"unrecognized arguments: {' '.join(extra)}")
    except UsageError as exc:
        log.error(exc)
        return EXIT_INPUT
    except KGError as exc:  # a verb module's register() refusing (should not happen)
        log.error(exc)
        return EXIT_INPUT
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0)
    configure_logging(-1 if args.log_quiet else args.log_verbose)
    if not getattr(args, "func", None):
        make_parser(argv).print_help(sys.stderr)
        return EXIT_INPUT
    try:
        return args.func(args)
    except NonConformance as exc:
        log.error(exc)
        return EXIT_NONCONFORM
    except (KGError, FileNotFoundError) as exc:  # bad input, missing build, missing Java
        log.error(exc)
        return EXIT_INPUT
    except BrokenPipeError:  # `kg query ... | head`: the reader left, which is fine
        try:
            sys.stdout = open(__import__("os").devnull, "w")  # noqa: SIM115 - silence the flush at exit
        except OSError:
            pass
        return EXIT_OK
    except OSError as exc:  # a file or folder the user named cannot be read or written
        if exc.filename is None and not isinstance(exc, PermissionError):
            traceback.print_exc()
            print("kg: unexpected error (a bug): please report it with the trace above", file=sys.stderr)
            return EXIT_UNEXPECTED
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"kg: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception:  # noqa: BLE001 - the last resort: say it is a bug, with the trace
        traceback.print_exc()
        log.critical("unexpected error (a bug): please report it with the trace above")
        return EXIT_UNEXPECTED
