"""A real local Redis Cluster for tests: three masters (``redis-server --cluster-enabled
yes`` on free loopback ports, their bus ports +10000 free too), joined with
``redis-cli --cluster create``, stopped by PID.  ``masters=1`` gives a one-node cluster
that owns every slot (``redis-cli --cluster create`` needs three)."""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers import stop, unavailable


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_ports(n: int) -> list[int]:
    """``n`` ports whose cluster bus ports (+10000) are free as well."""
    found: list[int] = []
    while len(found) < n:
        port = random.randint(20000, 50000)  # noqa: S311 - not security
        if port not in found and _free(port) and _free(port + 10000):
            found.append(port)
    return found


@dataclass
class Cluster:
    ports: list[int]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The example project's ``CACHE_URL`` for it."""
        return "rediscluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def kill(self, index: int) -> None:
        """Kill one master (SIGKILL: no goodbye to the others)."""
        process = self.processes[index]
        process.kill()
        process.wait(10)

    def state(self, index: int = 0) -> str:
        out = subprocess.run(  # noqa: S603
            ["redis-cli", "-p", str(self.ports[index]), "cluster", "info"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
        for line in out.splitlines():
            if line.startswith("cluster_state:"):
                return line.split(":", 1)[1].strip()
        return ""


@contextlib.contextmanager
def redis_cluster(
    tmp_path: Path, *, node_timeout_ms: int = 1000, masters: int = 3
) -> Iterator[Cluster]:
    assert masters in (1, 3), masters
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        unavailable("redis-server and redis-cli are needed for the cluster tests")
    cluster = Cluster(cluster_ports(masters))
    try:
        for port in cluster.ports:
            node_dir = tmp_path / f"node-{port}"
            node_dir.mkdir()
            cluster.processes.append(
                subprocess.Popen(  # noqa: S603
                    [
                        server,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        str(node_dir / "nodes.conf"),
                        "--cluster-node-timeout",
                        str(node_timeout_ms),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        str(node_dir),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 10
        for port in cluster.ports:
            while not _answers(port):
                if time.monotonic() > deadline:
                    pytest.fail(f"redis-server on {port} did not start")
                time.sleep(0.05)
        nodes = [f"127.0.0.1:{p}" for p in cluster.ports]
        create = ["--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"]
        if masters == 1:
            create = ["-p", str(cluster.ports[0]), "cluster", "addslotsrange", "0", "16383"]
        created = subprocess.run(  # noqa: S603
            [cli, *create],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert created.returncode == 0, created.stdout[-2000:] + created.stderr[-2000:]
        deadline = time.monotonic() + 30
        while not all(cluster.state(i) == "ok" for i in range(masters)):
            if time.monotonic() > deadline:
                pytest.fail("the cluster did not reach cluster_state:ok")
            time.sleep(0.1)
        yield cluster
    finally:
        for process in cluster.processes:
            stop(process)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
