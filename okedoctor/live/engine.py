"""Concurrency for live collection: one pool, one deadline, request counts, dependency depth.

Every request is made at a known *depth*: 1 for a request that needs nothing, n + 1 for one
that needed an answer obtained at depth n. The deepest depth reached is the longest chain of
dependent requests, the figure that bounds wall time when each request costs a round trip.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from typing import Any

from okedoctor import clock

# The APIs requests are counted by (not fact names, though two are spelled alike).
KUBE_API, OCI_API, INTERNET_API = APIS = ("kubernetes", "oci", "internet")


class Engine:
    def __init__(self, timeout: float, workers: int = 32, from_command_start: bool = True):
        self.started = time.perf_counter()
        # The checks, the rendering and the exit come after the collection: leave them a moment,
        # so the process, not only the collection, ends by --timeout.
        anchor = min(self.started, clock.command_started()) if from_command_start else self.started
        self.deadline = anchor + timeout - min(0.5, timeout / 10)
        self.timeout = timeout
        self.counts = dict.fromkeys(APIS, 0)
        self.chain = 0
        self._lock = threading.Lock()
        self._pool = DaemonPool(workers)
        self._tracked: list[tuple[str, Future]] = []
        self._once: dict[Any, Future] = {}
        self._tasks: dict[Future, _Task] = {}
        self._shared_gaps: dict[Any, list[tuple[str, str, str]]] = {}
        self.closed = False

    # ---- time ---------------------------------------------------------------------------
    def remaining(self) -> float:
        return max(0.0, self.deadline - time.perf_counter())

    def request_timeout(self, cap: float = 10.0) -> tuple[float, float]:
        """(connect, each socket read) for one request: never past the deadline."""
        left = max(0.05, self.remaining())
        return (min(5.0, left), min(cap, left))

    # ---- accounting ---------------------------------------------------------------------
    def hit(self, api: str, depth: int) -> None:
        """One request to `api`, made at `depth`."""
        with self._lock:
            self.counts[api] += 1
            self.chain = max(self.chain, depth)

    def count(self, api: str) -> None:
        """One more request (a retry) without a new depth."""
        with self._lock:
            self.counts[api] += 1

    def reach(self, depth: int) -> None:
        """A request at `depth` whose count is kept by the transport (see OciReader.on_request)."""
        with self._lock:
            self.chain = max(self.chain, depth)

    # ---- tasks --------------------------------------------------------------------------
    def submit(self, fact: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """Run fn in the pool; `fact` is what stays unobserved if it has not finished by the deadline."""
        task = _Task(fn, args, kwargs)
        with self._lock:
            self._tracked.append((fact, task.fut))
            self._tasks[task.fut] = task
        self._pool.submit(task.run)
        return task.fut

    def once(self, key: Any, fact: str, fn: Callable[..., Any], *args: Any) -> Future:
        """Like submit, but a second call with the same key shares the first call's answer."""
        with self._lock:
            fut = self._once.get(key)
            if fut is not None:
                return fut
            # Registered before it runs: two callers racing here must not both send the request.
            task = _Task(fn, args, {})
            self._tracked.append((fact, task.fut))
            self._tasks[task.fut] = task
            self._once[key] = task.fut
        self._pool.submit(task.run)
        return task.fut

    def shared(self, key: Any, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(*args) once per key: the first caller runs it in its own thread, later callers wait.

        Running inline (not in the pool) means a waiter only ever waits for work that is
        already running, so a full pool cannot deadlock on it.
        """
        with self._lock:
            fut = self._once.get(key)
            owner = fut is None
            if owner:
                fut = self._once[key] = Future()
        if owner:
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:  # handed to every waiter
                fut.set_exception(exc)
        return self.result(fut)

    def progress(self) -> dict[str, tuple[int, int]]:
        """Per fact (kubernetes, oci, internet): (tasks finished, tasks submitted) so far."""
        with self._lock:
            tracked = list(self._tracked)
        out: dict[str, tuple[int, int]] = {}
        for fact, fut in tracked:
            done, total = out.get(fact, (0, 0))
            out[fact] = (done + fut.done(), total + 1)
        return out

    def requests(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)

    def add_shared_gap(self, key: Any, gap: tuple[str, str, str]) -> None:
        """A gap recorded while the shared read `key` ran (see collectors.state.RunEngine)."""
        with self._lock:
            self._shared_gaps.setdefault(key, []).append(gap)

    def shared_gaps(self, key: Any) -> list[tuple[str, str, str]]:
        with self._lock:
            return list(self._shared_gaps.get(key, ()))

    def errors(self) -> list[tuple[str, BaseException]]:
        """Tasks that ended with an exception, with the fact each was reading."""
        with self._lock:
            done = [(fact, f) for fact, f in self._tracked if f.done() and not f.cancelled()]
        return [(fact, f.exception()) for fact, f in done if f.exception() is not None]

    def result(self, fut: Future) -> Any:
        """The future's value, waiting no longer than the deadline; raises TimeoutError after it.

        A task still queued is started at once in a thread of its own: tasks that wait on other
        tasks (a Service's OCI phase waits on the node list) would otherwise fill every worker of
        a fleet run with waiters and starve the work they wait for. It is not run in the waiting
        thread, which must stay free to give up at the deadline whatever the server does.
        """
        with self._lock:
            task = self._tasks.get(fut)
        if task is not None and task.claimable():
            _daemon(task.run, "okedoctor-inline")
        return fut.result(timeout=self.remaining())

    def wait_all(self) -> list[str]:
        """Wait for every task (including those submitted meanwhile); return the facts cut by the deadline.

        Waits batch by batch for what was submitted since the last look: rescanning every task
        under the lock at each completion held the lock O(tasks^2) times in a fleet run (thousands
        of tasks), and every request's accounting waited on it.
        """
        seen = 0
        while True:
            with self._lock:
                batch = [f for _, f in self._tracked[seen:]]
                seen += len(batch)
            if not batch:
                return []
            _, not_done = wait(batch, timeout=self.remaining())
            if not_done:
                with self._lock:
                    return sorted({fact for fact, f in self._tracked if not f.done()})

    def close(self) -> None:
        """Cancel what has not started; a read still stuck in a server is left to its daemon
        thread, which the process does not wait for at exit."""
        self.closed = True
        self._pool.shutdown()
        with self._lock:
            tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()

    def stats(self) -> dict[str, Any]:
        return {
            "duration_s": round(time.perf_counter() - self.started, 3),
            "api_requests": dict(self.counts),
            "longest_chain": self.chain,
        }


class _Task:
    """A unit of work run exactly once, by a pool worker or by the first thread that waits on it."""

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.fut: Future = Future()
        self._claim = threading.Lock()
        self._claimed = False

    def _take(self) -> bool:
        with self._claim:
            taken, self._claimed = not self._claimed, True
        return taken

    def claimable(self) -> bool:
        with self._claim:
            return not self._claimed

    def cancel(self) -> None:
        """Cancel it if nobody has started it (the run is over)."""
        if self._take():
            self.fut.cancel()

    def run(self) -> None:
        if not self._take():
            return
        if not self.fut.set_running_or_notify_cancel():
            return
        try:
            self.fut.set_result(self.fn(*self.args, **self.kwargs))
        except BaseException as exc:  # handed to whoever waits on the future
            self.fut.set_exception(exc)
        finally:
            # The arguments (Service bodies, pods) are not needed once it ran: a fleet run keeps
            # thousands of tasks until its end.
            self.fn, self.args, self.kwargs = _ran, (), {}


def _daemon(fn: Callable[[], None], name: str) -> None:
    threading.Thread(target=fn, name=name, daemon=True).start()


class DaemonPool:
    """A fixed set of daemon worker threads, all started with the first task.

    Not concurrent.futures' pool: its workers are joined at interpreter exit, so one read
    stuck on a server that trickles its answer would keep the process alive past --timeout.
    """

    def __init__(self, workers: int):
        self._workers = workers
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started = False
        self._closed = False

    def submit(self, fn: Callable[[], None]) -> None:
        with self._lock:
            if self._closed:
                return
            if not self._started:
                self._started = True
                for n in range(self._workers):
                    _daemon(self._work, f"okedoctor-{n}")
        self._queue.put(fn)

    def _work(self) -> None:
        while (fn := self._queue.get()) is not None:
            fn()

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
        for _ in range(self._workers):
            self._queue.put(None)


def _ran() -> None:
    """What a task holds once it has run (it never runs twice)."""
