"""The build pipeline end to end on the mini dataset: outputs, determinism, atomicity, bad input."""
from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset

from kg.cli import main

OUTPUTS = ["kg.trig", "kg.nq", "kg.ttl", "kg.nt", "kg.jsonld", "report.json"]


def run_build(mini: Path, out: Path, *extra: str) -> int:
    return main(["build", "-q", "--data", str(mini / "data"), "--sources", str(mini / "sources"),
                 "--out", str(out), *extra])


def test_build_writes_every_output(mini, tmp_path):
    out = tmp_path / "out"
    assert run_build(mini, out) == 0
    for name in OUTPUTS:
        assert (out / name).stat().st_size > 0, name
    assert (out / "store").is_dir()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["facts"] == report["facts_with_evidence"] > 0
    assert report["quotes"] > 0
    assert report["reasoning"]["consistent"] is True


def test_outputs_load_in_rdflib_and_pyoxigraph(mini, tmp_path):
    out = tmp_path / "out"
    assert run_build(mini, out, "--no-reason") == 0
    ds = Dataset()
    ds.parse(out / "kg.trig", format="trig")
    store = ox.Store()
    store.load(path=str(out / "kg.trig"), format=ox.RdfFormat.TRIG)
    assert len(list(ds.quads((None, None, None, None)))) == len(store) > 0
    # the quote for the GDP observation is the exact passage of the document
    q = """PREFIX oa: <http://www.w3.org/ns/oa#> PREFIX yf: <https://w3id.org/yufeng-kg/ontology#>
    PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
    SELECT ?exact WHERE { ?st rdf:subject <https://w3id.org/yufeng-kg/id/obs-gdp-2023> ;
      rdf:predicate yf:valueAsWritten ; yf:evidence ?span . ?span oa:hasSelector ?sel . ?sel oa:exact ?exact }"""
    rows = list(store.query(q, use_default_graph_as_union=True))
    assert [r["exact"].value for r in rows] == ["示例区在2023年地区生产总值为100.5亿元"]


def test_two_builds_are_byte_identical(mini, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_build(mini, a) == 0
    assert run_build(mini, b) == 0
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_build_without_sources_leaves_quotes_out(mini, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["build", "-q", "--data", str(mini / "data"), "--sources", str(tmp_path / "none"),
                 "--out", str(out), "--no-reason"])
    assert code == 0
    assert "quotes left out" in capsys.readouterr().err
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["quotes"] == 0


# One bad-input case per kind: (name, file, text to replace, replacement, message part, line).
BAD_INPUT = [
    ("malformed-yaml", "data/facts/mini_doc.yaml", "  - about: shili-qu\n", "  - about: [shili-qu\n",
     "malformed YAML", None),
    ("unknown-class", "data/entities.yaml", "type: Enterprise", "type: Enterprize", "unknown class 'Enterprize'", 8),
    ("duplicate-id", "data/entities.yaml", "id: gdp", "id: shili-qu", "duplicate id 'shili-qu'", 11),
    ("dangling-reference", "data/facts/mini_doc.yaml", "locatedIn: shili-qu", "locatedIn: nowhere-qu",
     "dangling reference 'nowhere-qu'", 14),
    ("bad-date", "data/facts/mini_doc.yaml", "published: 2024-01", "published: 2024-13",
     "not a real date", 6),
    ("span-out-of-range", "data/facts/mini_doc.yaml", "span: 25-34", "span: 25-340",
     "outside the document", 13),
    ("checksum-mismatch", "sources/mini_doc.txt", "示例公司", "样例公司", "checksum mismatch", 4),
    ("unknown-property", "data/facts/mini_doc.yaml", "locatedIn: shili-qu", "locatedInn: shili-qu",
     "unknown property 'locatedInn'", 14),
    ("bad-span-syntax", "data/facts/mini_doc.yaml", "span: 0-3", "span: three", "not of the form START-END", 10),
]


@pytest.mark.parametrize("name,file,old,new,message,line", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_exits_2_names_the_place_and_writes_nothing(mini, tmp_path, capsys, name, file, old, new,
                                                               message, line):
    out = tmp_path / "out"
    assert run_build(mini, out, "--no-reason") == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    path = mini / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    code = run_build(mini, out, "--no-reason")
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err
    shown = "mini_doc.yaml" if "mini_doc" in file else Path(file).name
    assert shown in err
    if line is not None:
        assert f":{line}" in err, err
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]
