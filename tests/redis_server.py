"""A real redis-server for tests: started once per session on a free port in a temp dir."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _free_port(highest: int = 65535) -> int:
    # A Cluster node also listens on its port + 10000, so its own port must be 55535 or less.
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port <= highest:
            return port


def redis_binary() -> str:
    """The redis-server to run; skips when missing, except in CI where it must be there."""
    found = shutil.which("redis-server")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("redis-server is not installed, and CI must run the Redis store tests")
        pytest.skip("redis-server is not installed")
    return found


@contextmanager
def redis_server(
    directory: Path, appendonly: bool = True, port: int | None = None, cluster: bool = False
) -> Iterator[str]:
    """A redis-server with AOF on (the documented setting); yields its redis:// URL.

    `cluster`: a one-node Redis Cluster owning every slot, so that Redis enforces the Cluster's
    rule that a script, a transaction or a multi-key command touches one hash slot only.
    """
    port = port or _free_port(55535 if cluster else 65535)
    directory.mkdir(parents=True, exist_ok=True)
    args = [
        redis_binary(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(directory),
        "--save", "",
        "--appendonly", "yes" if appendonly else "no",
        "--daemonize", "no",
        "--logfile", str(directory / "redis.log"),
    ]  # fmt: skip
    if cluster:
        args += ["--cluster-enabled", "yes", "--cluster-config-file", str(directory / "nodes.conf")]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start; see {directory / 'redis.log'}")
            time.sleep(0.05)
        if cluster:
            _own_every_slot(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _own_every_slot(port: int) -> None:
    import redis

    with redis.Redis(port=port) as client:
        client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        deadline = time.monotonic() + 10
        while b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
            if time.monotonic() > deadline:
                raise RuntimeError("the one-node cluster did not come up")
            time.sleep(0.05)
