"""``kg draft accept``: move reviewed draft records into data/facts/ and proposals into the registry.

The result is checked as the build checks it (load -> rdfize -> SHACL and check queries) on a
scratch copy of the data folder before anything is written; a refusal names the draft's
file:line and why. Files are written atomically. Accepting twice adds nothing twice: records
already in the fact file (same id, or the same `about` statement) and entities already in the
registry are skipped.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kg import paths
from kg.draft.writer import DRAFT_ONLY_KEYS, dump, write_atomic
from kg.errors import InputError, NonConformance, Position
from kg.pipeline.records import plain, read_yaml

CONTRACT_KEYS = ("qualifier", "support", "supportReason", "supportSpan")


@dataclass
class AcceptResult:
    """What an accept did: counts and where it wrote, plus warnings."""

    facts_file: Path
    records_added: int
    entities_added: int
    warnings: list[str] = field(default_factory=list)



def _clean(rec: dict, drop: set[str]) -> dict:
    return {k: v for k, v in rec.items() if k not in DRAFT_ONLY_KEYS and k not in drop}


def _declared_terms() -> set[str]:
    """Local names of the ontology's properties (to drop contract keys the ontology lacks)."""
    from rdflib import Graph
    from rdflib.namespace import OWL, RDF

    g = Graph().parse(paths.ontology_file(), format="turtle")
    out = set()
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty):
        out |= {str(s).split("#")[-1] for s in g.subjects(RDF.type, kind)}
    return out


def _select(records: list, entities: list, only: list[str] | None) -> tuple[list, list]:
    """The records and proposed entities to accept: all, or those named in `only` with what they need.

    A chosen record brings the proposed entities it refers to; a proposed entity brings the
    draft's placement of it (its `about:` record carrying locatedIn), and so on until nothing new
    is needed: without its placement a new place hangs outside the hierarchy and cannot validate.
    """
    if not only:
        return records, entities
    wanted = set(only)
    chosen = [r for r in records if r.get("id") in wanted or r.get("about") in wanted]
    proposed = {e["id"]: e for e in entities}
    taken: dict[str, dict] = {}
    while True:
        refs = set(wanted)
        for r in chosen:
            for v in r.values():
                for x in (v if isinstance(v, list) else [v]):
                    if isinstance(x, str):
                        refs.add(x)
        new = [eid for eid in refs if eid in proposed and eid not in taken]
        if not new:
            break
        for eid in new:
            taken[eid] = proposed[eid]
        chosen += [r for r in records if r.get("about") in new and "locatedIn" in r and r not in chosen]
    return chosen, [e for eid, e in proposed.items() if eid in taken]


def accept(draft_path: Path, data_dir: Path | None = None, only: list[str] | None = None,
           sources_dir: Path | None = None) -> AcceptResult:
    """Accept a reviewed draft into a data folder.

    Args:
        draft_path: the draft YAML (kg draft's output, reviewed).
        data_dir: the curated data folder (default data/ or $KG_DATA).
        only: record ids (or `about` ids) and entity ids to take; default all.
        sources_dir: where the source document is, to check spans and quotes.
    Raises:
        InputError: the draft is malformed or the result would not load (file:line of the draft).
        NonConformance: the result would not validate (SHACL or checks), with the draft's lines.
    """
    draft_path = Path(draft_path)
    data_dir = Path(data_dir or paths.data_dir())
    raw = read_yaml(draft_path)
    if not isinstance(raw, dict) or "document" not in raw or "records" not in raw:
        raise InputError("not a draft: expected `document:` and `records:` (and `entities:`)", Position(str(draft_path), 1))
    doc = plain(raw["document"])
    records_raw = list(raw.get("records") or [])
    entities_raw = list(raw.get("entities") or [])
    records_sel, entities_sel = _select(records_raw, entities_raw, only)
    declared = _declared_terms()
    drop = {k for k in CONTRACT_KEYS if k not in declared}
    warnings = []
    if drop and any(k in r for r in records_sel for k in drop):
        warnings.append("the ontology does not declare " + ", ".join(sorted(drop)) +
                        " yet: left out (the written form stays in valueAsWritten)")
    line_of = {}  # key of a cleaned record -> draft line
    new_records = []
    for r in records_sel:
        c = _clean(plain(r), drop)
        new_records.append(c)
        line_of[_key(c)] = getattr(r, "line", None)
        line_of.setdefault(("slug", c.get("id") or c.get("about")), getattr(r, "line", None))
    new_entities = []
    for e in entities_sel:
        c = _clean(plain(e), set())
        new_entities.append(c)
        line_of[("entity", c.get("id"))] = getattr(e, "line", None)

    registry_path = data_dir / "entities.yaml"
    registry = plain(read_yaml(registry_path)) if registry_path.is_file() else {"entities": []}
    known = {e["id"]: e for e in registry.get("entities") or []}
    add_entities = []
    for e in new_entities:
        if e["id"] in known:
            if (known[e["id"]].get("label") or {}).get("zh") != (e.get("label") or {}).get("zh"):
                raise InputError(f"entity id {e['id']!r} is already in the registry with another label; rename it in the draft",
                                 Position(str(draft_path), line_of.get(("entity", e["id"])), "id"))
            continue
        add_entities.append(e)

    doc_id = str(doc.get("id"))
    facts_path = data_dir / "facts" / f"{doc_id}.yaml"
    existing = plain(read_yaml(facts_path)) if facts_path.is_file() else None
    if existing and str(existing["document"].get("sha256")) != str(doc.get("sha256")):
        raise InputError(f"{facts_path} is about another version of the document (sha256 differs)",
                         Position(str(draft_path), getattr(raw["document"], "line", 1), "sha256"))
    have = {_key(r) for r in (existing or {}).get("records") or []}
    add_records = [r for r in new_records if _key(r) not in have]

    header = existing["document"] if existing else doc
    merged_facts = {"document": header, "records": ((existing or {}).get("records") or []) + add_records}
    merged_registry_entities = list(registry.get("entities") or []) + add_entities
    result = AcceptResult(facts_path, len(add_records), len(add_entities), warnings)
    if not add_records and not add_entities:
        return result

    facts_text = (facts_path.read_text(encoding="utf-8").rstrip("\n") + "\n" + dump(add_records)) if existing and add_records \
        else (_FACTS_HEADER + dump(merged_facts) if not existing else None)
    registry_text = None
    if add_entities:
        base = registry_path.read_text(encoding="utf-8").rstrip("\n") + "\n" if registry_path.is_file() else "entities:\n"
        registry_text = base + dump(add_entities)
    _check(data_dir, facts_text, registry_text, doc_id, sources_dir, draft_path, line_of, merged_facts,
           merged_registry_entities)
    if registry_text is not None:
        write_atomic(registry_path, registry_text)
    if facts_text is not None:
        write_atomic(facts_path, facts_text)
    return result


_FACTS_HEADER = "# Facts accepted from a `kg draft` draft after review.\n"


def _key(rec: dict):
    if "id" in rec:
        return ("id", rec["id"])
    return ("about", repr(sorted((k, repr(v)) for k, v in rec.items())))


def _check(data_dir: Path, facts_text, registry_text, doc_id: str, sources_dir, draft_path: Path, line_of: dict,
           merged_facts: dict, merged_entities: list) -> None:
    """Load, rdfize and validate the data folder as it would be; raise with draft positions."""
    from kg.pipeline.build import asserted, load_graph
    from kg.pipeline.validate import validate

    with tempfile.TemporaryDirectory(prefix="kg-accept-") as tmp:
        scratch = Path(tmp) / "data"
        shutil.copytree(data_dir, scratch, ignore=shutil.ignore_patterns("drafts"))
        (scratch / "facts").mkdir(exist_ok=True)
        if registry_text is not None:
            (scratch / "entities.yaml").write_text(registry_text, encoding="utf-8")
        if facts_text is not None:
            (scratch / "facts" / f"{doc_id}.yaml").write_text(facts_text, encoding="utf-8")
        sources = sources_dir if sources_dir is not None else paths.sources_dir()
        ontology = load_graph(paths.ontology_file())
        try:
            ds, _, _ = asserted(scratch, sources, ontology)
        except InputError as exc:
            raise _relocate(exc, scratch, draft_path, line_of) from exc
        report = validate(ds, ontology, load_graph(paths.shapes_file()), paths.queries_dir())
    if report.conforms:
        return
    lines = []
    by_slug = {}
    for key, line in line_of.items():
        if key[0] in ("id", "entity", "slug"):
            by_slug.setdefault(key[1], line)
    for v in report.violations:
        slug = v.focus.rsplit("/", 1)[-1]
        where = f"{draft_path}:{by_slug.get(slug) or '?'}"
        lines.append(f"{where}: {slug} {v.path or ''}: {v.message}")
    for f in report.check_failures:
        if f.name == "place-outside-hierarchy":
            entity_lines = {k[1]: v for k, v in line_of.items() if k[0] == "entity"}
            lines += _unplaced(f.rows, draft_path, {**by_slug, **entity_lines}, merged_entities, merged_facts.get("records") or [])
            continue
        lines.append(f"check {f.name}: {f.description} ({len(f.rows)} row(s): "
                     + "; ".join(", ".join(f"{k}={val}" for k, val in row.items()) for row in f.rows[:5]) + ")")
    raise NonConformance("the accepted draft would not validate; nothing was written:\n" + "\n".join(lines))


def _relocate(exc: InputError, scratch: Path, draft_path: Path, line_of: dict) -> InputError:
    """An error in the scratch copy, told at the draft's line of the record it comes from."""
    pos = exc.position
    if pos is None or pos.line is None or not str(pos.file).startswith(str(scratch)):
        return exc
    raw = read_yaml(Path(pos.file))
    items = (raw.get("records") if isinstance(raw, dict) and "records" in raw else (raw or {}).get("entities")) or []
    owner = None
    for item in items:
        if getattr(item, "line", 0) <= pos.line:
            owner = item
    if owner is None:
        return InputError(exc.message, Position(str(draft_path), None, pos.field))
    key = ("entity", owner.get("id")) if "entities" in (raw or {}) and "records" not in raw else _key(plain(owner))
    line = line_of.get(key)
    return InputError(exc.message + " (in the draft record at this line)", Position(str(draft_path), line, pos.field))


def _unplaced(rows: list[dict], draft_path: Path, by_slug: dict, entities: list, records: list) -> list[str]:
    """What the reviewer must add for places the draft leaves outside the hierarchy, at their lines."""
    from collections import Counter

    labels = {e["id"]: (e.get("label") or {}).get("zh", e["id"]) for e in entities}
    types = {e["id"]: e.get("type") for e in entities}
    # the area the draft's figures are about (its main area) is the likeliest parent to propose
    parents = Counter(r[k] for r in records for k in ("area", "locatedIn") if isinstance(r.get(k), str))
    out = []
    for row in rows:
        slug = str(row.get("place", "")).strip("<>").rsplit("/", 1)[-1]
        hint = next((p for p, _ in parents.most_common() if p != slug), "zhongguo")
        out.append(f"{draft_path}:{by_slug.get(slug) or '?'}: {slug} ({labels.get(slug, slug)}, a {types.get(slug) or 'place'}) "
                   f"has no locatedIn, so it does not reach 中华人民共和国: add a record\n"
                   f"  - about: {slug}\n    modality: background\n    span: <where the text places it>\n"
                   f"    locatedIn: <the registry id of the place it lies in, e.g. {hint}>\n"
                   f"  to the draft's records (or give the entity a locatedIn), then accept again")
    return out
