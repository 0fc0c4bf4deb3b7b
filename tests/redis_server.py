"""A real redis-server for tests: started once per session on a free port in a temp dir."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    while True:
        port = _free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


def flush(url: str) -> None:
    """Empty a Redis, or every primary of a Redis Cluster (`?cluster=yes`)."""
    import redis
    from redis.cluster import RedisCluster

    if url.endswith("?cluster=yes"):
        with RedisCluster.from_url(url.removesuffix("?cluster=yes")) as client:
            client.flushall(target_nodes=RedisCluster.PRIMARIES)
    else:
        with redis.Redis.from_url(url) as client:
            client.flushall()


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

    `cluster`: a node for `redis_cluster`, with cluster mode on and no slots yet.
    """
    port = port or (_free_cluster_port() if cluster else _free_port())
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
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def redis_cluster(directory: Path, nodes: int = 3) -> Iterator[str]:
    """A Redis Cluster of `nodes` primaries, slots spread over them; yields `redis://…?cluster=yes`.

    Each node enforces the Cluster's rule: a script, a transaction or a multi-key command touches
    one hash slot only, and a node answers only for its own slots.
    """
    with ExitStack() as stack:
        urls = [
            stack.enter_context(redis_server(directory / f"node{n}", cluster=True))
            for n in range(nodes)
        ]
        addresses = [url.removeprefix("redis://").removesuffix("/0") for url in urls]
        cli = shutil.which("redis-cli")
        if cli is None:
            pytest.fail("redis-cli is not installed (it comes with redis-server)")
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        _wait_for_cluster(urls[0])
        yield urls[0] + "?cluster=yes"


def _wait_for_cluster(url: str) -> None:
    import redis

    deadline = time.monotonic() + 20
    with redis.Redis.from_url(url) as client:
        while b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster did not come up")
            time.sleep(0.05)
