"""Each problem reported once under ``check --deploy``.

Django's deploy checks (``security.W001``–``W025``, only with ``--deploy``) and hardening's
(always, and an Error in production) look at many of the same settings.  :data:`DJANGO_IDS`
maps Django's id to hardening's; :func:`install` wraps Django's security deploy checks so a
Django message is dropped when hardening reports the same problem in the same run, unless
that hardening id is silenced (then Django's message is the one that remains, so silencing
ours never hides the problem).  Django ids without an equivalent (``W005`` HSTS subdomains,
``W021`` HSTS preload, ``E023``/``E024``) are left alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage

#: Django's ``check --deploy`` id → the hardening ids (bare) that report the same problem.
DJANGO_IDS: dict[str, tuple[str, ...]] = {
    "security.W001": ("E016",),
    "security.W002": ("E017",),
    "security.W003": ("E018",),
    "security.W004": ("E013",),
    "security.W006": ("E019",),
    "security.W008": ("E014",),
    "security.W009": ("E001", "E002", "E003", "E004", "E005", "E023"),
    "security.W010": ("E010",),
    "security.W011": ("E010",),
    "security.W012": ("E010",),
    "security.W013": ("E012",),
    "security.W014": ("E012",),
    "security.W015": ("E012",),
    "security.W016": ("E011",),
    "security.W018": ("E007",),
    "security.W019": ("E017",),
    "security.W020": ("E008",),
    "security.W022": ("E020",),
    "security.W025": ("E006",),
}

_WRAPPED = "_hardening_deduplicated"


def _ours(**kwargs: Any) -> set[str]:
    """The ids hardening reports now for the settings Django's deploy checks read."""
    from hardening.deploy import secrets
    from hardening.deploy import settings as deploy_settings
    from hardening.headers import checks as header_checks

    found: set[str] = set()
    for check in (
        deploy_settings.check_debug_and_hosts,
        deploy_settings.check_cookies,
        deploy_settings.check_https,
        deploy_settings.check_middleware,
        secrets.check_secret_key,
        header_checks.check_security_headers,
    ):
        found |= {m.id for m in check(**kwargs) if m.id}
    return found


def reported_by_hardening(django_id: str, **kwargs: Any) -> str | None:
    """The hardening id (``hardening.E013``) that reports ``django_id``'s problem now, or None."""
    silenced = set(getattr(settings, "SILENCED_SYSTEM_CHECKS", ()))
    ours = _ours(**kwargs) - silenced
    for code in DJANGO_IDS.get(django_id, ()):
        if f"hardening.{code}" in ours:
            return f"hardening.{code}"
    return None


def _deduplicated(check: Callable[..., list[CheckMessage]]) -> Callable[..., list[CheckMessage]]:
    @functools.wraps(check)
    def wrapper(*args: Any, **kwargs: Any) -> list[CheckMessage]:
        messages = check(*args, **kwargs)
        if not any(m.id in DJANGO_IDS for m in messages):
            return messages
        return [m for m in messages if m.id not in DJANGO_IDS or not reported_by_hardening(m.id)]

    setattr(wrapper, _WRAPPED, True)
    return wrapper


def install() -> None:
    """Wrap Django's security deploy checks (idempotent; called from ``apps.ready``)."""
    from django.core.checks.registry import registry

    checks: set[Any] = registry.deployment_checks  # django-stubs: a protocol with .tags
    for check in list(checks):
        module = getattr(check, "__module__", "") or ""
        if not module.startswith("django.core.checks.security") or getattr(check, _WRAPPED, False):
            continue
        checks.discard(check)
        checks.add(_deduplicated(check))
