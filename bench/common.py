"""What ``run.py`` and ``inproc.py`` share: a throwaway environment for one run.

:class:`BenchEnv` creates a temporary directory with an RSA test keypair and a SQLite
database (migrated, one user), starts the loopback JWKS server, picks a Redis key prefix
unique to the run, and on exit deletes only the Redis keys under that prefix (never a
flush) and the temporary directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
RESULTS = BENCH / "results"
REDIS_URL = "redis://127.0.0.1:6379/0"

sys.path[:0] = [str(BENCH), str(ROOT)]

from benchproj import keys  # noqa: E402


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def loud(message: str) -> None:
    print(f"\n!!! {message}\n", file=sys.stderr, flush=True)


class BenchEnv:
    def __init__(self, redis_url: str = REDIS_URL) -> None:
        self.run_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        self.prefix = f"bench-{self.run_id}"
        self.redis_url = redis_url
        self.tmp = Path(tempfile.mkdtemp(prefix="django-hardening-bench-"))
        self.keydir = self.tmp / "keys"
        self.db = self.tmp / "db.sqlite3"
        self.jwks: keys.JWKSServer | None = None

    # -- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> BenchEnv:
        keys.generate(self.keydir)
        self.jwks = keys.JWKSServer(self.keydir).__enter__()
        os.environ.update(self.env())  # benchproj.stack reads them in this process too
        result = subprocess.run(
            [PYTHON, "-m", "benchproj.prepare"],
            cwd=BENCH,
            env={**os.environ, **self.env("all")},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode:
            raise RuntimeError(f"database setup failed:\n{result.stdout}\n{result.stderr}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.jwks is not None:
            self.jwks.__exit__()
        deleted = self.delete_redis_keys()
        log(f"deleted {deleted} Redis keys under the run prefix {self.prefix}")
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- environment --------------------------------------------------------------------

    def env(self, variant: str | None = None) -> dict[str, str]:
        assert self.jwks is not None
        values = {
            "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT)]),
            "DJANGO_SETTINGS_MODULE": "benchproj.settings",
            "PERF_DB": str(self.db),
            "PERF_KEYDIR": str(self.keydir),
            "PERF_ISSUER": self.jwks.issuer,
            "PERF_JWKS_URL": self.jwks.url,
            "PERF_REDIS_URL": self.redis_url,
            "PERF_REDIS_PREFIX": self.prefix,
            "PYTHONUNBUFFERED": "1",
        }
        if variant:
            values["PERF_VARIANT"] = variant
        return values

    def token(self, variant: str) -> str | None:
        assert self.jwks is not None
        if variant == "peer":
            return keys.peer_token(self.keydir)
        if variant == "hardening":
            return keys.oidc_token(self.keydir, self.jwks.issuer)
        return None

    # -- Redis ------------------------------------------------------------------------

    def redis(self) -> Any:
        import redis

        return redis.Redis.from_url(self.redis_url, socket_timeout=5)

    def count_redis_keys(self) -> int:
        try:
            return sum(1 for _ in self.redis().scan_iter(match=f"*{self.prefix}*", count=500))
        except Exception:  # noqa: BLE001 - informational only
            return -1

    def delete_redis_keys(self) -> int:
        """Delete this run's keys (and nothing else); never FLUSHDB/FLUSHALL."""
        try:
            client = self.redis()
            found = list(client.scan_iter(match=f"*{self.prefix}*", count=500))
            for start in range(0, len(found), 500):
                client.delete(*found[start : start + 500])
            return len(found)
        except Exception as exc:  # noqa: BLE001
            loud(f"could not delete this run's Redis keys ({exc}); they expire by TTL")
            return 0
