"""Readiness checks, as django-health-check ``HealthCheck`` dataclasses.

Every ``run()`` here is synchronous and runs on a worker thread of
:mod:`hardening.health.runner`, which bounds it with a timeout.  Failure is signalled by
raising django-health-check's exceptions with a *fixed* message chosen here (never a
driver's error text, which can name hosts, ports or users): the runner shows these
messages in the detailed body because the class sets ``public_messages = True``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import re
import shutil
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from django.core.cache import caches
from django.core.cache.backends.base import InvalidCacheBackendError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.connection import ConnectionDoesNotExist
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable, ServiceWarning

_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class Skipped(Exception):
    """Raised by a check that has nothing to check here; it is left out of the report."""


class Degraded(ServiceWarning):  # type: ignore[misc]  # untyped base
    """A dependency this instance tolerates is failing (a fail-open cache, stale JWKS
    keys): readiness answers 200 with status ``degraded``, not 503."""


def check_name(check: HealthCheck) -> str:
    """The label shown in the body and used as the metric label."""
    name = getattr(check, "health_name", None)
    if callable(name):
        return str(name())
    return type(check).__name__.lower()


def _db_connection(alias: str) -> Any:
    try:
        return connections[alias]
    except ConnectionDoesNotExist:
        raise ServiceUnavailable("database alias does not exist") from None


@dataclasses.dataclass
class Database(HealthCheck):  # type: ignore[misc]  # untyped base
    """``SELECT 1`` on a connection of this thread, after discarding an unusable one."""

    alias: str = DEFAULT_DB_ALIAS
    public_messages: ClassVar[bool] = True

    def health_name(self) -> str:
        return "database" if self.alias == DEFAULT_DB_ALIAS else f"database:{self.alias}"

    def run(self) -> None:
        connection = _db_connection(self.alias)
        # A connection broken by an earlier failure (or past CONN_MAX_AGE) is closed
        # here instead of failing this probe (django-health-check #755).
        connection.close_if_unusable_or_obsolete()
        sql = "SELECT 1 FROM DUAL" if connection.vendor == "oracle" else "SELECT 1"
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                row = cursor.fetchone()
        except DatabaseError as exc:
            _close_quietly(connection)
            raise ServiceUnavailable("database query failed") from exc
        connection.close_if_unusable_or_obsolete()
        if row is None or row[0] != 1:
            raise ServiceUnavailable("database returned an unexpected result")


def _close_quietly(connection: Any) -> None:
    with contextlib.suppress(Exception):  # the connection is broken already
        connection.close()


@dataclasses.dataclass
class Migrations(HealthCheck):  # type: ignore[misc]  # untyped base
    """Every migration on disk is applied to the database (``migrate --check``)."""

    alias: str = DEFAULT_DB_ALIAS
    public_messages: ClassVar[bool] = True

    def health_name(self) -> str:
        return "migrations" if self.alias == DEFAULT_DB_ALIAS else f"migrations:{self.alias}"

    def run(self) -> None:
        connection = _db_connection(self.alias)
        connection.close_if_unusable_or_obsolete()
        try:
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as exc:
            _close_quietly(connection)
            raise ServiceUnavailable("migration state could not be read") from exc
        connection.close_if_unusable_or_obsolete()
        if plan:
            raise ServiceUnavailable(f"{len(plan)} migration(s) not applied")


@dataclasses.dataclass
class Cache(HealthCheck):  # type: ignore[misc]  # untyped base
    """A write / read / delete round trip of a random key.

    A failure is ``degraded`` unless ``critical``: rate limits fail open/closed on their
    own, and taking every instance out of rotation for a shared Redis outage would turn a
    partial outage into a total one."""

    alias: str = "default"
    label: str = dataclasses.field(default="", repr=False)
    critical: bool = False
    public_messages: ClassVar[bool] = True

    def _fail(self, message: str) -> Exception:
        return ServiceUnavailable(message) if self.critical else Degraded(message)

    def health_name(self) -> str:
        if self.label:
            return self.label
        return "cache" if self.alias == "default" else f"cache:{self.alias}"

    def run(self) -> None:
        try:
            cache = caches[self.alias]
        except InvalidCacheBackendError:
            raise ServiceUnavailable("cache alias does not exist") from None
        key = f"hardening:health:{uuid.uuid4().hex}"
        value = uuid.uuid4().hex
        try:
            cache.set(key, value, timeout=30)
            found = cache.get(key)
            cache.delete(key)
        except Exception as exc:  # redis, memcached and socket errors share no base class
            raise self._fail("cache is unreachable") from exc
        if found != value:
            # DummyCache, or django-redis with IGNORE_EXCEPTIONS hiding an outage.
            raise self._fail("cache did not return the value written")
        self._cluster(cache)

    def _cluster(self, cache: Any) -> None:
        """On a Redis Cluster (``hardening.cache``) every master must be reachable and say
        ``cluster_state:ok``: a master down loses its slots (and their rate limits)."""
        from hardening.cache import RedisClusterCache

        if not isinstance(cache, RedisClusterCache):
            return
        client: Any = cache._cache.get_client()
        try:
            states = client.cluster_info(target_nodes=client.PRIMARIES)
        except Exception as exc:  # noqa: BLE001 - a master is unreachable
            raise self._fail("a Redis Cluster master is unreachable") from exc
        if not isinstance(states, dict) or not states:
            raise self._fail("the Redis Cluster reported no state")
        if "cluster_state" in states:  # one master
            states = {"node": states}
        found = [str(i.get("cluster_state")) for i in states.values() if isinstance(i, dict)]
        bad = [state for state in found if state != "ok"]
        if bad or len(found) != len(states):
            raise self._fail(f"Redis Cluster state is {bad[0] if bad else 'unknown'}")


class Thresholds(ValueError):
    """The disk limits cannot be used (``hardening.E502``)."""


def _percent(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclasses.dataclass
class Disk(HealthCheck):  # type: ignore[misc]  # untyped base
    """Usage of each path's file system (space the app can still write) below limits."""

    paths: list[str] = dataclasses.field(default_factory=list, repr=False)
    max_percent: float = 95.0
    warn_percent: float | None = 85.0
    public_messages: ClassVar[bool] = True

    def __post_init__(self) -> None:
        maximum = _percent(self.max_percent)
        warn = None if self.warn_percent is None else _percent(self.warn_percent)
        if (
            maximum is None
            or not 0 < maximum <= 100
            or (self.warn_percent is not None and (warn is None or not 0 < warn < maximum))
        ):
            raise Thresholds("max_percent must be in (0, 100] and warn_percent None or below it")

    def health_name(self) -> str:
        return "disk"

    def run(self) -> None:
        worst = 0.0
        for path in self.paths:
            try:
                usage = shutil.disk_usage(path)
            except OSError:
                raise ServiceUnavailable("disk path is not accessible") from None
            if usage.total:
                worst = max(worst, 100.0 * (usage.total - usage.free) / usage.total)
        if worst >= self.max_percent:
            raise ServiceUnavailable(f"disk {worst:.0f}% used (limit {self.max_percent:g}%)")
        if self.warn_percent is not None and worst >= self.warn_percent:
            raise ServiceWarning(f"disk {worst:.0f}% used (warning at {self.warn_percent:g}%)")


def _jwks_status(name: str) -> Callable[[], Any] | None:
    try:
        module = importlib.import_module("hardening.jwt.keys")
    except ModuleNotFoundError as exc:
        if exc.name in ("hardening.jwt", "hardening.jwt.keys"):
            return None  # the JWT package is not installed in this build
        raise
    function = getattr(module, name, None)
    return function if callable(function) else None


@dataclasses.dataclass
class Jwks(HealthCheck):  # type: ignore[misc]  # untyped base
    """Signing keys of every configured issuer are fresh in cache or fetchable now.

    An issuer whose fetch fails while its cached keys still verify (stale-if-error) is
    ``degraded``; one without usable keys is an error."""

    public_messages: ClassVar[bool] = True

    def health_name(self) -> str:
        return "jwks"

    def run(self) -> None:
        function = _jwks_status("jwks_health")
        if function is None:
            raise Skipped
        results: dict[str, str | None] = function()
        if not results:
            raise Skipped  # no issuer with a JWKS URL is configured
        failed = {label: code for label, code in results.items() if code is not None}
        if not failed:
            return
        usable_of = _jwks_status("jwks_usable")
        usable: dict[str, bool] = usable_of() if usable_of is not None else {}
        errors = sorted(f"{_safe(k)}={_safe(v)}" for k, v in failed.items() if not usable.get(k))
        stale = sorted(f"{_safe(k)}={_safe(v)}" for k, v in failed.items() if usable.get(k))
        if errors:
            raise ServiceUnavailable("jwks unavailable: " + ", ".join(errors))
        raise Degraded("jwks stale keys in use: " + ", ".join(stale))


def _safe(value: object) -> str:
    text = str(value)
    return text if _SAFE_TOKEN.match(text) else "redacted"
