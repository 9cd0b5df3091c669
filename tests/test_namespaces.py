"""Every PREFIX in queries/ and every @prefix in ontology/ agrees with kg/namespaces.py."""
from __future__ import annotations

import re

import pytest

from kg.namespaces import PREFIXES

from .conftest import ROOT

SPARQL_PREFIX = re.compile(r"^\s*PREFIX\s+([\w-]*):\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)
TURTLE_PREFIX = re.compile(r"^\s*@prefix\s+([\w-]*):\s*<([^>]*)>\s*\.", re.MULTILINE)
FILES = sorted([*ROOT.glob("queries/**/*.rq"), *ROOT.glob("ontology/*.ttl")])


def declared(path):
    rx = SPARQL_PREFIX if path.suffix == ".rq" else TURTLE_PREFIX
    return rx.findall(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_prefixes_agree_with_the_namespaces_module(path):
    for prefix, iri in declared(path):
        if prefix in PREFIXES:
            assert PREFIXES[prefix] == iri, f"{path}: {prefix}: is <{iri}>, kg/namespaces.py says <{PREFIXES[prefix]}>"
        else:
            clash = [p for p, ns in PREFIXES.items() if ns == iri]
            assert not clash, f"{path}: <{iri}> is called {prefix}: here but {clash[0]}: in kg/namespaces.py"


def test_project_namespaces_are_spelled_once():
    assert len(set(PREFIXES.values())) == len(PREFIXES)
    assert all(iri.startswith("http") and iri[-1] in "/#" for iri in PREFIXES.values())
