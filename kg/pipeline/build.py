"""The build pipeline: data/ -> records -> RDF -> validate -> reason -> build/.

Outputs are staged in a temporary folder inside the build folder and moved into place only
after every stage has succeeded, so a failed or killed build leaves the previous build intact.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Dataset, Graph
from rdflib.compare import to_canonical_graph
from rdflib.namespace import RDF, RDFS

from kg import paths
from kg.read import store as kgstore
from kg.pipeline import void
from kg.errors import InputError, NonConformance, Position
from kg.pipeline.evidence import read_sources
from kg.publish.link import add_links
from kg.namespaces import ID, INFERRED_GRAPH, ONTOLOGY_GRAPH, YF, curie
from kg.pipeline.rdfize import rdfize
from kg.pipeline.reason import ReasonResult, reason
from kg.pipeline.records import load_curated
from kg.pipeline.validate import ValidationReport, data_graph, validate

OUTPUT_FORMATS = ("trig", "nq", "ttl", "nt", "jsonld")


@dataclass
class BuildResult:
    """What a build produced: where, how much, and what it warned about."""

    out_dir: Path
    report: dict
    validation: ValidationReport
    reasoning: ReasonResult | None
    warnings: list[str] = field(default_factory=list)


def load_graph(path: Path) -> Graph:
    """Parse a Turtle file, turning a syntax error into an InputError with the file.

    Blank nodes (OWL lists and restrictions) get canonical labels, so that the same file
    gives the same bytes in every build.
    """
    g = Graph()
    try:
        g.parse(path, format="turtle")
    except FileNotFoundError as exc:
        raise InputError("file not found", Position(str(path))) from exc
    except Exception as exc:  # rdflib raises several parser error types
        raise InputError(f"does not parse as Turtle: {exc}", Position(str(path))) from exc
    if not any(isinstance(t, BNode) for triple in g for t in triple):
        return g
    canonical = Graph()
    for triple in to_canonical_graph(g):
        canonical.add(triple)
    return canonical


def asserted(data_dir: Path, sources_dir: Path | None, ontology: Graph) -> tuple[Dataset, list[str], object]:
    """Load the curated data and turn it into the asserted dataset (no files written)."""
    curated = load_curated(data_dir)
    sources = read_sources(curated, sources_dir)
    warnings = []
    if sources.missing:
        warnings.append(
            "source document(s) not found, quotes left out: " + ", ".join(sources.missing)
            + (f" (looked in {sources_dir})" if sources_dir else " (no sources folder given: --sources or KG_SOURCES)")
        )
    ds = rdfize(curated, ontology, sources)
    add_links(ds, data_dir)
    return ds, warnings, sources


def build(
    data_dir: Path | None = None,
    sources_dir: Path | None = None,
    out_dir: Path | None = None,
    *,
    with_reasoning: bool = True,
    progress=None,
) -> BuildResult:
    """Run the whole pipeline and write build/ atomically.

    Args:
        data_dir, sources_dir, out_dir: defaults from :mod:`kg.paths`.
        with_reasoning: run HermiT (default) or skip it.
        progress: optional callable(str) told about each stage.
    Raises:
        InputError: bad input (exit 2). NonConformance: SHACL, checks or consistency fail (exit 1).
    """
    say = progress or (lambda _msg: None)
    data_dir = Path(data_dir or paths.data_dir())
    sources_dir = sources_dir if sources_dir is not None else paths.sources_dir()
    out_dir = Path(out_dir or paths.build_dir())
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, start: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - start, 3)
        return now

    say("loading ontology and shapes")
    ontology = load_graph(paths.ontology_file())
    shapes = load_graph(paths.shapes_file())
    say(f"loading curated data from {data_dir}")
    ds, warnings, _ = asserted(data_dir, sources_dir, ontology)
    t = lap("load+rdfize", t0)
    say("validating (SHACL and check queries)")
    validation = validate(ds, ontology, shapes, paths.queries_dir())
    t = lap("validate", t)
    if not validation.conforms:
        raise NonConformance("the data does not conform:\n" + validation.text())
    result = None
    if with_reasoning:
        say("reasoning (owlready2 + HermiT)")
        result = reason(ontology, data_graph(ds))
        t = lap("reason", t)
        if result.skipped:
            warnings.append("reasoning skipped: " + result.skipped)
    full = assemble(ds, ontology, result)
    quads = kgstore.dataset_quads(full)
    report = make_report(ds, quads, validation, result, warnings, timings)
    say(f"writing {out_dir}")
    write_outputs(quads, report, out_dir)
    lap("write", t)
    report["timings_s"] = timings
    return BuildResult(out_dir, report, validation, result, warnings)


def assemble(ds: Dataset, ontology: Graph, result: ReasonResult | None) -> Dataset:
    """The dataset to publish: asserted graphs, the ontology graph, the inferred graph."""
    full = Dataset()
    for s, p, o, g in ds.quads((None, None, None, None)):
        full.graph(g.identifier if isinstance(g, Graph) else g).add((s, p, o))
    og = full.graph(ONTOLOGY_GRAPH)
    for triple in ontology:
        og.add(triple)
    if result is not None and len(result.inferred):
        ig = full.graph(INFERRED_GRAPH)
        for triple in result.inferred:
            ig.add(triple)
    return full


def make_report(ds: Dataset, quads, validation: ValidationReport, result: ReasonResult | None,
                warnings: list[str], timings: dict) -> dict:
    """report.json: counts per class and graph, evidence coverage, warnings."""
    per_graph: dict[str, int] = {}
    for q in quads:
        per_graph[q.graph_name.value] = per_graph.get(q.graph_name.value, 0) + 1
    union = data_graph(ds)
    per_class: dict[str, int] = {}
    for s, _, c in union.triples((None, RDF.type, None)):
        if str(s).startswith(str(ID)) and not str(s).startswith(str(ID) + "statement/"):
            key = curie(str(c))
            per_class[key] = per_class.get(key, 0) + 1
    statements = set(union.subjects(RDF.type, RDF.Statement))
    with_evidence = {s for s in statements if (s, YF.evidence, None) in union}
    entities = {s for s, _, _ in union.triples((None, RDFS.label, None)) if str(s).startswith(str(ID))}
    no_en = sorted(str(e) for e in entities if not any(l.language == "en" for l in union.objects(e, RDFS.label)))
    quotes = sum(1 for q in quads if q.predicate.value.endswith("#exact"))
    return {
        "triples": len(quads),
        "triples_per_graph": dict(sorted(per_graph.items())),
        "instances_per_class": dict(sorted(per_class.items())),
        "facts": len(statements),
        "facts_with_evidence": len(with_evidence),
        "quotes": quotes,
        "entities": len(entities),
        "entities_without_en_label": no_en,
        "shacl_results": len(validation.violations),
        "checks_run": validation.checks_run,
        "reasoning": None if result is None else {
            "consistent": result.consistent,
            "inferred_triples": len(result.inferred),
            "input_triples": result.input_triples,
            "skipped": result.skipped,
        },
        "warnings": warnings,
    }


def write_outputs(quads, report: dict, out_dir: Path) -> None:
    """Stage every output in out_dir/.staging-*, then move each into place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    try:
        for fmt in OUTPUT_FORMATS:
            (staging / f"kg.{fmt}").write_bytes(kgstore.serialize(quads, fmt))
        (staging / "void.ttl").write_bytes(void.describe(quads))
        (staging / "report.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        kgstore.write_disk_store(quads, staging / "store")
        _publish(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: Path, out_dir: Path) -> None:
    # The store is a folder: swap it by renaming the old one aside first.
    old = out_dir / "store"
    if old.exists():
        aside = Path(tempfile.mkdtemp(prefix=".old-store-", dir=out_dir))
        os.replace(old, aside / "store")
        os.replace(staging / "store", old)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(staging / "store", old)
    for f in sorted(staging.iterdir()):
        if f.is_file():
            os.replace(f, out_dir / f.name)
