"""`kg serve` as a real process under hostile clients (loopback only, bounded in count and time):
connection floods, idle and slow (slowloris) connections, and runaway queries beside normal clients.
Hostile clients connect from other loopback addresses (127.0.0.2, 127.0.0.3), as distinct
machines would."""
from __future__ import annotations

import http.client
import os
import re
import socket
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from .liveserver import kg_serve

ROOT = Path(__file__).resolve().parent.parent
CARTESIAN_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
MAX_CONNECTIONS = 40
NORMAL = [
    "ASK { ?s ?p ?o }",
    "SELECT ?l WHERE { <https://w3id.org/yufeng-kg/id/jinsangzi> <http://www.w3.org/2000/01/rdf-schema#label> ?l }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?t }",
    "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?l LIMIT 20",
]


@pytest.fixture(scope="module")
def server(real_build):
    with start_server(real_build) as running:
        yield running


def start_server(real_build, *options: str):
    return kg_serve(real_build, "--timeout", "2", "--threads", "4", "--slow-threads", "1", "--header-timeout", "1",
                    "--max-connections", str(MAX_CONNECTIONS), *options)


def ask(port: int, query: str = "ASK {}", source: str = "127.0.0.1", timeout: float = 10.0) -> tuple[int, float]:
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request("GET", "/sparql?" + urllib.parse.urlencode({"query": query}),
                     headers={"Accept": "application/sparql-results+json"})
        r = conn.getresponse()
        r.read()
        return r.status, time.monotonic() - t0
    finally:
        conn.close()


def assert_alive(port: int) -> None:
    status, elapsed = ask(port)
    assert status == 200 and elapsed < 1.0, (status, elapsed)


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_4_connection_flood_is_capped_and_idle_connections_are_closed(server):
    port, proc = server
    socks = []
    try:
        for _ in range(3 * MAX_CONNECTIONS):
            s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.2", 0))
            socks.append(s)
        time.sleep(0.3)
        assert open_fds(proc.pid) < MAX_CONNECTIONS + 64  # the rest were closed at once, not kept
        # idle connections (no request) are closed after the header timeout
        assert all(closed_by_server(s, 3.0) for s in socks[:MAX_CONNECTIONS // 2])
    finally:
        for s in socks:
            s.close()
    assert_alive(port)


def test_4_slow_headers_are_closed(server):
    port, _ = server
    assert_slow_headers_closed(port)


def test_4_the_guards_hold_with_several_server_processes(real_build):
    with start_server(real_build, "--workers", "2", "--threads", "1", "--slow-threads", "1") as (port, _):
        for _ in range(2):  # whichever process takes the connection
            assert_slow_headers_closed(port)


def assert_slow_headers_closed(port: int) -> None:
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.3", 0))
    try:
        s.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        closed = False
        while time.monotonic() - t0 < 5:
            try:
                s.sendall(b"X")  # one byte of a header at a time: never a whole request
            except OSError:
                closed = True
                break
            if closed_by_server(s, 0.3):
                closed = True
                break
        assert closed, "a connection dribbling its headers was kept open"
    finally:
        s.close()
    assert_alive(port)


def head_answer(port: int, request: bytes, pieces: int = 1) -> bytes:
    """Send request (in pieces) and return the start of what the server answers."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.3", 0))
    try:
        size = len(request) // pieces + 1
        try:
            for i in range(0, len(request), size):
                s.sendall(request[i:i + size])
        except OSError:
            pass  # the server answered and closed before the rest arrived
        return s.recv(200)
    finally:
        s.close()


def test_4_oversized_request_heads_get_431(server):
    port, _ = server
    start = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n"
    many = start + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(100)) + b"\r\n"
    endless = start + b"X-Big: " + b"a" * 200_000  # one header that never ends
    for request, pieces in ((many, 1), (endless, 20)):
        assert head_answer(port, request, pieces).startswith(b"HTTP/1.1 431 "), pieces
        assert_alive(port)
    fine = start + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(30)) + b"\r\n"
    assert head_answer(port, fine).startswith(b"HTTP/1.1 200 ")


def test_the_guards_hold_on_h11_where_httptools_is_missing(monkeypatch):
    """The protocol falls back to uvicorn's h11 one when httptools cannot be installed: the header
    timeout and a head limit (h11's own, 400) still hold there."""
    import uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol

    from kg.server.serve import GuardedProtocol, Settings, uvicorn_options

    monkeypatch.setattr(GuardedProtocol, "base", classmethod(lambda cls: H11Protocol))
    options = uvicorn_options(Settings(header_timeout=1.0))
    assert issubclass(options["http"], H11Protocol)

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        start = b"GET / HTTP/1.1\r\nHost: x\r\n"
        assert head_answer(port, start + b"\r\n").startswith(b"HTTP/1.1 200 ")
        assert head_answer(port, start + b"X-Big: " + b"a" * 200_000, 20).startswith(b"HTTP/1.1 400 ")
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            s.sendall(start)  # and then nothing: closed after the header timeout
            assert closed_by_server(s, 4.0)
        finally:
            s.close()
    finally:
        server.should_exit = True
        thread.join(10)


def test_4_heads_behind_a_running_request_are_held_to_the_limit(server):
    """The head limit also holds for bytes that arrive while a request is being answered: a
    pipelined request's endless header, or an endless trailer after a chunked body (httptools
    keeps a header's pieces until it ends, joining them each time: the memory grows and the event
    loop stalls). The server answers 431 at once rather than after the running request."""
    port, _ = server
    slow = urllib.parse.urlencode({"query": CARTESIAN_COUNT})  # runs to the 2 s limit: 504
    pipelined = (f"GET /sparql?{slow} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                 + b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000)
    trailer = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n5\r\nASK{}\r\n0\r\nX-Trailer: " + b"a" * 1_000_000)
    for request in (pipelined, trailer):
        s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.4", 0))
        try:
            try:
                for i in range(0, len(request), 16384):
                    s.sendall(request[i:i + 16384])
            except OSError:
                pass  # the server answered and closed before the rest arrived
            answer = s.recv(200)
        finally:
            s.close()
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:40]
        assert_alive(port)


def test_4_pipelined_requests_are_answered_in_order_up_to_a_bound(server):
    """Requests sent one behind the other without waiting (HTTP/1.1 pipelining) are all answered, in
    order, while few; a connection that queues more than MAX_PIPELINED is closed (uvicorn queued
    every one, a few KiB each: 500 MB held for one connection in 8 s)."""
    from kg.server.serve import MAX_PIPELINED

    port, _ = server

    def answers(n: int, pad: int = 0) -> tuple[list[bytes], bool]:
        s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.5", 0))
        got, closed = b"", False
        try:
            s.sendall(b"".join(b"GET /favicon.ico?n=%d HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n" % (i, b"p" * pad)
                               for i in range(n)))
            while got.count(b"HTTP/1.1 ") < n:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
                got += chunk
        except OSError:  # reset, or the send cut short, by the server's closing
            closed = True
        finally:
            s.close()
        return re.findall(rb"HTTP/1.1 (\d+)", got), closed

    statuses, closed = answers(20)
    assert statuses == [b"204"] * 20 and not closed
    statuses, closed = answers(MAX_PIPELINED * 20)
    assert closed and len(statuses) < MAX_PIPELINED * 20
    statuses, closed = answers(20, pad=60_000)  # fewer, but their heads together far over 64 KiB each
    assert closed and len(statuses) < 20
    assert_alive(port)


def test_answers_larger_than_the_pipe_arrive_whole(server):
    """A worker's reply bigger than a pipe's buffer (64 KiB) is read in pieces by the server's event
    loop (uvloop here, which makes the pipe non-blocking)."""
    port, _ = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/sparql?" + urllib.parse.urlencode({"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 4000"}),
                     headers={"Accept": "application/sparql-results+json"})
        r = conn.getresponse()
        body = r.read()
    finally:
        conn.close()
    assert r.status == 200 and len(body) > 256 * 1024
    import json
    assert len(json.loads(body)["results"]["bindings"]) == 4000


def test_load_with_hostile_clients(server):
    """2 hostile clients sending runaway queries beside 8 normal ones, for a few seconds: every
    normal query is answered (no 5xx, no 429); the hostile ones get 504 or 429."""
    port, _ = server
    stop = time.monotonic() + 6.0
    normal: list[tuple[int, float]] = []
    hostile: list[int] = []
    lock = threading.Lock()

    def normal_client(i: int) -> None:
        n = 0
        while time.monotonic() < stop:
            result = ask(port, NORMAL[(i + n) % len(NORMAL)])
            n += 1
            with lock:
                normal.append(result)

    def hostile_client(source: str) -> None:
        while time.monotonic() < stop:
            status, _ = ask(port, CARTESIAN_COUNT, source=source)
            with lock:
                hostile.append(status)

    threads = [threading.Thread(target=normal_client, args=(i,)) for i in range(8)]
    threads += [threading.Thread(target=hostile_client, args=(src,)) for src in ("127.0.0.2", "127.0.0.3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = [s for s, _ in normal]
    assert len(statuses) > 50 and set(statuses) == {200}, sorted(set(statuses))
    assert hostile and set(hostile) <= {504, 429}, sorted(set(hostile))
    assert_alive(port)
