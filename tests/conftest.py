"""Shared fixtures: the mini dataset, the real build (built once per test session)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI = FIXTURES / "mini"


def real_sources() -> Path | None:
    """The folder holding the real source document, if this machine has it."""
    env = os.environ.get("KG_SOURCES")
    cand = Path(env) if env else ROOT.parent / "shared" / "sources"
    return cand if (cand / "000_b3b90ce150a63deb.txt").is_file() else None


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A writable copy of the mini dataset (data/ and sources/)."""
    dst = tmp_path / "mini"
    shutil.copytree(MINI, dst)
    return dst


@pytest.fixture(scope="session")
def real_build(tmp_path_factory) -> Path:
    """The real graph built once into a temporary folder (with quotes when the source is here)."""
    from kg.pipeline.build import build

    out = tmp_path_factory.mktemp("build")
    build(ROOT / "data", real_sources(), out)
    return out


@pytest.fixture(scope="session")
def real_store(real_build):
    from kg.read.store import open_store

    return open_store(real_build)
