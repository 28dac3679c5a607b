"""The rate limiter's key names.  Every key of an identity carries it as a Redis Cluster hash
tag (``hrl:ban:{u:42}``): its bans, violations, windows and leases share one slot, so one
script decides them; the site-wide bucket is ``{*}``."""

from __future__ import annotations

from hardening.ratelimit.decision import Check


def ban_key(identity: str) -> str:
    return f"hrl:ban:{{{identity}}}"


def vio_key(identity: str) -> str:
    return f"hrl:vio:{{{identity}}}"


def level_key(identity: str) -> str:
    return f"hrl:lvl:{{{identity}}}"


def window_key(check: Check) -> str:
    return f"hrl:w:{{{check.bucket}}}:{check.policy.name}:{check.rate.seconds}"


def holders_key(check: Check) -> str:
    """The sorted set of the workers that leased the window lately (``lease``)."""
    return f"hrl:lw:{{{check.bucket}}}:{check.policy.name}:{check.rate.seconds}"
