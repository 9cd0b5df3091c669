"""Validate the asserted graph: SHACL shapes (pySHACL) and the check queries.

SHACL: https://www.w3.org/TR/shacl/ . Check queries are data: every ``queries/checks/*.rq``
must return no rows; each row it returns is a problem, shown with the query's first comment.

:func:`validate_data` (``kg validate``) runs every stage on the curated data and collects every
error in one run: records, evidence spans, rdfize, links, SHACL and checks; SHACL results and
check rows are traced back to the record's file:line and field through the positions the
records carry (a statement node leads to the field that states it, a span to the record's span).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph
from rdflib.namespace import RDF

from kg.errors import InputError, Position
from kg.namespaces import ONTOLOGY_GRAPH, SH
from kg.read import store as kgstore


@dataclass
class Violation:
    """One SHACL result."""

    focus: str
    path: str | None
    severity: str
    message: str


@dataclass
class CheckFailure:
    """A check query that returned rows."""

    name: str
    description: str
    rows: list[dict[str, str]]


@dataclass
class ValidationReport:
    violations: list[Violation] = field(default_factory=list)
    check_failures: list[CheckFailure] = field(default_factory=list)
    checks_run: int = 0
    store: ox.Store | None = field(default=None, repr=False)  # the union the checks ran on

    @property
    def conforms(self) -> bool:
        return not any(v.severity == "Violation" for v in self.violations) and not self.check_failures

    def text(self, limit: int = 50) -> str:
        """A readable report, at most ``limit`` lines per section."""
        lines = []
        if self.violations:
            lines.append(f"SHACL: {len(self.violations)} result(s)")
            for v in self.violations[:limit]:
                lines.append(f"  [{v.severity}] {v.focus} {v.path or ''}: {v.message}")
        else:
            lines.append("SHACL: conforms")
        lines.append(f"checks: {self.checks_run} run, {len(self.check_failures)} failed")
        for f in self.check_failures:
            lines.append(f"  {f.name}: {len(f.rows)} row(s) — {f.description}")
            for row in f.rows[:limit]:
                lines.append("    " + ", ".join(f"{k}={v}" for k, v in row.items()))
        return "\n".join(lines)


def data_graph(ds: Dataset) -> Graph:
    """The union of every named graph of a dataset as one rdflib Graph."""
    g = Graph()
    for s, p, o, _ in ds.quads((None, None, None, None)):
        g.add((s, p, o))
    return g


def shacl(data: Graph, shapes: Graph, ontology: Graph) -> list[Violation]:
    """Run pySHACL (no inference; the ontology supplies the class hierarchy).

    The ontology is merged into a copy of the data here rather than passed as pySHACL's
    ont_graph, which took minutes for a graph of a thousand triples.
    """
    import pyshacl  # only for this fallback and the reference engine: importing it costs ~0.5 s

    merged = Graph()
    for triple in data:
        merged.add(triple)
    for triple in ontology:
        merged.add(triple)
    _, results_graph, _ = pyshacl.validate(
        merged, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True
    )
    out = []
    for r in results_graph.subjects(RDF.type, SH.ValidationResult):
        msgs = sorted(results_graph.objects(r, SH.resultMessage), key=lambda m: (getattr(m, "language", "") or "") != "en")
        sev = results_graph.value(r, SH.resultSeverity)
        path = results_graph.value(r, SH.resultPath)
        out.append(Violation(
            focus=str(results_graph.value(r, SH.focusNode)),
            path=str(path) if path is not None else None,
            severity=str(sev).rsplit("#", 1)[-1] if sev else "Violation",
            message=" / ".join(str(m) for m in msgs) or "(no message)",
        ))
    out.sort(key=lambda v: (v.focus, v.path or "", v.message))
    return out


def check_files(queries_dir: Path) -> list[Path]:
    return sorted((Path(queries_dir) / "checks").glob("*.rq"))


def describe_check(path: Path) -> str:
    """The first comment lines of a query file, joined."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            lines.append(line.lstrip("# ").strip())
        elif lines:
            break
    return " ".join(lines) or path.stem


def run_checks(store: ox.Store, files: list[Path]) -> list[CheckFailure]:
    """Run each check query over the union of the store's graphs; collect those with rows."""
    failures = []
    for path in files:
        query = path.read_text(encoding="utf-8")
        try:
            result = store.query(query, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise InputError(f"check query does not parse: {exc}", Position(str(path))) from exc
        rows = [{v.value: str(sol[v]) for v in result.variables if sol[v] is not None} for sol in result]
        if rows:
            failures.append(CheckFailure(path.stem, describe_check(path), rows))
    return failures


def shacl_on_store(store: ox.Store, shapes: Graph) -> list[Violation] | None:
    """SHACL compiled to SPARQL on Oxigraph (kg.pipeline.shacl_sparql); None when the shapes use a
    feature the compiler does not handle (the caller then runs pySHACL)."""
    from kg.pipeline.shacl_sparql import Unsupported, validate_store

    try:
        results = validate_store(store, shapes)
    except Unsupported:
        return None
    out = [Violation(r.focus, r.path, r.severity, r.message) for r in results]
    out.sort(key=lambda v: (v.focus, v.path or "", v.message))
    return out


def quads_graph(quads: list[ox.Quad]) -> Graph:
    """The union of Oxigraph quads (every graph) as one rdflib Graph."""
    g = Graph()
    conv = kgstore.to_rdflib_term
    for q in quads:
        g.add((conv(q.subject), conv(q.predicate), conv(q.object)))
    return g


def validate(ds: Dataset | list[ox.Quad], ontology: Graph, shapes: Graph, queries_dir: Path, *,
             engine: str = "oxigraph") -> ValidationReport:
    """SHACL over the union of the asserted graphs, then every check query.

    SHACL runs compiled to SPARQL on the same Oxigraph store as the checks (``engine="oxigraph"``,
    the default: linear in the data) or with pySHACL (``engine="pyshacl"``, the reference; also
    used when the shapes need a feature the compiler lacks).

    Args:
        ds: the asserted dataset (registry and document graphs; may include the ontology graph),
            as an rdflib Dataset or as Oxigraph quads.
        ontology: the ontology graph. shapes: the SHACL shapes graph.
        queries_dir: the folder holding checks/*.rq.
    """
    report = ValidationReport()
    files = check_files(queries_dir)
    quads = list(ds) if isinstance(ds, list) else kgstore.dataset_quads(ds)
    st = kgstore.memory_store(quads + kgstore.graph_quads(ontology, ONTOLOGY_GRAPH))
    compiled = shacl_on_store(st, shapes) if engine == "oxigraph" else None
    if compiled is None:
        compiled = shacl(quads_graph(quads) if isinstance(ds, list) else data_graph(ds), shapes, ontology)
    report.violations = compiled
    report.check_failures = run_checks(st, files)
    report.checks_run = len(files)
    report.store = st
    return report



# -- kg validate: every error of every stage, each with its file:line and field ---------------------

@dataclass
class Problem:
    """One thing wrong with the curated data.

    Attributes:
        stage: records, evidence, rdfize, links, shacl or check.
        message: what is wrong (and, where the stage says it, how to fix it).
        file, line, field: where, when known.
        severity: Violation (fails), Warning or Info.
        focus, path: the SHACL focus node and path, or the check's subject (IRIs), when any.
        check: the check query's name (stage "check").
    """

    stage: str
    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None
    severity: str = "Violation"
    focus: str | None = None
    path: str | None = None
    check: str | None = None

    @property
    def where(self) -> str:
        if not self.file:
            return ""
        return str(Position(self.file, self.line, self.field))


@dataclass
class DataReport:
    """Everything ``kg validate`` found, in one list."""

    problems: list[Problem] = field(default_factory=list)
    checks_run: int = 0
    shacl_run: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def conforms(self) -> bool:
        return not any(p.severity == "Violation" for p in self.problems)

    def text(self) -> str:
        if not self.problems:
            return f"no problems: records, evidence, SHACL and {self.checks_run} checks passed"
        lines = [f"{len(self.problems)} problem(s):"]
        for p in self.problems:
            where = p.where or (p.focus or "")
            sev = "" if p.severity == "Violation" else f"[{p.severity}] "
            lines.append(f"{where}: {sev}{p.stage}: {p.message}" if where else f"{sev}{p.stage}: {p.message}")
        return "\n".join(lines)

    def as_json(self) -> dict:
        return {"conforms": self.conforms, "checks_run": self.checks_run, "shacl_run": self.shacl_run,
                "errors": [dict(asdict(p), where=p.where) for p in self.problems]}


def _problem(stage: str, exc: InputError) -> Problem:
    pos = exc.position
    return Problem(stage, exc.message, pos.file if pos else None, pos.line if pos else None,
                   pos.field if pos else None)


class Positions:
    """Where in the curated files each node and each (node, predicate) was written."""

    def __init__(self, curated, ontology: Graph):
        from rdflib.namespace import RDFS, SKOS

        from kg.namespaces import ID, YF
        from kg.pipeline.rdfize import Terms

        terms = Terms.from_ontology(ontology)
        self.nodes: dict[str, Position] = {}
        self.fields: dict[tuple[str, str], Position] = {}
        self.statements: dict[str, Position] = {}
        special = {"label": str(RDFS.label), "altLabel": str(SKOS.altLabel), "definition": str(SKOS.definition),
                   "pinyin": str(RDFS.label), "type": str(RDF.type), "modality": str(YF.modality)}
        for rec in curated.all_records():
            node = str(ID[rec.id])
            if rec.defines or node not in self.nodes:
                self.nodes[node] = rec.position
            for key in rec.fields:
                if key in special:
                    self.fields.setdefault((node, special[key]), rec.where(key))
            for key, values in rec.properties.items():
                try:
                    prop = str(terms.property(key, values[0].position))
                except InputError:
                    continue
                self.fields.setdefault((node, prop), values[0].position)

    def add_statements(self, store: ox.Store) -> None:
        """Statement, span and selector nodes lead to the field that states the fact."""
        q = """SELECT ?st ?s ?p ?span ?sel WHERE {
            ?st <http://www.w3.org/1999/02/22-rdf-syntax-ns#subject> ?s ;
                <http://www.w3.org/1999/02/22-rdf-syntax-ns#predicate> ?p .
            OPTIONAL { ?st <https://w3id.org/yufeng-kg/ontology#evidence> ?span
                       OPTIONAL { ?span <http://www.w3.org/ns/oa#hasSelector> ?sel } } }"""
        for sol in store.query(q, use_default_graph_as_union=True):
            s, p = sol["s"].value, sol["p"].value
            pos = self.fields.get((s, p)) or self.nodes.get(s)
            if pos is None:
                continue
            self.statements.setdefault(sol["st"].value, pos)
            span_pos = Position(pos.file, pos.line, "span")
            for var in ("span", "sel"):
                if sol[var] is not None:
                    self.statements.setdefault(sol[var].value, span_pos)

    def of(self, focus: str | None, path: str | None = None) -> Position | None:
        if focus is None:
            return None
        if path and (focus, path) in self.fields:
            return self.fields[(focus, path)]
        if focus in self.statements:
            return self.statements[focus]
        pos = self.nodes.get(focus)
        if pos is not None and path:
            from kg.namespaces import curie

            return Position(pos.file, pos.line, curie(path))
        return pos


def validate_data(data_dir: Path, sources_dir: Path | None, *, shapes: Graph, ontology: Graph,
                  queries_dir: Path | None = None) -> DataReport:
    """Check the curated data in one run and report every problem with its file:line and field.

    Stages: records (each fact file and record on its own, so one bad record does not hide the
    next), evidence spans (per fact file), rdfize (per record), links, then SHACL and the check
    queries over what was left (a record that failed earlier is left out of them).
    """
    import time

    from kg import paths
    from kg.publish.link import add_links
    from kg.pipeline.evidence import read_sources
    from kg.pipeline.records import Curated, check_unique, fact_file_paths, load_fact_file, load_registry
    from kg.pipeline.rdfize import rdfize

    report = DataReport()
    t0 = time.perf_counter()
    errors: list[InputError] = []
    try:
        registry = load_registry(data_dir, errors)
    except InputError as exc:
        report.problems.append(_problem("records", exc))
        return report
    fact_files = []
    for path in fact_file_paths(data_dir):
        try:
            fact_files.append(load_fact_file(path, errors))
        except InputError as exc:
            errors.append(exc)
    curated = Curated(registry, fact_files)
    check_unique(curated, errors)
    report.problems += [_problem("records", e) for e in errors]
    good = []
    for ff in curated.fact_files:  # evidence: spans inside the text, checksums (per file)
        try:
            read_sources(Curated(registry, [ff]), sources_dir)
            good.append(ff)
        except InputError as exc:
            report.problems.append(_problem("evidence", exc))
    curated = Curated(registry, good)
    sources = read_sources(curated, sources_dir)
    report.timings["records"] = round(time.perf_counter() - t0, 3)
    errors = []
    ds = rdfize(curated, ontology, sources, errors=errors)
    report.problems += [_problem("rdfize", e) for e in errors]
    try:
        add_links(ds, Path(data_dir))
    except InputError as exc:
        report.problems.append(_problem("links", exc))
    report.timings["rdfize"] = round(time.perf_counter() - t0, 3)
    result = validate(ds, ontology, shapes, Path(queries_dir or paths.queries_dir()))
    report.timings["validate"] = round(time.perf_counter() - t0, 3)
    report.shacl_run, report.checks_run = True, result.checks_run
    positions = Positions(curated, ontology)
    if result.store is not None:
        positions.add_statements(result.store)
    for v in result.violations:
        pos = positions.of(v.focus, v.path)
        report.problems.append(Problem("shacl", v.message, pos.file if pos else None, pos.line if pos else None,
                                       pos.field if pos else None, v.severity, v.focus, v.path))
    for f in result.check_failures:
        for row in f.rows:
            focus = next((row[k] for k in ("s", "entity", "node", "subject", "x", "st", "statement") if k in row),
                         next(iter(row.values()), None))
            focus = focus[1:-1] if focus and focus.startswith("<") else focus
            pos = positions.of(focus, (row.get("p") or "")[1:-1] or None)
            detail = ", ".join(f"{k}={val}" for k, val in row.items())
            report.problems.append(Problem("check", f"{f.name}: {f.description} ({detail})",
                                           pos.file if pos else None, pos.line if pos else None,
                                           pos.field if pos else None, "Violation", focus, check=f.name))
    report.problems.sort(key=lambda p: (p.file or "~", p.line or 0, p.stage))
    report.timings["total"] = round(time.perf_counter() - t0, 3)
    return report
