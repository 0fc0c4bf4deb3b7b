"""Crash points for the durability tests: the process dies at a named step, as if killed."""

from __future__ import annotations

import os
import sys

_armed: str | None = None


def arm(point: str | None) -> None:
    """Die at `point` (a name from settings.CRASH_POINTS) the next time it is reached."""
    global _armed
    _armed = point


def crashpoint(point: str) -> None:
    """Exit the process at once, without cleanup, when this point is armed."""
    if _armed == point:
        sys.stderr.write(f"onethread: crash point {point} reached, exiting\n")
        sys.stderr.flush()
        os._exit(70)
