"""Prometheus counters of django-hardening.

Label values are bounded: reasons, policies and check names come from fixed sets in the
code or from settings, never from request data.  ``/metrics`` (django-prometheus) exports
them together with the HTTP metrics; gunicorn multiprocess mode works through
``PROMETHEUS_MULTIPROC_DIR`` as documented by prometheus_client.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

AUTH_FAILURES = Counter(
    "hardening_auth_failures_total", "Rejected credentials and tokens, by reason.", ["reason"]
)
MFA_FAILURES = Counter(
    "hardening_mfa_failures_total", "Failed MFA verifications, by reason.", ["reason"]
)
WEBAUTHN_CEREMONIES = Counter(
    "hardening_webauthn_ceremonies_total",
    "WebAuthn (passkey) ceremonies, by ceremony and outcome (ok or the refusal's reason).",
    ["ceremony", "outcome"],
)
RATELIMIT_BLOCKS = Counter(
    "hardening_ratelimit_blocks_total", "Requests refused by a rate-limit policy.", ["policy"]
)
RATELIMIT_CACHE_ERRORS = Counter(
    "hardening_ratelimit_cache_errors_total",
    "Rate-limit cache failures, by policy and outcome (open/closed).",
    ["policy", "outcome"],
)
BANS = Counter("hardening_bans_total", "Clients banned for repeated violations.", ["policy"])
TIMEOUTS = Counter(
    "hardening_timeouts_total", "Requests that passed their deadline, by kind.", ["kind"]
)
JWKS_FETCHES = Counter(
    "hardening_jwks_fetches_total", "JWKS fetches, by outcome (ok/error/cache).", ["outcome"]
)
HEALTH_FAILURES = Counter(
    "hardening_health_failures_total", "Failed readiness checks, by check.", ["check"]
)
CLIENT_IP_UNPARSED = Counter(
    "hardening_client_ip_unparsed_total",
    "Forwarded client addresses missing or unusable (REMOTE_ADDR was used), by reason.",
    ["reason"],
)
BAD_REQUESTS = Counter(
    "hardening_bad_requests_total", "Requests rejected as malformed, by error code.", ["code"]
)
BREAKER_OPEN = Gauge(
    "hardening_breaker_open",
    "1 while a circuit breaker skips its dependency after an outage, else 0.",
    ["breaker"],
    multiprocess_mode="max",
)
BREAKER_TRANSITIONS = Counter(
    "hardening_breaker_transitions_total",
    "Circuit breaker transitions, by breaker and new state (open/closed).",
    ["breaker", "state"],
)
HEALTH_DEGRADED = Counter(
    "hardening_health_degraded_total",
    "Readiness checks of tolerated dependencies that failed (200 degraded), by check.",
    ["check"],
)
REVOCATION_UNCHECKED = Counter(
    "hardening_revocation_unchecked_total",
    "Own access tokens accepted without a revocation check because the cache was down.",
)
DATABASE_UNAVAILABLE = Counter(
    "hardening_database_unavailable_total",
    "Requests answered 503 because the database could not be reached.",
)
WEBSOCKET_OPEN = Gauge(
    "hardening_websocket_connections",
    "Open WebSocket connections (accepted and not yet closed).",
    multiprocess_mode="livesum",
)
WEBSOCKET_REFUSALS = Counter(
    "hardening_websocket_refusals_total",
    "WebSocket handshakes refused before accept, by reason.",
    ["reason"],
)
WEBSOCKET_CLOSES = Counter(
    "hardening_websocket_closes_total",
    "Open WebSocket connections closed by hardening (limits, expiry, idle), by reason.",
    ["reason"],
)
CSP_REPORTS = Counter(
    "hardening_csp_reports_total",
    "Content-Security-Policy violation reports, by outcome and directive.",
    ["outcome", "directive"],
)
