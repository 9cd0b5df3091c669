"""kg push against two real stores started here on 127.0.0.1: Oxigraph server and Virtuoso 7.

Each server runs in a temporary folder on a free loopback port and is stopped by its fixture's
finalizer. Virtuoso is skipped (with the reason) when its binary is missing: `make system`
installs it (scripts/system-deps.sh). After a push, the labels are read back with SPARQLWrapper
and compared with the local graph, text by text.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from SPARQLWrapper import DIGEST, GET, JSON, SPARQLWrapper

from kg.cli import main
from kg.publish.push import PushError, Target, batches, push
from kg.read.store import read_quads

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REGISTRY = "https://w3id.org/yufeng-kg/graph/registry"
ONTOLOGY = "https://w3id.org/yufeng-kg/graph/ontology"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
VIRTUOSO_PASSWORD = "kgpass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    """The mini dataset built (Chinese labels, an ontology graph with blank nodes)."""
    root = tmp_path_factory.mktemp("push")
    shutil.copytree(FIXTURES / "mini", root / "mini")
    out = root / "build"
    assert main(["build", "-q", "--no-reason", "--data", str(root / "mini" / "data"),
                 "--sources", str(root / "mini" / "sources"), "--out", str(out)]) == 0
    return out


def oxigraph_binary() -> str | None:
    import sys

    cand = Path(sys.executable).parent / "oxigraph"
    return str(cand) if cand.is_file() else shutil.which("oxigraph")


def start_oxigraph(tmp: Path) -> tuple[subprocess.Popen, str]:
    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the `oxigraph` server (PyPI oxigraph) is not installed: pip install '.[test]'")
    port = free_port()
    proc = subprocess.Popen([binary, "serve", "--location", str(tmp), "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/query?query=ASK%7B%7D", proc, 15)
    except Exception:
        stop(proc)
        raise
    return proc, base


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory):
    proc, base = start_oxigraph(tmp_path_factory.mktemp("oxigraph"))
    yield base
    stop(proc)


VIRTUOSO_INI = """[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = .
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
"""


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    """A fresh Virtuoso on loopback with user kg (SPARQL_UPDATE); yields its base URL."""
    server, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if not server or not isql:
        pytest.skip("Virtuoso is not installed (virtuoso-t, isql-vt): run `make system` "
                    "or apt-get install virtuoso-opensource-7-bin")
    d = tmp_path_factory.mktemp("virtuoso")
    sql, http = free_port(), free_port()
    (d / "virtuoso.ini").write_text(VIRTUOSO_INI.format(d=d, sql=sql, http=http), encoding="utf-8")
    proc = subprocess.Popen([server, "+foreground", "+configfile", str(d / "virtuoso.ini")], cwd=d,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{http}"
    try:
        wait_http(f"{base}/sparql?query=ASK%7B%7D", proc, 60)
        setup = (f"DB.DBA.USER_CREATE('kg', '{VIRTUOSO_PASSWORD}'); GRANT SPARQL_UPDATE TO \"kg\"; "
                 "GRANT SPARQL_SELECT TO \"kg\";")
        subprocess.run([isql, f"127.0.0.1:{sql}", "dba", "dba", f"exec={setup}"], check=True, timeout=30,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        yield base
    finally:
        try:
            subprocess.run([isql, f"127.0.0.1:{sql}", "dba", "dba", "exec=shutdown;"], timeout=15,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pass
        stop(proc)


def oxigraph_args(base: str) -> list[str]:
    return ["--endpoint", f"{base}/query", "--update-url", f"{base}/update", "--store-url", f"{base}/store"]


def virtuoso_args(base: str) -> list[str]:
    return ["--endpoint", f"{base}/sparql", "--update-url", f"{base}/sparql-auth",
            "--store-url", f"{base}/sparql-graph-crud-auth", "--user", "kg", "--password", VIRTUOSO_PASSWORD,
            "--auth", "digest", "--timeout", "30"]


def local_labels(build: Path, graph: str) -> set[tuple[str, str, str]]:
    return {(q.subject.value, q.object.value, q.object.language or "") for q in read_quads(build)
            if q.graph_name.value == graph and q.predicate.value == LABEL}


def remote_labels(query_url: str, graph: str) -> set[tuple[str, str, str]]:
    sw = SPARQLWrapper(query_url)
    sw.setMethod(GET)  # never a direct POST: Virtuoso hangs on it
    sw.setReturnFormat(JSON)
    sw.setTimeout(30)
    sw.setQuery(f"SELECT ?s ?l WHERE {{ GRAPH <{graph}> {{ ?s <{LABEL}> ?l }} }}")
    rows = sw.query().convert()["results"]["bindings"]
    return {(r["s"]["value"], r["l"]["value"], r["l"].get("xml:lang", "").lower()) for r in rows}


def run_push(capsys, build: Path, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["push", "-q", "--build", str(build), *args])
    captured = capsys.readouterr()
    return code, captured.out if code in (0, 1) else captured.out + captured.err


@pytest.mark.parametrize("method", ["gsp", "insert"])
def test_push_round_trips_through_oxigraph(build, oxigraph, capsys, method):
    code, out = run_push(capsys, build, *oxigraph_args(oxigraph), "--method", method, "--batch-size", "100")
    assert code == 0, out
    assert "all counts match" in out and f"  {method} " in out
    for graph in (REGISTRY, ONTOLOGY):
        assert remote_labels(f"{oxigraph}/query", graph) == local_labels(build, graph)
    assert ("https://w3id.org/yufeng-kg/id/shili-qu", "示例区", "zh") in remote_labels(f"{oxigraph}/query", REGISTRY)


def test_push_is_idempotent(build, oxigraph, capsys):
    for _ in range(2):
        code, out = run_push(capsys, build, *oxigraph_args(oxigraph))
        assert code == 0, out
    total = sum(1 for q in read_quads(build))
    assert f"{total} triples; all counts match" in out


def test_gsp_falls_back_to_insert_data(build, oxigraph, capsys):
    code, out = run_push(capsys, build, "--endpoint", f"{oxigraph}/query", "--update-url", f"{oxigraph}/update",
                         "--store-url", f"{oxigraph}/no-such-store")
    assert code == 0, out
    assert "  insert " in out and "  gsp " not in out


def test_a_count_difference_exits_1(build, oxigraph, tmp_path, capsys):
    proc, empty = start_oxigraph(tmp_path / "empty")
    try:  # write to one server, count on another: every graph differs
        code, out = run_push(capsys, build, *oxigraph_args(oxigraph), "--query-url", f"{empty}/query")
    finally:
        stop(proc)
    assert code == 1
    assert "DIFFERS" in out


def test_unreachable_store_is_an_error_not_a_hang(build, capsys):
    port = free_port()
    code = main(["push", "-q", "--build", str(build), "--endpoint", f"http://127.0.0.1:{port}/sparql",
                 "--timeout", "2"])
    assert code == 2
    assert "cannot reach the store" in capsys.readouterr().err


def test_blank_nodes_stay_in_one_batch(build):
    quads = read_quads(build)
    assert any(q.subject.__class__.__name__ == "BlankNode" for q in quads)
    parts = batches(quads, 7)
    assert len(parts) > 1 and sum(len(b) for b in parts) == len(quads)
    seen: dict[str, int] = {}
    for i, batch in enumerate(parts):
        for q in batch:
            for t in (q.subject, q.object):
                if t.__class__.__name__ == "BlankNode":
                    assert seen.setdefault(str(t), i) == i, f"{t} split across batches"


@pytest.mark.parametrize("method", ["gsp", "insert"])
def test_push_round_trips_through_virtuoso(build, virtuoso, capsys, method):
    code, out = run_push(capsys, build, *virtuoso_args(virtuoso), "--method", method, "--batch-size", "500")
    assert code == 0, out
    assert "all counts match" in out
    for graph in (REGISTRY, ONTOLOGY):
        assert remote_labels(f"{virtuoso}/sparql", graph) == local_labels(build, graph)


def test_virtuoso_refuses_a_wrong_password(build, virtuoso):
    target = Target(query_url=f"{virtuoso}/sparql", update_url=f"{virtuoso}/sparql-auth",
                    store_url=f"{virtuoso}/sparql-graph-crud-auth", auth="digest", user="kg", password="wrong",
                    timeout=30)
    with pytest.raises(PushError, match="HTTP 401"):
        push(read_quads(build), target, graphs=[REGISTRY])


def test_virtuoso_update_with_sparqlwrapper_digest(virtuoso):
    # the Digest-only update endpoint, as a SPARQLWrapper user would use it
    sw = SPARQLWrapper(f"{virtuoso}/sparql-auth")
    sw.setHTTPAuth(DIGEST)
    sw.setCredentials("kg", VIRTUOSO_PASSWORD)
    sw.setMethod("POST")
    sw.setTimeout(30)
    sw.setQuery('INSERT DATA { GRAPH <urn:kg:test> { <urn:a> <urn:b> "𠮷野家 \\"引号\\""@zh } }')
    sw.query()
    assert remote_labels_any(f"{virtuoso}/sparql") == {("urn:a", '𠮷野家 "引号"', "zh")}


def remote_labels_any(query_url: str) -> set[tuple[str, str, str]]:
    sw = SPARQLWrapper(query_url)
    sw.setMethod(GET)
    sw.setReturnFormat(JSON)
    sw.setTimeout(30)
    sw.setQuery("SELECT ?s ?o WHERE { GRAPH <urn:kg:test> { ?s ?p ?o } }")
    rows = sw.query().convert()["results"]["bindings"]
    return {(r["s"]["value"], r["o"]["value"], r["o"].get("xml:lang", "")) for r in rows}
