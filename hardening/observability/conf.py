"""Settings of the operator endpoints: ``/metrics`` and the detailed health probes.

One allow-list, ``HARDENING_OPERATOR_IPS``, admits operators to both (the gate is
:mod:`hardening.access`); each endpoint has its own token (``HARDENING_METRICS_TOKEN`` here,
``HARDENING_HEALTH_TOKEN`` in :mod:`hardening.health.conf`).  A value that does not parse
falls back to its default and is reported by :mod:`hardening.observability.checks`
(``E605``, ``E607``).
"""

from __future__ import annotations

from hardening.conf import parse
from hardening.conf.base import Reader, setting


class Settings(Reader):
    removed = {
        "HARDENING_METRICS_ALLOWED_IPS": "HARDENING_OPERATOR_IPS",
    }

    HARDENING_METRICS_TOKEN = setting(
        "",
        parse.string,
        "Bearer token that unlocks ``/metrics`` (at least 32 characters; ``E607``).",
    )
    HARDENING_OPERATOR_IPS = setting[list[str] | None](
        None,
        parse.optional(parse.networks),
        "Addresses or networks that may read ``/metrics`` and the detailed health probes "
        "without a token.  Default (None): loopback for an endpoint whose token is not set, "
        "nobody for one whose token is.",
    )


conf = Settings()
