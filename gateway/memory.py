"""Keep the process's resident memory close to what it holds (glibc's malloc; no-ops elsewhere).

The gateway allocates most of its memory in bursts that it frees again: the embedding model's
start-up, and each knowledge base training (a batch of ONNX runs on worker threads, the kernel
and its eigenvectors, the TF-IDF fits). glibc keeps freed pages mapped, and gives each thread
that allocates its own arena, whose free pages it does not hand back even on request: on the
demo knowledge base that left ~100 MB resident that nothing used.
"""

from __future__ import annotations

import contextlib
import ctypes

M_ARENA_MAX = -8  # mallopt parameter, from glibc's malloc.h


def _libc_call(name: str, *args: int) -> None:
    """Call a glibc malloc tuning function if this C library has it."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc (musl, macOS)
        getattr(ctypes.CDLL(None), name)(*args)


def use_one_malloc_arena() -> None:
    """All threads allocate from the main arena, whose free pages `release_free_memory` returns.

    Call before threads start allocating. Costs little: Python objects come from pymalloc, so
    only large buffers (numpy arrays, ONNX tensors) go through malloc and its lock.
    """
    _libc_call("mallopt", M_ARENA_MAX, 1)


def release_free_memory() -> None:
    """Hand the heap's free pages back to the system."""
    _libc_call("malloc_trim", 0)
