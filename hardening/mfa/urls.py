"""Internal: the MFA endpoints and pages, mounted by ``hardening.urls`` (namespace
``hardening``)."""

from __future__ import annotations

from django.urls import path

from hardening.mfa import api, login, page, passkey_login, passkey_views, signin

urlpatterns = [
    path("api/auth/mfa", login.mfa_login, name="mfa-login"),
    path("api/auth/mfa/webauthn", login.mfa_step_options, name="mfa-login-webauthn"),
    path("api/auth/passkey/options", passkey_login.login_options, name="passkey-login-options"),
    path("api/auth/passkey", passkey_login.passkey_login, name="passkey-login"),
    path("api/mfa/totp", api.TOTPView.as_view(), name="mfa-totp"),
    path("api/mfa/totp/confirm", api.TOTPConfirmView.as_view(), name="mfa-totp-confirm"),
    path(
        "api/mfa/recovery-codes",
        api.RecoveryCodesView.as_view(),
        name="mfa-recovery-codes",
    ),
    path("api/mfa/webauthn", passkey_views.PasskeysView.as_view(), name="mfa-webauthn"),
    path(
        "api/mfa/webauthn/register/options",
        passkey_views.RegisterOptionsView.as_view(),
        name="mfa-webauthn-register-options",
    ),
    path(
        "api/mfa/webauthn/register",
        passkey_views.RegisterView.as_view(),
        name="mfa-webauthn-register",
    ),
    path(
        "api/mfa/webauthn/verify/options",
        passkey_views.verify_options,
        name="mfa-webauthn-verify-options",
    ),
    path("api/mfa/webauthn/verify", passkey_views.verify, name="mfa-webauthn-verify"),
    path("account/mfa/", page.mfa_page, name="mfa-page"),
    path("account/mfa/passkeys.js", signin.script, name="passkeys-script"),
    path("account/login/", signin.login_view, name="login"),
    path("account/logout/", signin.logout_view, name="logout"),
    path("account/hardening.css", signin.stylesheet, name="stylesheet"),
]
