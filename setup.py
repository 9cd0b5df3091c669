"""Build hook: the package carries the project's data files without committed copies.

The ontology, the named queries and the curated data live at the top of the repository
(ontology/, queries/, data/), where people edit them. A wheel built from the checkout or from
the sdist copies them into ``kg/resources/`` so that an installed ``kg`` finds them
(:mod:`kg.paths` looks in the checkout first, then there). Everything else is in pyproject.toml.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
RESOURCES = ("ontology", "queries", "data")
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


class build_py_with_resources(build_py):
    """build_py, then the top-level data folders copied to kg/resources/ in the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads the checkout itself
            return
        target = Path(self.build_lib) / "kg" / "resources"
        for name in RESOURCES:
            src = ROOT / name
            if not src.is_dir():
                raise SystemExit(f"setup.py: {src} is missing: build from the checkout or its sdist")
            dst = target / name
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(src, dst, ignore=_SKIP)


setup(cmdclass={"build_py": build_py_with_resources})
