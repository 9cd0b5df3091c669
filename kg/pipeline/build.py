"""The build pipeline: data/ -> records -> RDF -> validate -> reason -> build/.

Publishing is one atomic switch (:func:`publish`): every output of a build is written into its own
folder ``build/releases/<id>/`` (ending with a manifest, ``BUILD.json``), then the symbolic link
``build/current`` is pointed at it with one ``os.replace``. The files users know
(``build/kg.trig``, ``build/kg.nq``, ``build/store``, ...) are links through ``current``, so they
always show one whole build: the old one until the switch, the new one after. A build killed at
any point leaves the previous build published; its half-written release is removed by the next
build, which also keeps only the previous release besides the new one. A lock (``fcntl.flock``
on ``build/.lock``) stops two builds from publishing into the same folder at once.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph
from rdflib.compare import to_canonical_graph
from rdflib.namespace import RDF, RDFS

from kg import paths
from kg.read import store as kgstore
from kg.pipeline import void
from kg.errors import InputError, NonConformance, Position
from kg.pipeline.evidence import read_sources
from kg.publish.link import add_links, links_graph, load_rows
from kg.namespaces import ID, INFERRED_GRAPH, LINKS_GRAPH, ONTOLOGY_GRAPH, REGISTRY_GRAPH, YF, curie
from kg.pipeline.rdfize import rdfize, rdfize_quads
from kg.pipeline.reason import Reasoning, ReasonResult
from kg.pipeline.records import load_curated
from kg.pipeline.validate import ValidationReport, validate

OUTPUT_FORMATS = ("trig", "nq", "ttl", "nt", "jsonld")


@dataclass
class BuildResult:
    """What a build produced: where, how much, and what it warned about."""

    out_dir: Path
    report: dict
    validation: ValidationReport
    reasoning: ReasonResult | None
    warnings: list[str] = field(default_factory=list)


def load_graph(path: Path, *, canonical: bool = True) -> Graph:
    """Parse a Turtle file, turning a syntax error into an InputError with the file.

    Blank nodes (OWL lists and restrictions) get canonical labels, so that the same file
    gives the same bytes in every build; ``canonical=False`` leaves the parser's labels, for a
    graph that is read but never published (the shapes: labelling them costs ~1.5 s).
    """
    g = Graph()
    try:
        g.parse(path, format="turtle")
    except FileNotFoundError as exc:
        raise InputError("file not found", Position(str(path))) from exc
    except Exception as exc:  # rdflib raises several parser error types
        raise InputError(f"does not parse as Turtle: {exc}", Position(str(path))) from exc
    if not canonical or not any(isinstance(t, BNode) for triple in g for t in triple):
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


def _source_warnings(sources, sources_dir: Path | None) -> list[str]:
    if not sources.missing:
        return []
    return ["source document(s) not found, quotes left out: " + ", ".join(sources.missing)
            + (f" (looked in {sources_dir})" if sources_dir else " (no sources folder given: --sources or KG_SOURCES)")]


def asserted_quads(data_dir: Path, sources_dir: Path | None, ontology: Graph,
                   timings: dict | None = None) -> tuple[list[ox.Quad], list[str]]:
    """What :func:`asserted` makes, as Oxigraph quads (each once, unsorted): the build's path.

    The same quads as ``dataset_quads(asserted(...)[0])`` (tests/test_build.py checks it), made
    without an rdflib Dataset in between, whose indexes cost more than the rest of the stage.
    """
    t = time.perf_counter()
    curated = load_curated(data_dir)
    t = _lap(timings, "records", t)
    sources = read_sources(curated, sources_dir)
    t = _lap(timings, "evidence", t)
    quads = rdfize_quads(curated, ontology, sources)
    quads += link_quads(quads, data_dir)
    _lap(timings, "rdfize", t)
    return quads, _source_warnings(sources, sources_dir)


def link_quads(quads: list[ox.Quad], data_dir: Path) -> list[ox.Quad]:
    """The links graph (kg.publish.link.add_links) for asserted quads: the verified rows of
    data_dir/links/*.tsv, checked against the slugs the quads type and labelled from the registry."""
    rows = load_rows(data_dir)
    if not rows:
        return []
    base, rdf_type, label = str(ID), ox.NamedNode(str(RDF.type)), ox.NamedNode(str(RDFS.label))
    registry = ox.NamedNode(str(REGISTRY_GRAPH))
    known, labels = set(), {}
    for q in quads:
        if q.predicate == rdf_type and isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(base):
            known.add(q.subject.value[len(base):])
        elif (q.predicate == label and q.graph_name == registry and isinstance(q.object, ox.Literal)
              and q.object.language in ("zh", "en")):
            labels.setdefault(q.subject.value[len(base):], {})[q.object.language] = q.object.value
    return kgstore.graph_quads(links_graph(rows, known, labels), LINKS_GRAPH)


def _lap(timings: dict | None, name: str, start: float) -> float:
    now = time.perf_counter()
    if timings is not None:
        timings[name] = round(timings.get(name, 0.0) + now - start, 3)
    return now


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
    timings: dict[str, float] = {}
    t = time.perf_counter()
    say("loading ontology and shapes")
    ontology = load_graph(paths.ontology_file())
    shapes = load_graph(paths.shapes_file(), canonical=False)  # read, never published
    t = _lap(timings, "ontology", t)
    say(f"loading curated data from {data_dir}")
    quads, warnings = asserted_quads(data_dir, sources_dir, ontology, timings)
    t = time.perf_counter()
    # HermiT (a Java process) reasons while Python validates: the two stages overlap on 2 cores.
    # Its errors wait for the validation, so invalid data is still reported as such first.
    reasoning = Reasoning(ontology, quads) if with_reasoning else None
    t = _lap(timings, "reason", t)
    try:
        say("validating (SHACL and check queries)" + (" while HermiT reasons" if reasoning else ""))
        validation = validate(quads, ontology, shapes, paths.queries_dir())
        t = _lap(timings, "validate", t)
        if not validation.conforms:
            raise NonConformance("the data does not conform:\n" + validation.text())
        result = None
        if reasoning is not None:
            say("reasoning (HermiT)")
            result = reasoning.result()
            t = _lap(timings, "reason", t)
            if result.skipped:
                warnings.append("reasoning skipped: " + result.skipped)
    finally:
        if reasoning is not None:
            reasoning.cancel()
    published = publishable(quads, ontology, result)
    report = make_report(quads, published, validation, result, warnings)
    t = _lap(timings, "report", t)
    say(f"writing {out_dir}")
    report["build_id"] = write_outputs(published, report, out_dir, timings)
    _lap(timings, "publish", t)
    report["timings_s"] = timings
    return BuildResult(out_dir, report, validation, result, warnings)


def assemble(ds: Dataset, ontology: Graph, result: ReasonResult | None) -> Dataset:
    """The dataset to publish as an rdflib Dataset: asserted graphs, the ontology graph, the
    inferred graph (the build itself uses :func:`publishable`, which gives the same quads)."""
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


def publishable(asserted: list[ox.Quad], ontology: Graph, result: ReasonResult | None) -> list[ox.Quad]:
    """Every quad the build publishes, each once, sorted: the asserted graphs, the ontology graph
    and the inferred graph."""
    quads = set(asserted)
    quads.update(kgstore.graph_quads(ontology, ONTOLOGY_GRAPH))
    if result is not None and len(result.inferred):
        quads.update(kgstore.graph_quads(result.inferred, INFERRED_GRAPH))
    return kgstore.sort_quads(quads)


def make_report(asserted: list[ox.Quad], quads: list[ox.Quad], validation: ValidationReport,
                result: ReasonResult | None, warnings: list[str], timings: dict | None = None) -> dict:
    """report.json: counts per class and graph, evidence coverage, warnings.

    Args:
        asserted: the asserted quads (classes, facts and labels are counted over their union).
        quads: every quad published (triples per graph, quotes).
    """
    per_graph: dict[str, int] = {}
    for q in quads:
        per_graph[q.graph_name.value] = per_graph.get(q.graph_name.value, 0) + 1
    base, statement_base = str(ID), str(ID) + "statement/"
    rdf_type, label, evidence = (ox.NamedNode(str(x)) for x in (RDF.type, RDFS.label, YF.evidence))
    statement_class = ox.NamedNode(str(RDF.Statement))
    typed, statements, with_evidence, labels = set(), set(), set(), {}
    for q in asserted:  # over the union of the asserted graphs: each triple counts once
        s, p, o = q.subject, q.predicate, q.object
        if p == rdf_type:
            typed.add((s, o))
            if o == statement_class:
                statements.add(s)
        elif p == evidence:
            with_evidence.add(s)
        elif p == label and isinstance(s, ox.NamedNode) and s.value.startswith(base):
            labels.setdefault(s.value, set()).add(o.language if isinstance(o, ox.Literal) else None)
    per_class: dict[str, int] = {}
    for s, c in typed:
        if isinstance(s, ox.NamedNode) and s.value.startswith(base) and not s.value.startswith(statement_base):
            key = curie(c.value)
            per_class[key] = per_class.get(key, 0) + 1
    no_en = sorted(e for e, langs in labels.items() if "en" not in langs)
    quotes = sum(1 for q in quads if q.predicate.value.endswith("#exact"))
    report = {
        "triples": len(quads),
        "triples_per_graph": dict(sorted(per_graph.items())),
        "instances_per_class": dict(sorted(per_class.items())),
        "facts": len(statements),
        "facts_with_evidence": len(statements & with_evidence),
        "quotes": quotes,
        "entities": len(labels),
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
    return report


PUBLISHED_NAMES = tuple(f"kg.{fmt}" for fmt in OUTPUT_FORMATS) + ("void.ttl", "report.json", "store")
"""What build/ shows at its top level (links through ``current``)."""


def write_outputs(quads, report: dict, out_dir: Path, timings: dict | None = None) -> str:
    """Write every output into a new release and publish it; returns the release id.

    Raises:
        InputError: out_dir cannot be written, or another build holds its lock.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with build_lock(out_dir):
            clean_stale(out_dir)
            release = new_release(out_dir)
            write_release(quads, report, release, timings)
            publish(out_dir, release)
            prune_releases(out_dir, keep=2)
            return release.name
    except PermissionError as exc:
        raise InputError(f"cannot write the build: {exc.strerror or exc} "
                         f"(is the folder read-only? choose another with --out)",
                         Position(str(exc.filename or out_dir))) from None


class build_lock:
    """An exclusive lock on out_dir/.lock for the time of a publish (fcntl; released on exit or death)."""

    def __init__(self, out_dir: Path):
        self.path = out_dir / ".lock"
        self.fd = None

    def __enter__(self):
        import fcntl

        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise InputError("another `kg build` is writing this build folder right now; wait for it to end",
                             Position(str(self.path))) from None
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()}\n".encode())
        return self

    def __exit__(self, *exc):
        import fcntl

        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        return False


def releases_dir(out_dir: Path) -> Path:
    return out_dir / "releases"


def new_release(out_dir: Path) -> Path:
    """A fresh, empty folder for a release, named by time and process (sorts by age)."""
    root = releases_dir(out_dir)
    root.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = Path(tempfile.mkdtemp(prefix=f"{stamp}-{os.getpid()}-", dir=root))
    os.chmod(path, 0o755)
    return path


def write_release(quads, report: dict, release: Path, timings: dict | None = None) -> None:
    """Every output into the release folder, the manifest last (a release without one is unfinished).

    The on-disk store is loaded from the kg.nq just written, in a thread (Oxigraph's bulk loader
    lets go of the GIL), while the other formats and VoID are written: on 2 cores they overlap.
    Its blank nodes are labelled by the loader, as in the in-memory store `kg serve` and
    `kg query` load from the same kg.nq.

    Args:
        quads: every quad of the build, sorted (as :func:`publishable` returns them).
    """
    t = time.perf_counter()
    nq = kgstore.serialize(quads, "nq", presorted=True)
    (release / "kg.nq").write_bytes(nq)
    loader = _StoreLoader(release / "kg.nq", release / "store")
    loader.start()
    try:
        files = {"kg.nq": nq}
        triples = kgstore.union_triples(quads)  # the triple formats' content, sorted once for both
        for fmt in OUTPUT_FORMATS:
            if fmt != "nq":
                files[f"kg.{fmt}"] = kgstore.serialize(quads, fmt, presorted=True, triples=triples)
        t = _lap(timings, "serialise", t)
        files["void.ttl"] = void.describe(quads, triples=triples)
        files["report.json"] = (json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
        t = _lap(timings, "void", t)
        for name, data in files.items():
            if name != "kg.nq":
                (release / name).write_bytes(data)
    finally:
        loader.join()
    t = _lap(timings, "store", t)
    if loader.error is not None:
        raise loader.error
    manifest = {"id": release.name, "quads": len(quads), "files": {n: len(d) for n, d in files.items()}}
    tmp = release / (kgstore.MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, release / kgstore.MANIFEST)


class _StoreLoader(threading.Thread):
    """Writes the on-disk Oxigraph store at ``path`` from an N-Quads file (keeps the error)."""

    def __init__(self, nq: Path, path: Path):
        super().__init__(name="kg-store-loader", daemon=True)
        self.nq, self.path = nq, path
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            store = ox.Store(str(self.path))
            store.bulk_load(path=str(self.nq), format=ox.RdfFormat.N_QUADS)
            store.flush()
            store.optimize()
            del store
        except BaseException as exc:  # noqa: BLE001 - handed to the writing thread, raised there
            self.error = exc


def _replace_with_link(link: Path, target: str) -> None:
    """Make link a symbolic link to target, atomically when link is already a link or a file."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    if link.is_dir() and not link.is_symlink():
        # a folder from a build made before releases: moved aside (removed by clean_stale)
        os.replace(link, link.with_name(f".old-{link.name}-{os.getpid()}"))
    os.replace(tmp, link)


def publish(out_dir: Path, release: Path) -> None:
    """Switch build/current to release (the one atomic step), then make sure the top-level names
    are links through current (they already are after the first build of this kind)."""
    _replace_with_link(out_dir / "current", os.path.join("releases", release.name))
    for name in PUBLISHED_NAMES:
        link = out_dir / name
        target = os.path.join("current", name)
        if not (link.is_symlink() and os.readlink(link) == target):
            _replace_with_link(link, target)
    clean_stale(out_dir)


def clean_stale(out_dir: Path) -> None:
    """Remove what killed builds left: unfinished releases (no manifest) other than the published
    one, link temporaries, and the staging folders of builds made before releases."""
    current = _current_name(out_dir)
    for p in out_dir.glob(".*"):
        if p.name.startswith((".staging-", ".old-store-", ".old-")) and p.name != ".lock":
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() and not p.is_symlink() else p.unlink(missing_ok=True)
        elif p.name.endswith(".tmp") and p.is_symlink():
            p.unlink(missing_ok=True)
    root = releases_dir(out_dir)
    if root.is_dir():
        for r in root.iterdir():
            if r.name != current and not (r / kgstore.MANIFEST).is_file():
                shutil.rmtree(r, ignore_errors=True)


def prune_releases(out_dir: Path, keep: int = 2) -> None:
    """Keep the published release and the newest others up to keep in all (for a quick rollback),
    and every release a running server still serves (:func:`kg.read.store.in_use`)."""
    current = _current_name(out_dir)
    root = releases_dir(out_dir)
    finished = sorted((r for r in root.iterdir() if (r / kgstore.MANIFEST).is_file()), key=lambda r: r.name)
    others = [r for r in finished if r.name != current and not kgstore.in_use(r)]
    for r in others[: max(0, len(others) - (keep - 1))]:
        shutil.rmtree(r, ignore_errors=True)


def _current_name(out_dir: Path) -> str | None:
    link = out_dir / "current"
    try:
        return os.path.basename(os.readlink(link))
    except OSError:
        return None
