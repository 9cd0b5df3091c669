"""Where the project's inputs and outputs live, with their environment overrides."""
from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def project_root() -> Path:
    """The checkout (when kg is installed editable or run from it), else the working directory."""
    if (_PACKAGE_ROOT / "ontology").is_dir():
        return _PACKAGE_ROOT
    return Path.cwd()


def data_dir() -> Path:
    return Path(os.environ.get("KG_DATA", project_root() / "data"))


def ontology_file() -> Path:
    return project_root() / "ontology" / "yufeng.ttl"


def shapes_file() -> Path:
    return project_root() / "ontology" / "shapes.ttl"


def queries_dir() -> Path:
    return project_root() / "queries"


def build_dir() -> Path:
    return Path(os.environ.get("KG_BUILD", project_root() / "build"))


def sources_dir() -> Path | None:
    """KG_SOURCES if set, else ../shared/sources beside the checkout when present, else None."""
    env = os.environ.get("KG_SOURCES")
    if env:
        return Path(env)
    guess = project_root().parent / "shared" / "sources"
    return guess if guess.is_dir() else None
