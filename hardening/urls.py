"""Every URL of django-hardening in one namespaced include::

    urlpatterns = [
        path("", include("hardening.urls")),
        # ... your API ...
    ]

It mounts, under the namespace ``hardening`` (``reverse("hardening:login")``):

==============================  ==========================  ==================================
path                            name                        what
==============================  ==========================  ==================================
``api/auth/token``              ``token``                   password login: tokens or the MFA step
``api/auth/token/refresh``      ``token-refresh``           rotate a refresh token
``api/auth/logout``             ``token-logout``            end a refresh token's family
``api/auth/mfa``                ``mfa-login``               the MFA step of the token login
``api/mfa/totp``                ``mfa-totp``                add (POST) or remove (DELETE) a TOTP
``api/mfa/totp/confirm``        ``mfa-totp-confirm``        confirm a pending TOTP device
``api/mfa/recovery-codes``      ``mfa-recovery-codes``      a new set of recovery codes
``account/mfa/``                ``mfa-page``                the HTML MFA page
``account/login/``              ``login``                   session login with the MFA step
``account/logout/``             ``logout``                  session logout
``account/hardening.css``       ``stylesheet``              the pages' stylesheet
``metrics``                     ``metrics``                 Prometheus, gated
``health/live``, ``health/ready``  ``health-live``, ``health-ready``  probes
==============================  ==========================  ==================================

Set ``LOGIN_URL = "hardening:login"``.
"""

from __future__ import annotations

from django.urls import path

from hardening.health.urls import urlpatterns as health
from hardening.jwt.urls import urlpatterns as tokens
from hardening.mfa.urls import urlpatterns as mfa
from hardening.observability.views import metrics

__all__ = ["app_name", "urlpatterns"]

app_name = "hardening"

urlpatterns = [
    *tokens,
    *mfa,
    path("metrics", metrics, name="metrics"),
    *health,
]
