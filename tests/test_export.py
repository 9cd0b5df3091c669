"""kg export: every RDF format reads back isomorphic to the build; GraphML and GEXF read back in
networkx with their labels; CSV tables open as UTF-8 with a BOM; QuickStatements only for
entities with a verified Wikidata item."""
from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import networkx as nx
import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from kg.cli import main
from kg.publish.export import to_networkx
from kg.read.store import read_quads

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Fictional identifiers for the made-up mini entities (never real links).
LINKS = ("entity\tscheme\tidentifier\tconfidence\tevidence\n"
         "shili-qu\twikidata\tQ999999999\tverified\ttest fixture: fictional\n"
         "shili-qu\tgb2260\t999999\tverified\ttest fixture: fictional\n"
         "shili-qu\tcoordinates\t24.5 109.5\tverified\ttest fixture: fictional\n"
         "shili-gongsi\twikidata\tQ999999998\tlikely\ttest fixture: unconfirmed\n")
RDFLIB_FORMAT = {"ttl": "turtle", "nt": "nt", "trig": "trig", "nq": "nquads", "jsonld": "json-ld", "rdfxml": "xml"}


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("export")
    shutil.copytree(FIXTURES / "mini", root / "mini")
    (root / "mini" / "data" / "links").mkdir()
    (root / "mini" / "data" / "links" / "external-ids.tsv").write_text(LINKS, encoding="utf-8")
    out = root / "build"
    assert main(["build", "-q", "--no-reason", "--data", str(root / "mini" / "data"),
                 "--sources", str(root / "mini" / "sources"), "--out", str(out)]) == 0
    return out


def export(build: Path, fmt: str, out: Path) -> Path:
    assert main(["export", "--build", str(build), "--format", fmt, "--out", str(out)]) == 0
    return out


def reference(build: Path) -> Dataset:
    ds = Dataset()
    ds.parse(build / "kg.nq", format="nquads")
    return ds


@pytest.mark.parametrize("fmt", ["ttl", "nt", "rdfxml"])
def test_triple_formats_read_back_isomorphic_to_the_union(build, tmp_path, fmt):
    path = export(build, fmt, tmp_path / f"kg.{fmt}")
    got = Graph().parse(path, format=RDFLIB_FORMAT[fmt])
    union = Graph()
    for s, p, o, _ in reference(build).quads((None, None, None, None)):
        union.add((s, p, o))
    assert len(got) == len(union) > 100
    assert isomorphic(got, union)


@pytest.mark.parametrize("fmt", ["trig", "nq", "jsonld"])
def test_quad_formats_read_back_isomorphic_per_graph(build, tmp_path, fmt):
    path = export(build, fmt, tmp_path / f"kg.{fmt}")
    got = Dataset()
    got.parse(path, format=RDFLIB_FORMAT[fmt])
    ref = reference(build)
    names = {g.identifier for g in ref.graphs() if len(g)}
    assert {g.identifier for g in got.graphs() if len(g)} == names
    for name in names:
        assert isomorphic(got.graph(name), ref.graph(name)), name


def test_graphml_reads_back_with_labels_and_without_evidence(build, tmp_path):
    path = export(build, "graphml", tmp_path / "kg.graphml")
    g = nx.read_graphml(path)
    expected = to_networkx(read_quads(build))
    assert g.number_of_nodes() == expected.number_of_nodes() > 3
    assert g.number_of_edges() == expected.number_of_edges() > 0
    qu = g.nodes["https://w3id.org/yufeng-kg/id/shili-qu"]
    assert qu["label_zh"] == "示例区" and qu["label_en"] == "Example District" and qu["label"] == "示例区"
    assert qu["yf:gb2260Code"] == "999999" and "yf:District" in qu["type"]
    assert not any("/statement/" in n or "/span/" in n for n in g.nodes)
    assert not any(n.startswith("https://w3id.org/yufeng-kg/ontology#") for n in g.nodes)  # no ontology graph
    located = [d for s, o, d in g.edges(data=True) if s.endswith("/shili-gongsi") and o.endswith("/shili-qu")]
    assert located and located[0]["label_en"] == "located in" and located[0]["label"]  # the property's labels


def test_gexf_reads_back_with_labels(build, tmp_path):
    path = export(build, "gexf", tmp_path / "kg.gexf")
    assert path.read_bytes().startswith(b"<?xml")
    g = nx.read_gexf(path)
    labels = {d.get("label") for _, d in g.nodes(data=True)}
    assert "示例区" in labels and "示例公司" in labels
    assert g.number_of_edges() > 0


def test_csv_tables_per_class_with_bom(build, tmp_path):
    folder = export(build, "csv", tmp_path / "csv")
    names = sorted(p.name for p in folder.iterdir())
    assert "yf_District.csv" in names and "yf_Enterprise.csv" in names and "yf_StatisticalObservation.csv" in names
    raw = (folder / "yf_Enterprise.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0]["id"] == "shili-gongsi" and rows[0]["label_zh"] == "示例公司"
    assert rows[0]["yf:locatedIn"] == "yfid:shili-qu"
    assert rows[0]["skos:altLabel@zh"] == "示例"
    zipped = export(build, "csv", tmp_path / "tables.zip")
    with zipfile.ZipFile(zipped) as zf:
        assert sorted(zf.namelist()) == names
        assert zf.read("yf_Enterprise.csv") == raw
    again = export(build, "csv", tmp_path / "again.zip")
    assert again.read_bytes() == zipped.read_bytes()  # deterministic


def test_quickstatements_only_for_verified_items(build, tmp_path):
    text = export(build, "quickstatements", tmp_path / "kg.qs.tsv").read_text(encoding="utf-8")
    lines = set(text.splitlines())
    assert 'Q999999999\tAzh\t"示例区"' in lines
    assert 'Q999999999\tAen\t"Example District"' in lines
    assert 'Q999999999\tP442\t"999999"' in lines
    assert "Q999999999\tP625\t@24.5/109.5" in lines
    assert not any(line.startswith("Q999999998") for line in lines)  # a likely QID contributes nothing
    assert not any("\tL" in line for line in lines)  # never overwrite a label
    assert all(len(line.split("\t")) >= 3 for line in lines)


def test_unknown_format_is_bad_usage(build, tmp_path):
    assert main(["export", "--build", str(build), "--format", "xlsx"]) == 2
