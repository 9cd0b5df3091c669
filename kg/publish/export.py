"""Exports of the built graph: RDF formats, GraphML and GEXF, CSV tables, QuickStatements.

- RDF (ttl, nt, trig, nq, jsonld, rdfxml): written by Oxigraph through :mod:`kg.read.store`; triple
  formats hold the union of the graphs.
- GraphML (http://graphml.graphdrawing.org/) and GEXF (https://gexf.net/) through networkx, for
  yEd and Gephi: resources are nodes with their zh and en labels, types and literal values as
  attributes; an edge per object-property triple, labelled with the property's label. Left out:
  the ontology graph, the inferred graph, and the evidence nodes (statements, spans, selectors).
- CSV: one table per class, UTF-8 with a byte-order mark so that Excel shows Chinese correctly;
  a folder, or a zip when the output path ends in ``.zip``.
- QuickStatements (https://www.wikidata.org/wiki/Help:QuickStatements, V1 tab format): for the
  entities with a verified Wikidata item, the statements our graph holds that map to Wikidata
  properties (:data:`WIKIDATA_PROPERTIES`).
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pyoxigraph as ox

from kg.read import store as kgstore
from kg.errors import InputError
from kg.publish.link import write_atomic
from kg.namespaces import GEO, ID, INFERRED_GRAPH, LINKS_GRAPH, OA, ONTOLOGY_GRAPH, SCHEMA, WD, YF, curie

RDF_FORMATS = ("ttl", "nt", "trig", "nq", "jsonld", "rdfxml")
FORMATS = RDF_FORMATS + ("graphml", "gexf", "csv", "quickstatements")
EXTENSIONS = {"quickstatements": "qs.tsv", "csv": "csv.zip"}

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
ALT_LABEL = "http://www.w3.org/2004/02/skos/core#altLabel"
EXACT_MATCH = "http://www.w3.org/2004/02/skos/core#exactMatch"
EVIDENCE_TYPES = {"http://www.w3.org/1999/02/22-rdf-syntax-ns#Statement", str(YF.TextSpan), str(OA.SpecificResource),
                  str(OA.TextPositionSelector), str(OA.TextQuoteSelector)}
SKIP_GRAPHS = {str(ONTOLOGY_GRAPH), str(INFERRED_GRAPH)}


def load_quads(build_dir: Path) -> list[ox.Quad]:
    """Every quad of a build, exactly as in kg.nq."""
    return kgstore.read_quads(Path(build_dir))


def export(build_dir: Path, fmt: str, out: Path) -> Path:
    """Write the build in one format to ``out`` (a file; for csv a folder or a .zip).

    Returns:
        the path written.
    Raises:
        InputError: unknown format. FileNotFoundError: no build.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    quads = load_quads(build_dir)
    out = Path(out)
    if fmt in RDF_FORMATS:
        write_atomic(out, kgstore.serialize(quads, fmt))
    elif fmt == "graphml":
        write_atomic(out, graphml_bytes(to_networkx(quads)))
    elif fmt == "gexf":
        write_atomic(out, gexf_bytes(to_networkx(quads)))
    elif fmt == "csv":
        write_csv(class_tables(quads), out)
    else:
        write_atomic(out, quickstatements(quads).encode("utf-8"))
    return out


# -- the property graph ----------------------------------------------------------------------

@dataclass
class _Index:
    """What the network exports need: data quads without evidence, and the ontology's labels."""

    data: list[ox.Quad]
    term_labels: dict[str, dict[str, str]]


def _index(quads: list[ox.Quad]) -> _Index:
    evidence = {q.subject.value for q in quads if q.predicate.value == RDF_TYPE and q.object.value in EVIDENCE_TYPES}
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    data = []
    for q in quads:
        g = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
        if g == str(ONTOLOGY_GRAPH):
            if q.predicate.value == RDFS_LABEL and isinstance(q.object, ox.Literal) and q.object.language:
                labels[q.subject.value][q.object.language] = q.object.value
            continue
        if g in SKIP_GRAPHS or not isinstance(q.subject, ox.NamedNode):
            continue
        if q.subject.value in evidence or (isinstance(q.object, ox.NamedNode) and q.object.value in evidence):
            continue
        data.append(q)
    return _Index(data, labels)


def to_networkx(quads: list[ox.Quad]) -> nx.MultiDiGraph:
    """The data as a property graph (see the module docstring). Node ids are IRIs.

    Node attributes: label (zh, else en, else the CURIE), label_zh, label_en, type (CURIEs), iri,
    and one attribute per literal-valued property (CURIE, values joined by `` | ``). Edge
    attributes: label (the property's zh label), label_en, predicate (IRI). All strings.
    """
    idx = _index(quads)
    g = nx.MultiDiGraph()
    attrs: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    edges = set()
    for q in idx.data:
        s, p, o = q.subject.value, q.predicate.value, q.object
        node = attrs[s]  # every subject is a node, even one with nothing but edges
        if p == RDF_TYPE:
            node["type"].append(curie(o.value))
        elif isinstance(o, ox.Literal):
            key = f"label_{o.language}" if p == RDFS_LABEL and o.language else curie(p)
            node[key].append(o.value)
        elif isinstance(o, ox.NamedNode):
            _ = attrs[o.value]
            edges.add((s, p, o.value))
    for node, a in sorted(attrs.items()):
        data = {k: " | ".join(sorted(dict.fromkeys(v))) for k, v in sorted(a.items())}
        data["iri"] = node
        data["label"] = data.get("label_zh") or data.get("label_en") or curie(node)
        g.add_node(node, **data)
    for s, p, o in sorted(edges):
        names = idx.term_labels.get(p, {})
        g.add_edge(s, o, key=curie(p), predicate=p, label=names.get("zh", curie(p)), label_en=names.get("en", curie(p)))
    return g


def graphml_bytes(g: nx.MultiDiGraph) -> bytes:
    """GraphML, UTF-8."""
    buf = io.BytesIO()
    nx.write_graphml(g, buf, encoding="utf-8", prettyprint=True)
    return buf.getvalue()


def gexf_bytes(g: nx.MultiDiGraph) -> bytes:
    """GEXF 1.2, UTF-8 (nodes and edges carry their label; the rest are attributes)."""
    h = nx.MultiDiGraph()
    for n, d in g.nodes(data=True):
        h.add_node(n, **d)
    for i, (s, o, k, d) in enumerate(g.edges(keys=True, data=True)):
        h.add_edge(s, o, key=k, id=str(i), **d)
    buf = io.BytesIO()
    nx.write_gexf(h, buf, encoding="utf-8", prettyprint=True, version="1.2draft")
    return buf.getvalue()


# -- CSV -------------------------------------------------------------------------------------

def class_tables(quads: list[ox.Quad]) -> dict[str, list[list[str]]]:
    """One table per class of the asserted data: {file name: rows with a header row first}.

    Columns: iri, id (the slug), label_zh, label_en, then one column per property the class's
    instances use (CURIE; several values joined by `` | ``, resources as CURIEs).
    """
    idx = _index(quads)
    props: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    members: dict[str, set[str]] = defaultdict(set)
    for q in idx.data:
        s, p, o = q.subject.value, q.predicate.value, q.object
        if p == RDF_TYPE:
            members[o.value].add(s)
            continue
        if p == RDFS_LABEL and isinstance(o, ox.Literal) and o.language in ("zh", "en"):
            key = f"label_{o.language}"
        elif isinstance(o, ox.Literal) and o.language:
            key = f"{curie(p)}@{o.language}"
        else:
            key = curie(p)
        props[s][key].append(o.value if isinstance(o, ox.Literal) else curie(o.value))
    tables = {}
    for cls, subs in sorted(members.items()):
        cols = sorted({k for s in subs for k in props[s]} - {"label_zh", "label_en"})
        header = ["iri", "id", "label_zh", "label_en", *cols]
        rows = [header]
        for s in sorted(subs):
            p = props[s]
            slug = s[len(str(ID)):] if s.startswith(str(ID)) else ""
            rows.append([s, slug, *(" | ".join(sorted(dict.fromkeys(p.get(c, [])))) for c in header[2:])])
        name = curie(cls).replace(":", "_").replace("/", "_").replace("#", "_") + ".csv"
        tables[name] = rows
    return tables


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def write_csv(tables: dict[str, list[list[str]]], out: Path) -> None:
    """Write the tables into a folder, or into one zip when ``out`` ends in .zip."""
    if out.suffix == ".zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, rows in tables.items():
                info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))  # fixed: same data, same bytes
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, _csv_bytes(rows))
        write_atomic(out, buf.getvalue())
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        write_atomic(out / name, _csv_bytes(rows))


# -- QuickStatements -------------------------------------------------------------------------

# Our property -> Wikidata property, each checked against Wikidata's own use of the property.
# Stock codes are left out: Wikidata keeps them as a ticker-symbol qualifier (P249) on a
# stock-exchange statement (P414), and none of our listed companies has a verified item.
WIKIDATA_PROPERTIES = {
    str(YF.gb2260Code): "P442",    # China administrative division code
    str(YF.iso3166Code): None,     # P297 (ISO 3166-1 alpha-2) or P300 (ISO 3166-2): chosen by shape
    str(SCHEMA.url): "P856",       # official website
    str(GEO.hasGeometry): "P625",  # coordinate location
}
GEONAMES_PROPERTY = "P1566"        # GeoNames ID


def _qs_string(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def quickstatements(quads: list[ox.Quad]) -> str:
    """QuickStatements V1 commands for the entities with a verified Wikidata item.

    Labels and alternative labels in zh and en become aliases (Azh, Aen), not labels: an L
    command would overwrite the item's existing label. A statement is given a reference URL
    (S854) when its graph's source document has one (schema:url).
    Returns:
        tab-separated commands, one per line, sorted (empty when no entity has a QID).
    """
    by_subject: dict[str, list[ox.Quad]] = defaultdict(list)
    wkt: dict[str, str] = {}
    doc_url: dict[str, str] = {}
    for q in quads:
        if not isinstance(q.subject, ox.NamedNode):
            continue
        by_subject[q.subject.value].append(q)
        if q.predicate.value == str(GEO.asWKT):
            wkt[q.subject.value] = q.object.value
    graph_doc = {}
    for q in quads:
        if q.predicate.value == RDF_TYPE and q.object.value == str(YF.SourceDocument) and isinstance(q.graph_name, ox.NamedNode):
            graph_doc[q.graph_name.value] = q.subject.value
    for s, qs in by_subject.items():
        for q in qs:
            if q.predicate.value == str(SCHEMA.url) and s in graph_doc.values():
                doc_url[s] = q.object.value
    lines = set()
    for s, qs in by_subject.items():
        qids = sorted({q.object.value[len(str(WD)):] for q in qs if q.predicate.value == EXACT_MATCH
                       and str(q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else "") == str(LINKS_GRAPH)
                       and q.object.value.startswith(str(WD))})
        if len(qids) != 1:
            continue  # none, or ambiguous: contribute nothing
        qid = qids[0]
        for q in qs:
            p, o = q.predicate.value, q.object
            g = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
            if g in SKIP_GRAPHS:
                continue
            ref = doc_url.get(graph_doc.get(g, ""))
            tail = [f"S854\t{_qs_string(ref)}"] if ref else []
            if p in (RDFS_LABEL, ALT_LABEL) and isinstance(o, ox.Literal) and o.language in ("zh", "en"):
                lines.add("\t".join([qid, f"A{o.language}", _qs_string(o.value)]))
            elif p == EXACT_MATCH and o.value.startswith("https://sws.geonames.org/"):
                gid = o.value.rstrip("/").rsplit("/", 1)[-1]
                lines.add("\t".join([qid, GEONAMES_PROPERTY, _qs_string(gid), *tail]))
            elif p == str(YF.iso3166Code):
                prop = "P300" if "-" in o.value else "P297"
                lines.add("\t".join([qid, prop, _qs_string(o.value), *tail]))
            elif p == str(GEO.hasGeometry) and o.value in wkt:
                lon, lat = wkt[o.value].strip()[len("POINT("):-1].split()
                lines.add("\t".join([qid, "P625", f"@{lat}/{lon}", *tail]))
            elif p in WIKIDATA_PROPERTIES and WIKIDATA_PROPERTIES[p] and p != str(GEO.hasGeometry):
                lines.add("\t".join([qid, WIKIDATA_PROPERTIES[p], _qs_string(o.value), *tail]))
    return "".join(line + "\n" for line in sorted(lines))


# -- CLI -------------------------------------------------------------------------------------

def cmd_export(args) -> int:
    from kg import paths

    build_dir = Path(args.build or paths.build_dir())
    if str(args.out) == "-":  # -o -: the export on stdout (written to a temporary file first)
        import shutil
        import sys
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = export(build_dir, args.format, Path(tmp) / f"kg.{EXTENSIONS.get(args.format, args.format)}")
            if path.is_dir():
                from kg.errors import InputError

                raise InputError(f"--format {args.format} writes a folder: give -o a folder or a .zip, not -")
            with path.open("rb") as f:
                shutil.copyfileobj(f, sys.stdout.buffer)
        return 0
    out = Path(args.out) if args.out else build_dir / "export" / f"kg.{EXTENSIONS.get(args.format, args.format)}"
    path = export(build_dir, args.format, out)
    print(f"wrote {path}")
    return 0


def register(sub) -> None:
    """Add ``kg export`` to the CLI."""
    p = sub.add_parser("export", help="write the graph as RDF, GraphML, GEXF, CSV tables or QuickStatements")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("-o", "--out", type=Path,
                   help="output file (csv: a folder, or a .zip); default build/export/kg.<format>; - for stdout")
    p.add_argument("--build", type=Path, help="build folder (default: build/)")
    p.set_defaults(func=cmd_export)
