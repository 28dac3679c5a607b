"""check --deploy reports each problem once: Django's security.W0xx is dropped when hardening
reports the same problem (hardening.deploy.duplicates), and comes back when ours is silenced."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.checks import run_checks
from django.core.checks.registry import registry

from hardening.deploy.duplicates import DJANGO_IDS
from tests.helpers.checks import production

INSECURE = {
    "DEBUG": True,
    "ALLOWED_HOSTS": [],
    "SESSION_COOKIE_SECURE": False,
    "CSRF_COOKIE_SECURE": False,
    "SESSION_COOKIE_HTTPONLY": False,
    "SECURE_HSTS_SECONDS": 0,
    "SECURE_SSL_REDIRECT": False,
    "SECURE_PROXY_SSL_HEADER": None,
    "SECURE_CONTENT_TYPE_NOSNIFF": False,
    "SECURE_REFERRER_POLICY": None,
    "SECRET_KEY": "django-insecure-" + "x" * 40,
}


def deploy_ids() -> list[str]:
    return [m.id or "" for m in run_checks(include_deployment_checks=True)]


def test_every_mapped_problem_is_reported_once_with_our_id() -> None:
    with production(**INSECURE):
        ids = deploy_ids()
    django = sorted(i for i in ids if i.startswith("security."))
    assert not set(django) & set(DJANGO_IDS), django
    for expected in ("E007", "E008", "E010", "E011", "E012", "E013", "E014", "E019", "E020"):
        assert ids.count(f"hardening.{expected}") == 1, expected
    assert "hardening.E004" in ids  # the weak SECRET_KEY, not security.W009
    # Problems hardening does not check stay Django's.
    assert "security.W005" not in ids  # (HSTS off: Django's W005/W021 need HSTS on)


def test_silencing_ours_brings_djangos_back() -> None:
    with production(**INSECURE, SILENCED_SYSTEM_CHECKS=["hardening.E007", "hardening.E013"]):
        ids = deploy_ids()
    assert "security.W018" in ids and "security.W004" in ids
    assert "security.W020" not in ids  # E008 still speaks for ALLOWED_HOSTS


def test_djangos_own_problems_remain() -> None:
    with production(SECURE_HSTS_INCLUDE_SUBDOMAINS=False, SECURE_HSTS_PRELOAD=False):
        ids = deploy_ids()
    assert "security.W005" in ids and "security.W021" in ids


def test_a_django_warning_without_our_equivalent_firing_stays() -> None:
    # E014 is quiet behind a trusted proxy header; Django still wants SECURE_SSL_REDIRECT.
    with production(
        SECURE_SSL_REDIRECT=False, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")
    ):
        ids = deploy_ids()
    assert "security.W008" in ids and "hardening.E014" not in ids


def test_the_wrappers_are_installed_once_and_keep_the_tags() -> None:
    wrapped = [
        c
        for c in registry.deployment_checks
        if c.__module__.startswith("django.core.checks.security")
    ]
    assert wrapped and all(getattr(c, "_hardening_deduplicated", False) for c in wrapped)
    assert all("security" in c.tags for c in wrapped)
    from hardening.deploy.duplicates import install

    before = len(registry.deployment_checks)
    install()
    assert len(registry.deployment_checks) == before


@pytest.mark.parametrize("deploy", [True, False])
def test_manage_py_check_deploy_output(deploy: bool) -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    out = StringIO()
    with production(DEBUG=True), pytest.raises(SystemCheckError) as raised:
        call_command("check", *(["--deploy"] if deploy else []), stdout=out, stderr=out)
    text = str(raised.value)
    assert "hardening.E007" in text and "security.W018" not in text
