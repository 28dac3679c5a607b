"""Every django-hardening middleware, by its public name.

In ``MIDDLEWARE``, in this order (``hardening.E033`` checks it; Django's own middleware
between them as in docs/quickstart.md)::

    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "hardening.middleware.RequestMiddleware",          # request ID, client address
    "django.middleware.security.SecurityMiddleware",
    "hardening.middleware.SecurityHeadersMiddleware",  # CSP, Permissions-Policy, CORP, ...
    "hardening.middleware.TimeoutMiddleware",          # the deadline, 504
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hardening.middleware.LockoutMiddleware",          # 429 for a locked account's login
    "hardening.middleware.CredentialMiddleware",       # bearer tokens, once per request
    "hardening.middleware.RateLimitMiddleware",        # every policy, one round trip
    "hardening.middleware.MFAMiddleware",              # HARDENING_MFA_REQUIRED
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "hardening.middleware.PrometheusAfterMiddleware",  # django-prometheus's, cheaper

Each works in sync and async stacks.
"""

from __future__ import annotations

from hardening.headers.middleware import SecurityHeadersMiddleware
from hardening.jwt.auth import CredentialMiddleware
from hardening.mfa.lockout import LockoutMiddleware
from hardening.mfa.middleware import MFAMiddleware
from hardening.observability.middleware import RequestMiddleware
from hardening.observability.prometheus import PrometheusAfterMiddleware
from hardening.ratelimit.middleware import RateLimitMiddleware
from hardening.timeout.middleware import TimeoutMiddleware

__all__ = [
    "CredentialMiddleware",
    "LockoutMiddleware",
    "MFAMiddleware",
    "PrometheusAfterMiddleware",
    "RateLimitMiddleware",
    "RequestMiddleware",
    "SecurityHeadersMiddleware",
    "TimeoutMiddleware",
]
