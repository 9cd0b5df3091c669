"""The package as a new user gets it: a wheel and an sdist built from the tracked files, each
installed into a fresh virtual environment outside the repository, then used from there.

No network: the fresh environment sees the test environment's installed packages (a .pth
file pointing at its site-packages, which holds the dependencies) and pip runs with --no-index,
so pip still checks that every declared dependency is installed. The checkout's own ``kg``
(an editable install) is not visible there: the test checks that first.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.packaging


def _run(cmd: list[str], cwd: Path, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _tracked_copy(dest: Path) -> Path:
    """The tracked files of the checkout (what a clone holds), without build outputs."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if not src.is_file() or name.startswith(("tests/", "bench/", "docs/")):
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(src.read_bytes())
    return dest


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """The wheel and the sdist, built with setuptools' PEP 517 hooks in a copy of the checkout."""
    src = _tracked_copy(tmp_path_factory.mktemp("src"))
    out = tmp_path_factory.mktemp("dist")
    built = {}
    for kind in ("sdist", "wheel"):
        # one process per hook: setuptools keeps state between them in one process
        script = f"import sys; from setuptools import build_meta as b; print('BUILT', b.build_{kind}(sys.argv[1]))"
        proc = _run([sys.executable, "-c", script, str(out)], cwd=src)
        # setuptools announces deprecated metadata (a licence table, classifiers) in its log
        assert "deprecat" not in (proc.stdout + proc.stderr).lower(), proc.stdout + proc.stderr
        built[kind] = out / proc.stdout.rsplit("BUILT", 1)[1].split()[0]
    sdist, wheel = built["sdist"].name, built["wheel"].name
    return {"sdist": out / sdist, "wheel": out / wheel}


def test_wheel_holds_the_data_and_the_licences(dists):
    names = set(zipfile.ZipFile(dists["wheel"]).namelist())
    for need in ("kg/resources/ontology/yufeng.ttl", "kg/resources/ontology/shapes.ttl",
                 "kg/resources/queries/cq/cq05-awards-2023.rq", "kg/resources/data/entities.yaml",
                 "kg/web/templates/explorer.html", "kg/web/static/vendor/vis-network/vis-network.min.js",
                 "kg/py.typed"):
        assert need in names, need
    assert any(n.endswith("/licenses/LICENSE") for n in names)
    assert any(n.endswith("/licenses/LICENSE-DATA") for n in names)
    assert not any(n.startswith(("tests/", "bench/", "ontology/", "data/", "queries/")) for n in names)
    meta = zipfile.ZipFile(dists["wheel"]).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: Apache-2.0 AND CC-BY-4.0" in meta
    assert "Requires-Dist: pyvis" in meta and 'extra == "notebook"' in meta


def test_sdist_holds_the_top_level_folders(dists):
    with tarfile.open(dists["sdist"]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for need in ("ontology/yufeng.ttl", "queries/cq/cq05-awards-2023.rq", "data/entities.yaml",
                 "setup.py", "LICENSE", "LICENSE-DATA", "kg/web/templates/explorer.html"):
        assert need in names, need


def _fresh_venv(where: Path) -> tuple[Path, dict]:
    """A venv without pip whose sys.path also holds this environment's site-packages (the deps)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    py = where / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KG_", "VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = f"{where / 'bin'}:{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    # before installing, kg must not be importable there: else the test would try the checkout
    probe = subprocess.run([str(py), "-c", "import kg"], capture_output=True, text=True, cwd=where, env=env)
    assert probe.returncode != 0, "the checkout's kg leaks into the fresh venv"
    return py, env


def _install(py: Path, env: dict, target: Path, cwd: Path) -> None:
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-index", "--quiet",
          "--no-build-isolation", f"{target}[notebook]"], cwd=cwd, env=env)


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_installed_package_works_outside_the_checkout(dists, tmp_path, kind):
    py, env = _fresh_venv(tmp_path / "venv")
    work = tmp_path / "work"
    work.mkdir()
    _install(py, env, dists[kind], work)
    kg = str(tmp_path / "venv" / "bin" / "kg")

    where = _run([str(py), "-c", "import kg, kg.paths as p; print(kg.__file__); print(p.queries_dir())"],
                 cwd=work, env=env).stdout.split()
    assert str(tmp_path / "venv") in where[0] and "resources" in where[1], where

    listed = _run([kg, "query", "--list"], cwd=work, env=env).stdout
    assert "cq05-awards-2023" in listed and "cq15-plans-vs-results" in listed

    # the wheel builds into --out, the sdist into ./build by default; the reasoner (Java, the
    # slowest stage, and no package data of its own) is left to tests/test_build.py
    out = work / "graph" if kind == "wheel" else work / "build"
    build = [kg, "build", "-q", "--no-reason"] + (["--out", str(out)] if kind == "wheel" else [])
    _run(build, cwd=work, env=env)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["triples"] > 1000 and (out / "kg.nq").is_file()

    # the installed package answers a competency question exactly as its hand-checked expectation
    awards = _run([kg, "query", "cq05-awards-2023", "--build", str(out), "--format", "tsv"],
                  cwd=work, env=env).stdout
    expected = (ROOT / "queries" / "cq" / "cq05-awards-2023.tsv").read_text(encoding="utf-8")
    assert sorted(awards.splitlines()) == sorted(expected.splitlines())

    page = work / "jinsangzi.html"
    code = ("import kg, sys; net = kg.to_pyvis(focus='金嗓子', build_dir=sys.argv[1]);"
            "net.write_html(sys.argv[2]); print(len(net.nodes), len(net.edges))")
    counts = _run([str(py), "-c", code, str(out), str(page)], cwd=work, env=env).stdout.split()
    assert int(counts[0]) > 3 and int(counts[1]) > 2
    html = page.read_text(encoding="utf-8")
    assert "金嗓子" in html and "new vis.Network" in html
    assert "cdnjs" not in html and "jsdelivr" not in html and "<script src=\"http" not in html
