"""The live chain line on stderr while facts are read: which hop's facts have arrived, which are
still awaited, how long it has taken and how many requests each API got. A slow API shows as a
hop that stays `…` while the clock runs.

Only on a terminal: cron, pipes and CI get nothing on stderr, and stdout is never touched. The
line is transient: it goes away when collection ends, before the report is printed.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Protocol

from okedoctor.facts import KUBERNETES, LIVE_INTERNET, OCI

# Which facts each hop is judged from, in the order traffic flows (okedoctor.model.CHAIN).
HOP_FACTS: tuple[tuple[str, str], ...] = (
    ("Internet", LIVE_INTERNET),
    ("LB", OCI),
    ("NodePort", OCI),
    ("Node", KUBERNETES),
    ("Pod", KUBERNETES),
)


class Watched(Protocol):
    started: float

    def progress(self) -> dict[str, tuple[int, int]]: ...

    def requests(self) -> dict[str, int]: ...


def chain_line(engine: Watched, now: float | None = None) -> str:
    """`reading  Internet … ──▶ LB read ──▶ ...  2.1s  kubernetes 12, oci 7, internet 0`."""
    progress = engine.progress()
    marks = []
    for hop, fact in HOP_FACTS:
        done, total = progress.get(fact, (0, 0))
        mark = "·" if total == 0 else ("read" if done == total else f"… {done}/{total}")
        marks.append(f"{hop} {mark}")
    elapsed = (now if now is not None else time.perf_counter()) - engine.started
    requests = ", ".join(f"{api} {n}" for api, n in engine.requests().items())
    return f"reading  {' ──▶ '.join(marks)}  {elapsed:.1f}s  {requests}"


class ChainProgress:
    """`with ChainProgress() as watch: collect(..., watch=watch)`: the line on a terminal's stderr."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.engine: Watched | None = None
        self._live = None

    def __call__(self, engine: Watched) -> None:
        self.engine = engine

    def __enter__(self) -> ChainProgress:
        if self.stream.isatty():
            from rich.console import Console
            from rich.live import Live
            from rich.text import Text

            console = Console(file=self.stream, highlight=False)
            self._live = Live(get_renderable=lambda: Text(self._line(), style="dim"), console=console,
                              transient=True, refresh_per_second=8, redirect_stdout=False, redirect_stderr=False)
            self._live.start()
        return self

    def _line(self) -> str:
        return chain_line(self.engine) if self.engine is not None else "reading  the kubeconfig and OCI config"

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
        # The engine still holds every shared read's answer: let them go with the collection.
        self.engine = None

