"""Queries in worker processes that may crash, blow up or run away without harming the caller.

Each worker is a separate Python process (``python -m kg.read.runner``) that opens the store of a
build once and then answers jobs sent over its stdin/stdout pipes (length-prefixed pickles). A
worker runs with a cap on its address space (``RLIMIT_AS``), so a query that wants all the
memory of the host fails inside the worker; a worker still busy at the deadline is killed
(SIGKILL); a worker that dies (an Oxigraph panic aborts the process) is replaced. The caller
only ever waits on a pipe, so after any query the next one is answered as soon as a worker is
free.

What a job does is a handler named ``"module:function"``, called as ``handler(store, job)`` in
the worker; its return value (picklable) is the reply. The server's handler writes the HTTP
body (:func:`kg.server.sparql.answer_in_worker`); ``kg query``'s returns terms
(:func:`kg.read.query.answer_in_worker`).

- :class:`WorkerPool`: N workers for an asyncio server (``await pool.run(job, timeout)``).
- :class:`IsolatedQueries`: one worker, used synchronously (``kg query``, ``kg.query``).
"""
from __future__ import annotations

import asyncio
import importlib
import json
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

_HEADER = struct.Struct("!I")
DEFAULT_MEMORY_MB = 2048


class WorkerCrashed(Exception):
    """The worker died while running the job (an engine panic, or the memory cap reached)."""


class WorkerTimeout(Exception):
    """The job ran past its deadline; the worker was killed."""


class WorkerUnavailable(Exception):
    """No worker could be started (the build cannot be loaded) or none became free in time."""


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker opens and runs.

    Attributes:
        nq: the N-Quads file loaded into the worker's in-memory store.
        handler: ``"module:function"`` called as handler(store, job).
        memory_mb: the worker's address-space cap (RLIMIT_AS) in MiB; 0 = none.
    """

    nq: str
    handler: str
    memory_mb: int = DEFAULT_MEMORY_MB


# ----- the worker side ---------------------------------------------------------------------------

def _read_exact(stream, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _send(stream, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def worker_main(config: WorkerConfig) -> int:
    """The worker's loop: open the store, say ready, answer jobs until stdin closes."""
    import resource

    import pyoxigraph as ox

    if config.memory_mb:
        cap = config.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the reply stream
    module, _, name = config.handler.partition(":")
    handler = getattr(importlib.import_module(module), name)
    try:
        store = ox.Store()
        store.bulk_load(path=config.nq, format=ox.RdfFormat.N_QUADS)
    except (OSError, SyntaxError, MemoryError, ValueError) as exc:
        _send(out, {"ready": False, "error": f"{config.nq}: {exc}"})
        return 2
    _send(out, {"ready": True, "quads": len(store)})
    while True:
        head = _read_exact(inp, _HEADER.size)
        if head is None:
            return 0
        data = _read_exact(inp, _HEADER.unpack(head)[0])
        if data is None:
            return 0
        job = pickle.loads(data)
        try:
            reply = {"ok": handler(store, job)}
        except MemoryError:
            reply = {"memory": True}
        except Exception as exc:  # noqa: BLE001 - the handler's errors go back to the caller as they are
            reply = {"error": exc}
        try:
            _send(out, reply)
        except pickle.PicklingError as exc:
            _send(out, {"error": RuntimeError(f"the reply could not be sent back: {exc}")})


# ----- the caller side ---------------------------------------------------------------------------

_OWN_PROCESS_GROUP: dict = ({"process_group": 0} if sys.version_info >= (3, 11)
                             else {"preexec_fn": os.setpgrp} if hasattr(os, "setpgrp") else {})
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class Worker:
    """One worker process and its pipes."""

    def __init__(self, config: WorkerConfig):
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parent.parent.parent)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.setdefault("RUST_BACKTRACE", "0")
        # stderr goes to a file, not a pipe nobody drains while the worker lives (a full pipe would
        # block it); it is read when the worker dies, to say why
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kg.read.runner", json.dumps(config.__dict__)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env,
            # its own process group, so that a Ctrl-C in the terminal reaches the caller only (which
            # ends its workers); but the caller's session, because Linux shares the CPU fairly between
            # sessions (autogroups) and a niced worker in a session of its own would keep its share
            **_OWN_PROCESS_GROUP,
        )
        # replies are read from the raw descriptor, never through a buffered reader, and it is
        # non-blocking whatever the event loop does with it (uvloop makes every descriptor given to
        # add_reader non-blocking; asyncio's own loop does not): one reading path for both
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self._inbox = bytearray()
        self.quads = None
        self.niced = False

    def send(self, job) -> None:
        _send(self.proc.stdin, job)

    def cpu_seconds(self) -> float | None:
        """CPU time the process has used so far (user + system), or None where the system does not
        say (read from /proc on Linux)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
        except (OSError, IndexError, ValueError):
            return None

    def read_reply(self, timeout: float | None):
        """The next message, waiting at most timeout seconds (None = forever).

        Raises:
            WorkerTimeout: nothing came in time. WorkerCrashed: the process ended.
        """
        until = None if timeout is None else time.monotonic() + timeout
        while True:
            message = self.take_message()
            if message is not None:
                return message
            wait = None if until is None else max(0.0, until - time.monotonic())
            ready, _, _ = select.select([self.fd], [], [], wait)
            if not ready:
                raise WorkerTimeout()
            if not self.receive():
                raise WorkerCrashed(self.death())

    def receive(self) -> bool:
        """Read what the pipe holds now into the inbox; False when the worker has closed it."""
        while True:
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            self._inbox += chunk
            if len(chunk) < 1 << 20:
                return True

    def take_message(self):
        """The next whole message in the inbox (unpickled), or None while it is incomplete."""
        if len(self._inbox) < _HEADER.size:
            return None
        end = _HEADER.size + _HEADER.unpack_from(self._inbox)[0]
        if len(self._inbox) < end:
            return None
        data = bytes(self._inbox[_HEADER.size:end])
        del self._inbox[:end]
        return pickle.loads(data)

    def death(self) -> str:
        """Why the process ended, in words (after it did)."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        err = b""
        try:
            self._stderr.seek(0)
            err = self._stderr.read()[-65536:]
        except (OSError, ValueError):
            pass
        text = err.decode("utf-8", "replace")
        if "panicked" in text:
            after = text.split("panicked", 1)[1].splitlines()
            reason = "the query engine (Oxigraph) panicked" + (f": {after[1].strip()}" if len(after) > 1 else "")
        elif code in (-signal.SIGKILL, -signal.SIGSEGV) or "memory allocation" in text or "MemoryError" in text:
            reason = "the query needed more memory than a query may use, or overflowed the engine's stack"
        else:
            reason = f"the query process ended (exit status {code})"
        return reason

    def kill(self) -> None:
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def close(self) -> None:
        """End the worker politely (stdin closed), or kill it."""
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            pass
        self.kill()


def start_worker(config: WorkerConfig, timeout: float = 120.0) -> Worker:
    """A worker that has opened its store.

    Raises:
        WorkerUnavailable: it could not open the build, or did not start within timeout.
    """
    w = Worker(config)
    try:
        hello = w.read_reply(timeout)
    except WorkerTimeout:
        w.kill()
        raise WorkerUnavailable(f"a query worker did not start within {timeout:g} s") from None
    except WorkerCrashed as exc:
        raise WorkerUnavailable(f"a query worker could not start: {exc}") from None
    if not hello.get("ready"):
        w.kill()
        raise WorkerUnavailable(f"a query worker could not open the build: {hello.get('error')}")
    w.quads = hello.get("quads")
    return w


class IsolatedQueries:
    """One worker used synchronously: jobs run one at a time, each with an optional deadline.

    A crashed or timed-out worker is replaced on the next job. Thread-safe (jobs serialise).
    """

    def __init__(self, config: WorkerConfig):
        self.config = config
        self._worker: Worker | None = None
        self._lock = threading.Lock()

    def run(self, job, timeout: float | None = None):
        """The handler's reply to job.

        Raises:
            WorkerTimeout, WorkerCrashed, WorkerUnavailable; or the handler's own exception.
        """
        with self._lock:
            if self._worker is None or self._worker.proc.poll() is not None:
                self._worker = start_worker(self.config)
            w = self._worker
            try:
                w.send(job)
                reply = w.read_reply(timeout)
            except WorkerTimeout:
                w.kill()
                self._worker = None
                raise
            except (WorkerCrashed, BrokenPipeError, OSError) as exc:
                self._worker = None
                if isinstance(exc, WorkerCrashed):
                    raise
                raise WorkerCrashed(w.death()) from None
            except BaseException:
                # interrupted (Ctrl-C) while the worker computes: its reply, when it comes, would
                # be read as the answer to the next job
                w.kill()
                self._worker = None
                raise
        return _unwrap(reply)

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.close()
                self._worker = None


def _unwrap(reply):
    if "ok" in reply:
        return reply["ok"]
    if reply.get("memory"):
        raise WorkerCrashed("the query needed more memory than a query may use")
    raise reply["error"]


class WorkerPool:
    """``size`` workers for an asyncio program. Jobs wait (up to their own timeout) for a free
    worker; a worker killed at a deadline, or dead, is replaced in the background."""

    def __init__(self, config: WorkerConfig, size: int = 4, *, slow_after: float | None = 1.0):
        self.config = config
        self.size = size
        self.slow_after = slow_after
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._free: asyncio.Condition | None = None
        self._closed = False
        self.crashes = 0
        self.kills = 0

    def start(self) -> None:
        """Start every worker (in parallel) and wait until they have opened the store.

        Raises:
            WorkerUnavailable: the build cannot be opened.
        """
        workers = [Worker(self.config) for _ in range(self.size)]
        try:
            for w in workers:
                hello = w.read_reply(120.0)
                if not hello.get("ready"):
                    raise WorkerUnavailable(f"a query worker could not open the build: {hello.get('error')}")
                w.quads = hello.get("quads")
        except (WorkerTimeout, WorkerCrashed, WorkerUnavailable) as exc:
            for w in workers:
                w.kill()
            if isinstance(exc, WorkerUnavailable):
                raise
            raise WorkerUnavailable(f"a query worker could not start: {exc}") from None
        self._idle = list(workers)
        self._all = set(workers)
        # a pool dropped without close() (an app never shut down) still ends its processes
        weakref.finalize(self, _kill_all, self._all)

    @property
    def busy(self) -> int:
        return len(self._all) - len(self._idle)

    def _condition(self) -> asyncio.Condition:
        if self._free is None:
            self._free = asyncio.Condition()
        return self._free

    async def run(self, job, timeout: float, *, on_start=None, on_slow=None, nice: bool = False,
                  usage: dict | None = None):
        """The handler's reply to job, within timeout seconds (waiting for a worker included).

        ``on_start()`` is called when a worker takes the job (time spent waiting for a worker is
        not the query's own). With ``nice`` the job runs at the lowest CPU priority from the start
        (a client known to send slow queries); otherwise it is demoted, and ``on_slow()`` called,
        once it has used ``slow_after`` seconds of CPU (where the system tells CPU time; wall time
        elsewhere), so that a query merely waiting for a busy CPU is not taken for a slow one.
        ``usage["cpu"]`` is set to the CPU seconds the job used (None when unknown).

        Raises:
            WorkerTimeout: the deadline passed (the worker running it was killed).
            WorkerCrashed: the worker died running it.
            WorkerUnavailable: the pool is closed.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        cond = self._condition()
        while True:
            async with cond:
                while not self._idle:
                    if self._closed:
                        raise WorkerUnavailable("the server is shutting down")
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        raise WorkerTimeout()
                    try:
                        await asyncio.wait_for(cond.wait(), remaining)
                    except asyncio.TimeoutError:
                        raise WorkerTimeout() from None
                w = self._idle.pop()
            try:
                if w.proc.poll() is not None:
                    raise BrokenPipeError()
                cpu0 = w.cpu_seconds()
                if nice:  # a client known to send slow queries: the lowest priority from the start
                    _renice(w, 19)
                w.send(job)
                break
            except BaseException as exc:
                # an OSError: it died while idle (killed from outside, the OOM killer), the job never
                # reached it, so it is not the job's doing and goes to another worker. Anything
                # else (a job that does not pickle): the worker is replaced as after a failed job
                w.kill()
                self._all.discard(w)
                self._respawn(loop)
                if not isinstance(exc, OSError):
                    raise
                self.crashes += 1
        # a query still running after slow_after seconds yields the CPU to quick ones (nice 19)
        timer: dict = {}
        if not nice and self.slow_after:
            slow_after = self.slow_after

            def check() -> None:
                now = w.cpu_seconds()
                if cpu0 is None or now is None or now - cpu0 >= slow_after:
                    timer.pop("handle", None)
                    _renice(w, 19)
                    if on_slow is not None:
                        on_slow()
                else:  # waited for the CPU rather than used it: look again later
                    timer["handle"] = loop.call_later(slow_after - (now - cpu0), check)
            timer["handle"] = loop.call_later(slow_after, check)

        def used() -> None:
            if usage is not None:
                now = w.cpu_seconds()
                usage["cpu"] = None if cpu0 is None or now is None else now - cpu0
        try:
            reply = await self._exchange(loop, w, deadline, on_start)
            used()
        except BaseException as exc:
            used()
            # killed at the deadline, dead, or the request was cancelled (client gone): the
            # worker may still be computing, so it is replaced rather than reused
            if isinstance(exc, WorkerCrashed):
                self.crashes += 1
            else:
                self.kills += 1
            w.kill()
            self._all.discard(w)
            self._respawn(loop)
            raise
        finally:
            if "handle" in timer:
                timer["handle"].cancel()
        if w.niced and not _renice(w, 0):
            # raising the priority back needs privileges most users lack: a fresh worker instead
            w.close()
            self._all.discard(w)
            self._respawn(loop)
            return _unwrap(reply)
        async with cond:
            self._idle.append(w)
            cond.notify()
        return _unwrap(reply)

    async def _exchange(self, loop, w: Worker, deadline: float, on_start=None):
        if on_start is not None:
            on_start()
        reply = loop.create_future()

        def readable() -> None:
            # the reply arrives in pieces when it is larger than the pipe's buffer: each piece is
            # taken as it comes, so the event loop never waits on a worker
            if reply.done():
                return
            if not w.receive():
                reply.set_exception(WorkerCrashed(w.death()))
                return
            try:
                message = w.take_message()
            except Exception as exc:  # noqa: BLE001 - a reply that does not unpickle
                reply.set_exception(WorkerCrashed(f"its reply could not be read: {exc}"))
                return
            if message is not None:
                reply.set_result(message)

        loop.add_reader(w.fd, readable)
        try:
            return await asyncio.wait_for(reply, max(0.0, deadline - loop.time()))
        except asyncio.TimeoutError:
            raise WorkerTimeout() from None
        finally:
            loop.remove_reader(w.fd)

    def _respawn(self, loop) -> None:
        if self._closed:
            return

        def start() -> Worker | None:
            try:
                return start_worker(self.config)
            except WorkerUnavailable:
                return None

        async def add() -> None:
            w = await loop.run_in_executor(None, start)
            if w is None:
                await asyncio.sleep(1.0)
                self._respawn(loop)
                return
            if self._closed:
                w.kill()
                return
            self._all.add(w)
            async with self._condition():
                self._idle.append(w)
                self._condition().notify()

        loop.create_task(add())

    def close(self) -> None:
        self._closed = True
        for w in list(self._all):
            w.close()
        self._all.clear()
        self._idle.clear()


def _renice(w: Worker, value: int) -> bool:
    """Set the worker's CPU priority (nice value); False when not permitted."""
    try:
        os.setpriority(os.PRIO_PROCESS, w.proc.pid, value)
    except (PermissionError, ProcessLookupError, OSError):
        return False
    w.niced = value > 0
    return True


def _kill_all(workers: set) -> None:
    for w in list(workers):
        w.kill()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    return worker_main(WorkerConfig(**json.loads(argv[0])))


if __name__ == "__main__":
    sys.exit(main())
