"""`kg validate`, `kg reason` and `kg stats` through main(argv), on the mini dataset."""
from __future__ import annotations

import json

import owlready2
import pytest

from kg.cli import main


def args(mini, verb, *extra):
    return [verb, "--data", str(mini / "data"), "--sources", str(mini / "sources"), *extra]


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_validate_conforming_data_exits_0(mini, capsys):
    assert main(args(mini, "validate")) == 0
    assert "conforms" in capsys.readouterr().out


def test_validate_reports_a_missing_english_label_and_exits_1(mini, capsys):
    edit(mini / "data/entities.yaml", "label: {zh: 示例公司, en: Example Company}", "label: {zh: 示例公司}")
    assert main(args(mini, "validate", "--format", "json")) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["conforms"] is False
    shacl = [e for e in report["errors"] if e["stage"] == "shacl"]
    assert {e["focus"] for e in shacl} == {"https://w3id.org/yufeng-kg/id/shili-gongsi"}
    # traced back to the registry record's label line (entities.yaml line 9)
    assert {(e["file"].rsplit("/", 1)[-1], e["line"], e["field"]) for e in shacl} == {("entities.yaml", 9, "label")}


def test_reason_finds_the_mini_data_consistent(mini, capsys):
    assert main(args(mini, "reason")) == 0
    assert "consistent" in capsys.readouterr().out


def test_reason_exits_1_on_a_contradiction(mini, capsys):
    # an observation that is also an enterprise: the ontology makes the two disjoint
    edit(mini / "data/facts/mini_doc.yaml", "type: StatisticalObservation", "type: [StatisticalObservation, Enterprise]")
    assert main(args(mini, "reason")) == 1
    assert "inconsistent" in capsys.readouterr().err


def test_reason_without_java_says_so_without_a_trace(mini, capsys, monkeypatch):
    monkeypatch.setattr(owlready2, "JAVA_EXE", "/nonexistent/java")
    assert main(args(mini, "reason")) == 2
    err = capsys.readouterr().err
    assert "needs Java" in err and "Traceback" not in err


def test_stats_counts_classes_and_evidence(mini, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", "-q", "--data", str(mini / "data"), "--sources", str(mini / "sources"),
                 "--out", str(out), "--no-reason"]) == 0
    capsys.readouterr()
    assert main(["stats", "--build", str(out), "--format", "json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["classes"]["yf:StatisticalObservation"] == 1
    assert s["classes"]["yf:Enterprise"] == 1
    assert s["facts"] == s["facts_with_evidence"] > 0
    assert s["entities_without_en_label"] == []


@pytest.mark.parametrize("argv", [["nonsense"], ["build", "--no-such-flag"], []])
def test_bad_usage_exits_2(argv, capsys):
    assert main(argv) == 2
