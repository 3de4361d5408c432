"""What the user sees while the embedded model is prepared the first time.

Two slow steps: assembling the model file from its parts (once per machine, about a gigabyte to
copy and hash) and starting the server (loading the model). On a terminal each shows a rich
progress line on stderr (bytes, speed and time left; or a spinner with the time so far) that
disappears when the step is done; elsewhere one plain line says what is happening and about how
long it takes. ``Notice(None)`` shows nothing (tests, ``--quiet``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

#: rough speeds measured on a 2-core machine, for the "about N s" hints
ASSEMBLY_BYTES_PER_S = 150 * 2**20
LOAD_BYTES_PER_S = 400 * 2**20


def about(seconds: float) -> str:
    """A rough duration for a hint: 'a few seconds', 'about 20 s', 'about 2 min'."""
    if seconds < 8:
        return "a few seconds"
    if seconds < 90:
        return f"about {round(seconds, -1):.0f} s"
    return f"about {seconds / 60:.0f} min"


class Notice:
    """Progress for the slow first-time steps; ``say`` prints one line (None: silent)."""

    def __init__(self, say: Callable[[str], None] | None, *, live: bool | None = None) -> None:
        self.say = say
        console = Console(file=sys.stderr)
        self.live = say is not None and (console.is_terminal if live is None else live)
        self.console = console

    @contextmanager
    def assembling(self, name: str, size: int) -> Iterator[Callable[[int], None]]:
        """Yield ``advance(n_bytes)``; shows bytes written, speed and time left."""
        what = f"assembling {name} ({size / 1e9:.1f} GB, once per machine)"
        started = time.monotonic()
        if not self.live:
            if self.say is not None:
                self.say(f"harness: {what}: {about(size / ASSEMBLY_BYTES_PER_S)}")
            yield lambda _n: None
        else:
            columns = (
                TextColumn("harness: " + what), BarColumn(), DownloadColumn(),
                TransferSpeedColumn(), TimeRemainingColumn(),
            )  # fmt: skip
            with Progress(*columns, console=self.console, transient=True) as bar:
                task = bar.add_task("assemble", total=size)
                yield lambda n: bar.advance(task, n)
        if self.say is not None:
            self.say(f"harness: assembled {name} in {time.monotonic() - started:.1f} s")

    @contextmanager
    def starting(self, kind: str, name: str, size: int) -> Iterator[None]:
        """A spinner with the time so far while the server loads the model."""
        what = f"loading {name} into {kind} ({about(size / LOAD_BYTES_PER_S)})"
        if not self.live:
            yield
            return
        columns = (SpinnerColumn(), TextColumn("harness: " + what), TimeElapsedColumn())
        with Progress(*columns, console=self.console, transient=True) as spinner:
            spinner.add_task("start", total=None)
            yield
