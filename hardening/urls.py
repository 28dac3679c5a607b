"""Every URL of django-hardening in one include::

    urlpatterns = [
        path("", include("hardening.urls")),
        # ... your API ...
    ]

mounts ``api/auth/`` (token, token/refresh, logout: namespace ``hardening_jwt``),
``api/auth/mfa``, ``api/mfa/...``, ``account/mfa/``, ``account/login/``, ``account/logout/``,
``metrics`` and ``health/`` (live, ready: namespace ``hardening_health``).
"""

from __future__ import annotations

from django.urls import include, path

from hardening.observability.views import metrics

urlpatterns = [
    path("api/auth/", include("hardening.jwt.urls")),
    path("", include("hardening.mfa.urls")),
    path("metrics", metrics, name="hardening-metrics"),
    path("health/", include("hardening.health.urls")),
]
