"""URLs of the MFA capability; include them at the root of your URLconf:

path("", include("hardening.mfa.urls")),
"""

from __future__ import annotations

from django.urls import path

from hardening.mfa import api, login, page, signin

urlpatterns = [
    path("api/auth/mfa", login.mfa_login, name="hardening-mfa-login"),
    path("api/mfa/totp", api.TOTPView.as_view(), name="hardening-mfa-totp"),
    path("api/mfa/totp/confirm", api.TOTPConfirmView.as_view(), name="hardening-mfa-confirm"),
    path(
        "api/mfa/recovery-codes",
        api.RecoveryCodesView.as_view(),
        name="hardening-mfa-recovery-codes",
    ),
    path("account/mfa/", page.mfa_page, name="hardening-mfa-page"),
    path("account/login/", signin.login_view, name="hardening-login"),
    path("account/logout/", signin.logout_view, name="hardening-logout"),
    path("account/hardening.css", signin.stylesheet, name="hardening-stylesheet"),
]
