"""`kg serve` as a real process on a free loopback port, for the tests that talk to it over TCP."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def kg_serve(build: Path, *options: str, wait: float = 120.0):
    """Start `kg serve --build build *options`, wait until it answers ASK {}, yield (port, process);
    stop it afterwards. Its output goes to a file, read back when it does not start."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen([sys.executable, "-m", "kg", "serve", "--build", str(build), "--port", str(port),
                                 *options], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", timeout=5).read()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        output.seek(0)
                        raise RuntimeError("kg serve did not start:\n" + output.read().decode(errors="replace"))
                    time.sleep(0.2)
            yield port, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
