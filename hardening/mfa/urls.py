"""Internal: the MFA endpoints and pages, mounted by ``hardening.urls`` (namespace
``hardening``)."""

from __future__ import annotations

from django.urls import path

from hardening.mfa import api, login, page, signin

urlpatterns = [
    path("api/auth/mfa", login.mfa_login, name="mfa-login"),
    path("api/mfa/totp", api.TOTPView.as_view(), name="mfa-totp"),
    path("api/mfa/totp/confirm", api.TOTPConfirmView.as_view(), name="mfa-totp-confirm"),
    path(
        "api/mfa/recovery-codes",
        api.RecoveryCodesView.as_view(),
        name="mfa-recovery-codes",
    ),
    path("account/mfa/", page.mfa_page, name="mfa-page"),
    path("account/login/", signin.login_view, name="login"),
    path("account/logout/", signin.logout_view, name="logout"),
    path("account/hardening.css", signin.stylesheet, name="stylesheet"),
]
