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
``.well-known/jwks.json``       ``jwks``                    the own tokens' public keys
``api/auth/mfa``                ``mfa-login``               the MFA step of the token login
``api/auth/mfa/webauthn``       ``mfa-login-webauthn``      passkey options for that step
``api/auth/passkey/options``    ``passkey-login-options``   passwordless passkey login: options
``api/auth/passkey``            ``passkey-login``           passwordless passkey login
``api/mfa/totp``                ``mfa-totp``                add (POST) or remove (DELETE) a TOTP
``api/mfa/totp/confirm``        ``mfa-totp-confirm``        confirm a pending TOTP device
``api/mfa/recovery-codes``      ``mfa-recovery-codes``      a new set of recovery codes
``api/mfa/webauthn``            ``mfa-webauthn``            list (GET) or remove (DELETE) passkeys
``api/mfa/webauthn/register…``  ``mfa-webauthn-register``   register a passkey (and ``-options``)
``api/mfa/webauthn/verify…``    ``mfa-webauthn-verify``     a session's passkey step (+ options)
``api/keys``                    ``api-keys``                list (GET) or make (POST) own API keys
``api/keys/<public_id>``        ``api-key``                 revoke (DELETE) an own API key
``api/keys/<public_id>/rotate`` ``api-key-rotate``          rotate an own API key
``account/mfa/``                ``mfa-page``                the HTML MFA page
``account/mfa/passkeys.js``     ``passkeys-script``         the pages' passkey script
``account/login/``              ``login``                   session login with the MFA step
``account/logout/``             ``logout``                  session logout
``account/hardening.css``       ``stylesheet``              the pages' stylesheet
``metrics``                     ``metrics``                 Prometheus, gated
``csp-report``                  ``csp-report``              CSP violation reports (POST)
``health/live``, ``health/ready``  ``health-live``, ``health-ready``  probes
==============================  ==========================  ==================================

Set ``LOGIN_URL = "hardening:login"``.
"""

from __future__ import annotations

from django.urls import path

from hardening.apikeys.urls import urlpatterns as apikeys
from hardening.headers.reports import csp_report
from hardening.health.urls import urlpatterns as health
from hardening.jwt.urls import urlpatterns as tokens
from hardening.mfa.urls import urlpatterns as mfa
from hardening.observability.views import metrics

__all__ = ["app_name", "urlpatterns"]

app_name = "hardening"

urlpatterns = [
    *tokens,
    *mfa,
    *apikeys,
    path("metrics", metrics, name="metrics"),
    path("csp-report", csp_report, name="csp-report"),
    *health,
]
