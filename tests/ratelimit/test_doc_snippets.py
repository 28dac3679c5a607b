"""The rate-limit snippets users copy (docs/ratelimit.md) run as written and mean what the
text around them says."""

from __future__ import annotations

from typing import Any

from hardening.ratelimit.decorators import ATTRIBUTE, EXEMPT
from hardening.ratelimit.policy import Bans, Rate, parse_bans, parse_policies
from tests.helpers.checks import check_error_codes, production
from tests.helpers.docs import doc_block


def run(heading: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(doc_block("ratelimit.md", heading), namespace)  # noqa: S102 - our own docs
    return namespace


def test_the_policies_snippet_is_valid() -> None:
    policies = run("Policies")["HARDENING_RATELIMIT_POLICIES"]
    parsed = {p.name: p for p in parse_policies(policies)}
    assert parsed["user"].rates == (Rate(100, 60), Rate(2000, 3600))
    assert parsed["auth"].matches("/api/auth/password/reset", "POST")
    assert not parsed["auth"].matches("/api/auth/token", "GET") and not parsed["auth"].fail_open
    with production(HARDENING_RATELIMIT_POLICIES=policies):
        assert "hardening.E300" not in check_error_codes()


def test_the_bans_snippet_spells_out_the_defaults() -> None:
    bans = run("Bans")["HARDENING_RATELIMIT_BANS"]
    assert parse_bans(bans) == Bans()
    with production(HARDENING_RATELIMIT_BANS=bans):
        assert "hardening.E304" not in check_error_codes()


def test_the_per_view_snippet_decorates_the_views() -> None:
    views = run("Per-view overrides")
    [policy] = getattr(views["export"], ATTRIBUTE)
    assert (policy.name, policy.key, policy.rates) == (
        "export",
        "user_or_ip",
        (Rate(5, 60), Rate(50, 86400)),
    )
    assert not policy.fail_open  # a view policy fails closed
    assert getattr(views["stripe_webhook"], ATTRIBUTE) == EXEMPT
