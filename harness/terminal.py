"""What harness prints to the terminal: one line per message, control codes escaped.

Document ids, file names and endpoint messages come from outside; printed raw, an escape
sequence in one of them could recolour, retitle or rewrite the user's terminal. ``printable``
shows every control character (C0, C1, DEL), line and paragraph separator and bidirectional
override as a Python escape (``\\x1b``, ``\\u202e``), and leaves all other text alone.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

#: C0 and C1 controls, DEL, U+2028/U+2029, and the bidi embeddings, overrides and isolates
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every character that could steer a terminal shown as an escape."""
    return _UNSAFE.sub(lambda m: ascii(m.group())[1:-1], str(text))


def say(message: str) -> None:
    """``harness: <message>`` on stderr, escaped."""
    print(f"harness: {printable(message)}", file=sys.stderr, flush=True)


def warner(quiet: bool = False) -> Callable[[str], None]:
    """A function that prints ``harness: warning: <message>`` on stderr (nothing when quiet)."""
    if quiet:
        return lambda _message: None
    return lambda message: say(f"warning: {message}")
