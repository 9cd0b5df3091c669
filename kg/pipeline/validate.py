"""Validate the asserted graph: SHACL shapes (pySHACL) and the check queries.

SHACL: https://www.w3.org/TR/shacl/ . Check queries are data: every ``queries/checks/*.rq``
must return no rows; each row it returns is a problem, shown with the query's first comment.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pyshacl
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


def validate(ds: Dataset, ontology: Graph, shapes: Graph, queries_dir: Path) -> ValidationReport:
    """SHACL over the union of the asserted graphs, then every check query.

    Args:
        ds: the asserted dataset (registry and document graphs; may include the ontology graph).
        ontology: the ontology graph. shapes: the SHACL shapes graph.
        queries_dir: the folder holding checks/*.rq.
    """
    report = ValidationReport()
    report.violations = shacl(data_graph(ds), shapes, ontology)
    files = check_files(queries_dir)
    st = kgstore.memory_store(kgstore.dataset_quads(ds) + kgstore.graph_quads(ontology, ONTOLOGY_GRAPH))
    report.check_failures = run_checks(st, files)
    report.checks_run = len(files)
    return report

