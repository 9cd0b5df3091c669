"""Where the project's inputs and outputs live, with their environment overrides.

Two layouts are found:

- a checkout (an editable install, or running from the repository): the ontology, named
  queries and curated data are the top-level folders ``ontology/``, ``queries/``, ``data/``
  beside ``kg/``, and the build goes to ``build/`` in the checkout;
- an installed wheel or sdist: the same folders travel as package data under
  ``kg/resources/`` (copied there by the build hook in setup.py), and the build goes to
  ``./build`` in the working directory.

``$KG_DATA``, ``$KG_BUILD`` and ``$KG_SOURCES`` override the data, build and source folders;
the CLI's ``--data``, ``--out``/``--build`` and ``--sources`` override those.
"""
from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE_DIR.parent
_PACKAGED = _PACKAGE_DIR / "resources"


def is_checkout() -> bool:
    """True when kg runs from a checkout of the repository (ontology/ beside kg/)."""
    return (_CHECKOUT / "ontology" / "yufeng.ttl").is_file() and (_CHECKOUT / "pyproject.toml").is_file()


def resources_root() -> Path:
    """The folder holding ontology/, queries/ and data/: the checkout, else the packaged copy."""
    if is_checkout():
        return _CHECKOUT
    if (_PACKAGED / "ontology").is_dir():
        return _PACKAGED
    raise FileNotFoundError(
        f"neither a checkout ({_CHECKOUT}/ontology) nor packaged resources ({_PACKAGED}) found: "
        "reinstall yufeng-kg from its wheel or sdist")


def project_root() -> Path:
    """The checkout when kg runs from one, else the working directory (where ./build goes)."""
    return _CHECKOUT if is_checkout() else Path.cwd()


def data_dir() -> Path:
    """The curated data: $KG_DATA, else data/ of the checkout or of the package."""
    env = os.environ.get("KG_DATA")
    return Path(env) if env else resources_root() / "data"


def ontology_file() -> Path:
    return resources_root() / "ontology" / "yufeng.ttl"


def shapes_file() -> Path:
    return resources_root() / "ontology" / "shapes.ttl"


def queries_dir() -> Path:
    return resources_root() / "queries"


def web_dir() -> Path:
    """Templates and static assets (always inside the package)."""
    return _PACKAGE_DIR / "web"


def build_dir() -> Path:
    """$KG_BUILD, else build/ in the checkout, else ./build in the working directory."""
    env = os.environ.get("KG_BUILD")
    return Path(env) if env else project_root() / "build"


def sources_dir() -> Path | None:
    """KG_SOURCES if set, else ../shared/sources beside the checkout when present, else None."""
    env = os.environ.get("KG_SOURCES")
    if env:
        return Path(env)
    if not is_checkout():
        return None
    guess = _CHECKOUT.parent / "shared" / "sources"
    return guess if guess.is_dir() else None
