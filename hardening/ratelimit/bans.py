"""Listing and lifting bans (used by ``manage.py lift_ban`` and the admin view)."""

from __future__ import annotations

from django.http import HttpRequest

from hardening.observability.audit import audit
from hardening.ratelimit.ip import masked_ip
from hardening.ratelimit.keys import ban_key, level_key, vio_key
from hardening.ratelimit.limiter import Limiter
from hardening.ratelimit.target import redis_client


def identity_for(*, ip: str | None = None, user: str | None = None, key: str | None = None) -> str:
    """``ip:<masked network>``, ``u:<pk>`` or ``key:<API key public id>``; ValueError for a
    bad IP."""
    if ip:
        import ipaddress

        ipaddress.ip_address(ip)  # ValueError for garbage
        return "ip:" + masked_ip(ip)
    if user:
        return f"u:{user}"
    if key:
        return f"key:{key}"
    raise ValueError("give an IP address, a user id or an API key's public id")


def lift_ban(
    identity: str, *, forget: bool = False, request: HttpRequest | None = None, by: str = ""
) -> bool:
    """Delete the ban of ``identity`` (and its violation count; with ``forget`` also its
    escalation level).  True when a ban was active."""
    cache = Limiter().cache
    active = cache.get(ban_key(identity)) is not None
    keys = [ban_key(identity), vio_key(identity)]
    if forget:
        keys.append(level_key(identity))
    cache.delete_many(keys)
    audit(
        "ratelimit.unbanned",
        request=request,
        identity=identity.split(":", 1)[0],
        was_active=active,
        by=by,
    )
    return active


def active_bans(limit: int = 200) -> list[tuple[str, int]] | None:
    """``[(identity, seconds left)]`` on Redis (SCAN, bounded); None on other caches."""
    cache = Limiter().cache
    client = redis_client(cache)
    if client is None:
        return None
    prefix = cache.make_key("hrl:ban:")
    found: list[tuple[str, int]] = []
    for raw in client.scan_iter(match=prefix.replace("[", "\\[") + "*", count=500):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        ttl = int(client.ttl(key))
        if ttl > 0:
            found.append((key[len(prefix) :].strip("{}"), ttl))
        if len(found) >= limit:
            break
    return sorted(found)
