"""External identifiers: the curated link tables, the links graph, the report, Wikidata proposals.

The tables are ``data/links/*.tsv`` (UTF-8, tab-separated, ``#`` comment lines, a header row).
Required columns: ``entity`` (a slug of the registry), ``scheme``, ``identifier``,
``confidence``, ``evidence``; any further columns are kept for people and ignored here.

Only rows whose confidence is ``verified`` (a public source pairs the identifier with the
entity's name) or ``accepted`` (a reviewer accepted a proposed candidate) reach the graph, in the
named graph ``yfg:links``. ``likely``, ``proposed``, ``rejected`` and ``unknown`` rows never do:
they are the review queue. The check ``queries/checks/unverified-external-id.rq`` compares every
identifier stated elsewhere in the data with that graph, so the tables are the one list of what
is verified.

Wikidata's entity search API (``wbsearchentities``):
https://www.wikidata.org/w/api.php?action=help&modules=wbsearchentities
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS, XSD

from kg.errors import InputError, KGError, Position
from kg.namespaces import GEO, GEONAMES, ID, LINKS_GRAPH, REGISTRY_GRAPH, SCHEMA, WD, YF, curie, sparql_prefixes

COLUMNS = ("entity", "scheme", "identifier", "confidence", "evidence")
IN_GRAPH = ("verified", "accepted")
CONFIDENCES = IN_GRAPH + ("likely", "proposed", "rejected", "unknown")
LINKS_DIR = "links"
REVIEW_FILE = "wikidata-review.tsv"


@dataclass(frozen=True)
class Scheme:
    """How one identifier scheme is written in the tables and stated in the graph.

    Attributes:
        name: the scheme as written in the ``scheme`` column.
        predicate: the property that states it.
        pattern: what a well-formed identifier looks like.
        kind: ``iri`` (an IRI made by ``iri``), ``string``, ``uri`` (xsd:anyURI) or ``point``.
        label: a short column heading for reports.
    """

    name: str
    predicate: URIRef
    pattern: str
    kind: str
    label: str
    iri: Callable[[str], URIRef] | None = None


SCHEMES: dict[str, Scheme] = {s.name: s for s in (
    Scheme("wikidata", SKOS.exactMatch, r"^Q[1-9][0-9]*$", "iri", "wikidata", lambda v: WD[v]),
    Scheme("geonames", SKOS.exactMatch, r"^[1-9][0-9]*$", "iri", "geonames", lambda v: URIRef(f"{GEONAMES}{v}/")),
    Scheme("gb2260", YF.gb2260Code, r"^[0-9]{6}$", "string", "gb2260"),
    Scheme("nbs-9", YF.nbsCode, r"^[0-9]{9}$", "string", "nbs"),
    Scheme("nbs-12", YF.nbsCode, r"^[0-9]{12}$", "string", "nbs"),
    Scheme("iso3166-1", YF.iso3166Code, r"^[A-Z]{2}$", "string", "iso3166"),
    Scheme("iso3166-2", YF.iso3166Code, r"^[A-Z]{2}-[A-Z0-9]{1,3}$", "string", "iso3166"),
    Scheme("hkex", YF.hkexCode, r"^[0-9]{5}$", "string", "hkex"),
    Scheme("sse", YF.sseCode, r"^[0-9]{6}$", "string", "sse"),
    Scheme("website", SCHEMA.url, r"^https?://[^\s<>\"]+$", "uri", "website"),
    Scheme("coordinates", GEO.hasGeometry, r"^-?[0-9]+(\.[0-9]+)? -?[0-9]+(\.[0-9]+)?$", "point", "coordinates"),
)}
REPORT_COLUMNS = tuple(dict.fromkeys(s.label for s in SCHEMES.values()))


@dataclass(frozen=True)
class LinkRow:
    """One row of a link table, with where it came from."""

    entity: str
    scheme: str
    identifier: str
    confidence: str
    evidence: str
    position: Position
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def in_graph(self) -> bool:
        return self.confidence in IN_GRAPH


# -- reading the tables ----------------------------------------------------------------------

def read_table(path: Path) -> list[LinkRow]:
    """Parse one link table.

    Raises:
        InputError: not UTF-8, a missing column, an unknown scheme or confidence, a malformed
            identifier, or a row that would reach the graph without evidence (file, line, field).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 ({exc.reason} at byte {exc.start})", Position(str(path))) from exc
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    if not lines:
        return []
    header_line, header = lines[0]
    names = header.split("\t")
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise InputError(f"the header lacks column(s) {', '.join(missing)} (need {', '.join(COLUMNS)})",
                         Position(str(path), header_line))
    rows = []
    for n, line in lines[1:]:
        cells = line.split("\t")
        if len(cells) > len(names):
            raise InputError(f"{len(cells)} cells but the header has {len(names)} columns", Position(str(path), n))
        cells += [""] * (len(names) - len(cells))
        rec = dict(zip(names, (c.strip() for c in cells)))
        rows.append(_row(rec, names, Position(str(path), n)))
    return rows


def _row(rec: dict[str, str], names: list[str], pos: Position) -> LinkRow:
    def at(col: str) -> Position:
        return Position(pos.file, pos.line, col)

    conf = rec["confidence"]
    if conf not in CONFIDENCES:
        raise InputError(f"confidence {conf!r} is not one of {', '.join(CONFIDENCES)}", at("confidence"))
    scheme = SCHEMES.get(rec["scheme"])
    if scheme is None:
        raise InputError(f"unknown scheme {rec['scheme']!r}; known: {', '.join(SCHEMES)}", at("scheme"))
    if not rec["entity"]:
        raise InputError("no entity slug", at("entity"))
    ident = rec["identifier"]
    if conf in IN_GRAPH or ident:
        if not re.match(scheme.pattern, ident):
            raise InputError(f"{ident!r} is not a well-formed {scheme.name} identifier ({scheme.pattern})",
                             at("identifier"))
        if scheme.kind == "point":
            _lat_lon(ident, at("identifier"))
    if conf in IN_GRAPH and not rec["evidence"]:
        raise InputError(f"a {conf} row needs its evidence: which public source pairs the identifier with the name",
                         at("evidence"))
    extra = tuple((k, rec[k]) for k in names if k not in COLUMNS)
    return LinkRow(rec["entity"], scheme.name, ident, conf, rec["evidence"], pos, extra)


def _lat_lon(text: str, pos: Position) -> tuple[str, str]:
    lat, lon = text.split()
    if not (-90 <= float(lat) <= 90 and -180 <= float(lon) <= 180):
        raise InputError(f"{text!r} is not 'latitude longitude' in WGS84 degrees", pos)
    return lat, lon


def link_tables(data_dir: Path) -> list[Path]:
    """The link tables of a data folder, sorted (none is fine)."""
    return sorted((Path(data_dir) / LINKS_DIR).glob("*.tsv"))


def load_rows(data_dir: Path) -> list[LinkRow]:
    """Every row of every link table of a data folder."""
    rows: list[LinkRow] = []
    for path in link_tables(data_dir):
        rows.extend(read_table(path))
    return rows


# -- the links graph -------------------------------------------------------------------------

def geometry_iri(slug: str) -> URIRef:
    """The IRI of an entity's point geometry."""
    return ID[f"{slug}/geometry"]


def links_graph(rows: Iterable[LinkRow], known: set[str] | None = None,
                labels: dict[str, dict[str, str]] | None = None) -> Graph:
    """The triples stated by the rows that reach the graph (verified and accepted).

    Args:
        rows: link rows. known: the slugs that exist (None: do not check).
        labels: {slug: {lang: label}} used to label geometry nodes.
    Returns:
        an rdflib Graph (the caller puts it into ``yfg:links``).
    Raises:
        InputError: a row names an entity that does not exist, or two rows of one entity give
            different identifiers for a single-valued scheme.
    """
    g = Graph()
    seen: dict[tuple[str, URIRef], LinkRow] = {}
    for row in rows:
        if not row.in_graph:
            continue
        if known is not None and row.entity not in known:
            raise InputError(f"dangling entity {row.entity!r}: no registry entity has this id",
                             Position(row.position.file, row.position.line, "entity"))
        scheme = SCHEMES[row.scheme]
        s = ID[row.entity]
        key = (row.entity, scheme.predicate if scheme.kind != "iri" else URIRef(row.scheme))
        if key in seen and seen[key].identifier != row.identifier:
            raise InputError(f"{row.entity} has two {row.scheme} identifiers ({seen[key].identifier} at "
                             f"{seen[key].position}, {row.identifier} here); keep the verified one",
                             Position(row.position.file, row.position.line, "identifier"))
        seen[key] = row
        if scheme.kind == "iri":
            g.add((s, scheme.predicate, scheme.iri(row.identifier)))
        elif scheme.kind == "string":
            g.add((s, scheme.predicate, Literal(row.identifier, datatype=XSD.string)))
        elif scheme.kind == "uri":
            g.add((s, scheme.predicate, Literal(row.identifier, datatype=XSD.anyURI)))
        else:
            lat, lon = _lat_lon(row.identifier, row.position)
            geom = geometry_iri(row.entity)
            g.add((s, GEO.hasGeometry, geom))
            g.add((geom, RDF.type, GEO.Geometry))
            g.add((geom, GEO.asWKT, Literal(f"POINT({lon} {lat})", datatype=GEO.wktLiteral)))
            names = (labels or {}).get(row.entity, {})
            g.add((geom, RDFS.label, Literal(f"{names.get('zh', row.entity)} 坐标点", lang="zh")))
            g.add((geom, RDFS.label, Literal(f"{names.get('en', row.entity)}: point", lang="en")))
    return g


def add_links(ds, data_dir: Path) -> int:
    """Put the verified and accepted rows of data_dir/links/*.tsv into ``yfg:links`` of ds.

    Args:
        ds: the asserted rdflib Dataset (its registry graph says which slugs exist).
        data_dir: the curated data folder.
    Returns:
        the number of triples added.
    Raises:
        InputError: see :func:`read_table` and :func:`links_graph`.
    """
    rows = load_rows(data_dir)
    if not rows:
        return 0
    known = {str(s)[len(str(ID)):] for s, _, _, _ in ds.quads((None, RDF.type, None, None))
             if isinstance(s, URIRef) and str(s).startswith(str(ID))}
    labels: dict[str, dict[str, str]] = {}
    for s, _, o, _ in ds.quads((None, RDFS.label, None, REGISTRY_GRAPH)):
        if isinstance(o, Literal) and o.language in ("zh", "en"):
            labels.setdefault(str(s)[len(str(ID)):], {})[o.language] = str(o)
    g = links_graph(rows, known, labels)
    target = ds.graph(LINKS_GRAPH)
    for triple in g:
        target.add(triple)
    return len(g)


# -- the report ------------------------------------------------------------------------------

@dataclass
class EntityLinks:
    """Which identifiers one registry entity has in the graph, and which wait for review."""

    iri: str
    types: list[str]
    label_zh: str
    label_en: str
    ids: dict[str, list[str]] = field(default_factory=dict)
    unconfirmed: list[str] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.iri[len(str(ID)):]

    def as_dict(self) -> dict:
        return {"entity": self.slug, "iri": self.iri, "types": self.types, "label_zh": self.label_zh,
                "label_en": self.label_en, "identifiers": self.ids, "unconfirmed": self.unconfirmed}


_REPORT_QUERY = """SELECT DISTINCT ?e ?p ?v WHERE {
  GRAPH yfg:registry { ?e a ?t }
  { ?e ?p ?v FILTER(?p IN (rdf:type, rdfs:label, skos:exactMatch, yf:gb2260Code, yf:nbsCode, yf:iso3166Code,
                           yf:hkexCode, yf:sseCode, schema:url)) }
  UNION { ?e geo:hasGeometry ?geom . ?geom geo:asWKT ?v BIND(geo:hasGeometry AS ?p) }
}"""


def report(store, rows: Iterable[LinkRow] = ()) -> list[EntityLinks]:
    """Every registry entity of a built store with its identifiers.

    Args:
        store: a pyoxigraph Store of the build. rows: link rows, for the review column.
    Returns:
        EntityLinks sorted by slug.
    """
    out: dict[str, EntityLinks] = {}
    pred_label = {(s.predicate, s.kind == "iri"): s for s in SCHEMES.values()}
    for sol in store.query(sparql_prefixes() + _REPORT_QUERY, use_default_graph_as_union=True):
        e, p, v = sol["e"].value, sol["p"].value, sol["v"]
        ent = out.setdefault(e, EntityLinks(e, [], "", ""))
        if p == str(RDF.type):
            c = curie(v.value)
            if c not in ent.types and c.startswith("yf:"):
                ent.types.append(c)
        elif p == str(RDFS.label):
            if getattr(v, "language", None) == "zh":
                ent.label_zh = v.value
            elif getattr(v, "language", None) == "en":
                ent.label_en = v.value
        elif p == str(SKOS.exactMatch):
            if v.value.startswith(str(WD)):
                ent.ids.setdefault("wikidata", []).append(v.value[len(str(WD)):])
            elif v.value.startswith(str(GEONAMES)):
                ent.ids.setdefault("geonames", []).append(v.value[len(str(GEONAMES)):].rstrip("/"))
        else:
            scheme = pred_label.get((URIRef(p), False))
            label = scheme.label if scheme else curie(p)
            ent.ids.setdefault(label, []).append(v.value)
    for row in rows:
        iri = str(ID[row.entity])
        if iri in out and not row.in_graph and row.identifier:
            out[iri].unconfirmed.append(f"{row.scheme}:{row.identifier} ({row.confidence})")
    for ent in out.values():
        ent.types.sort()
        for v in ent.ids.values():
            v.sort()
    return [out[k] for k in sorted(out)]


def report_text(entities: list[EntityLinks], fmt: str) -> str:
    """Render the report as ``table``, ``csv`` or ``json``."""
    if fmt == "json":
        return json.dumps([e.as_dict() for e in entities], ensure_ascii=False, indent=2)
    header = ["entity", "label_zh", "label_en", "types", *REPORT_COLUMNS, "unconfirmed"]
    table = [[e.slug, e.label_zh, e.label_en, " ".join(e.types),
              *(" ".join(e.ids.get(c, [])) for c in REPORT_COLUMNS), "; ".join(e.unconfirmed)] for e in entities]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        w.writerows(table)
        return buf.getvalue()
    from kg.read.table import render

    linked = sum(1 for e in entities if e.ids)
    rows = [[e.slug, e.label_zh, ", ".join(f"{k} {' '.join(v)}" for k, v in sorted(e.ids.items())) or "(none)",
             "; ".join(e.unconfirmed)] for e in entities]
    # columns by display width (Chinese labels take two columns a character), fitted to the terminal
    return (f"{linked} of {len(entities)} registry entities have at least one external identifier\n"
            + render(["entity", "label", "identifiers", "unconfirmed"], rows))


# -- Wikidata proposals ----------------------------------------------------------------------

WIKIDATA_API = "https://www.wikidata.org/w/api.php"
USER_AGENT = "yufeng-kg/0.1 (knowledge graph of Yufeng District; kg link --propose wikidata)"
Fetch = Callable[[str, dict], dict]


@dataclass(frozen=True)
class Candidate:
    """One Wikidata search hit for an entity."""

    qid: str
    label: str
    description: str
    match_type: str
    match_text: str


def http_fetch(url: str, params: dict, *, timeout: float = 20.0) -> dict:
    """GET a JSON document (the default transport of :func:`search_wikidata`; needs network)."""
    import httpx

    resp = httpx.get(url, params=params, headers={"User-Agent": USER_AGENT}, timeout=timeout)
    resp.raise_for_status()
    return resp.json()


def search_wikidata(label: str, *, fetch: Fetch = http_fetch, language: str = "zh", limit: int = 5) -> list[Candidate]:
    """Ask ``wbsearchentities`` for items whose label or alias matches ``label``.

    Args:
        label: the text to search for (a zh label). fetch: callable(url, params) -> parsed JSON.
        language: the search language. limit: at most this many candidates.
    Returns:
        the candidates in the API's order.
    Raises:
        KGError: the API answered with an error or with something not in its format.
    """
    params = {"action": "wbsearchentities", "search": label, "language": language, "uselang": language,
              "type": "item", "limit": str(limit), "format": "json", "strictlanguage": "1"}
    data = fetch(WIKIDATA_API, params)
    if not isinstance(data, dict):
        raise KGError(f"Wikidata search for {label!r}: expected a JSON object, got {type(data).__name__}")
    if "error" in data:
        err = data["error"]
        raise KGError(f"Wikidata search for {label!r} failed: {err.get('code')}: {err.get('info')}")
    hits = data.get("search")
    if not isinstance(hits, list):
        raise KGError(f"Wikidata search for {label!r}: the answer has no `search` list")
    out = []
    for hit in hits[:limit]:
        qid = hit.get("id", "")
        if not re.match(SCHEMES["wikidata"].pattern, qid):
            continue
        match = hit.get("match") or {}
        out.append(Candidate(qid, hit.get("label", ""), hit.get("description", ""),
                             match.get("type", ""), match.get("text", "")))
    return out


REVIEW_COLUMNS = (*COLUMNS, "label_zh", "candidate_label", "candidate_description", "match")


def propose(entities: list[EntityLinks], existing: list[LinkRow], review_file: str = REVIEW_FILE, *,
            fetch: Fetch = http_fetch, limit: int = 5, pause: float = 0.0, progress=None) -> list[dict[str, str]]:
    """Candidate rows for every entity that has no Wikidata item yet.

    Rows already reviewed (accepted or rejected) are kept as they are; an entity with an
    accepted or verified QID is not searched again; a candidate already rejected is not
    proposed again.

    Args:
        entities: the report of the build. existing: rows of the link tables, the review file's
            among them. review_file: the review file's path (its rows are carried over).
        fetch: the transport. limit: candidates per entity. pause: seconds between calls.
    Returns:
        the rows of the review file, sorted by entity and identifier.
    """
    say = progress or (lambda _m: None)
    reviewed = [r for r in existing if r.scheme == "wikidata" and r.confidence != "proposed"]
    rows = {(r.entity, r.identifier): _row_dict(r) for r in existing
            if r.scheme == "wikidata" and Path(r.position.file) == Path(review_file)}
    done = {r.entity for r in reviewed if r.confidence in IN_GRAPH}
    rejected = {(r.entity, r.identifier) for r in reviewed if r.confidence == "rejected"}
    todo = [e for e in entities if "wikidata" not in e.ids and e.slug not in done and e.label_zh]
    for i, ent in enumerate(todo):
        say(f"[{i + 1}/{len(todo)}] {ent.slug} {ent.label_zh}")
        for c in search_wikidata(ent.label_zh, fetch=fetch, limit=limit):
            key = (ent.slug, c.qid)
            if key in rejected or (key in rows and rows[key]["confidence"] != "proposed"):
                continue
            rows[key] = {"entity": ent.slug, "scheme": "wikidata", "identifier": c.qid, "confidence": "proposed",
                         "evidence": "", "label_zh": ent.label_zh, "candidate_label": c.label,
                         "candidate_description": c.description, "match": f"{c.match_type}:{c.match_text}"}
        if pause and i + 1 < len(todo):
            time.sleep(pause)
    return [rows[k] for k in sorted(rows)]


def _row_dict(r: LinkRow) -> dict[str, str]:
    d = {"entity": r.entity, "scheme": r.scheme, "identifier": r.identifier, "confidence": r.confidence,
         "evidence": r.evidence}
    d.update(dict(r.extra))
    return d


REVIEW_HEADER = """# Wikidata candidates proposed by `kg link --propose wikidata` (search by zh label).
# NOT verified. To accept a candidate, check the item is this entity, set confidence to
# `accepted` and write in `evidence` what shows it (e.g. "item label and description match;
# located in Q38968; checked 2025-01-05 by NAME"). Set `rejected` to stop it being proposed again.
# Only accepted rows reach the graph (kg build).
"""


def write_review(path: Path, rows: list[dict[str, str]]) -> None:
    """Write the review table atomically (temporary file, then rename)."""
    buf = io.StringIO()
    buf.write(REVIEW_HEADER)
    buf.write("\t".join(REVIEW_COLUMNS) + "\n")
    for r in rows:
        buf.write("\t".join(_cell(r.get(c, "")) for c in REVIEW_COLUMNS) + "\n")
    write_atomic(Path(path), buf.getvalue().encode("utf-8"))


def _cell(text: str) -> str:
    return " ".join(str(text).split())


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to path through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- CLI -------------------------------------------------------------------------------------

def cmd_link(args) -> int:
    from kg import paths
    from kg.read.store import open_store

    data_dir = Path(args.data or paths.data_dir())
    rows = load_rows(data_dir) if (data_dir / LINKS_DIR).is_dir() else []
    entities = report(open_store(Path(args.build or paths.build_dir())), rows)
    if args.propose:
        out = Path(args.out or data_dir / LINKS_DIR / REVIEW_FILE)
        existing = rows + (read_table(out) if out.is_file() and out.parent != data_dir / LINKS_DIR else [])
        say = None if args.quiet else (lambda m: print(f"kg: {m}", file=sys.stderr))
        proposed = propose(entities, existing, str(out), limit=args.limit, pause=0.5, progress=say)
        write_review(out, proposed)
        n = sum(1 for r in proposed if r["confidence"] == "proposed")
        print(f"wrote {out}: {n} proposed candidate(s) to review, {len(proposed) - n} reviewed row(s) kept")
        return 0
    if args.missing:
        entities = [e for e in entities if not e.ids]
    print(report_text(entities, args.format).rstrip("\n"))
    return 0


def register(sub) -> None:
    """Add ``kg link`` to the CLI."""
    p = sub.add_parser("link", help="which entities have which external identifiers; propose Wikidata links")
    p.add_argument("--build", type=Path, help="build folder (default: build/)")
    p.add_argument("--data", type=Path, help="curated data folder, for the link tables (default: data/)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--missing", action="store_true", help="only the entities with no identifier")
    p.add_argument("--propose", choices=["wikidata"],
                   help="search Wikidata by zh label (needs network) and write candidates for review")
    p.add_argument("--out", type=Path, help=f"review file for --propose (default: data/links/{REVIEW_FILE})")
    p.add_argument("--limit", type=int, default=5, help="candidates per entity (default 5)")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_link)
