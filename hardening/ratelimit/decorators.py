"""Per-view overrides, read by the middleware from the resolved view::

    @rate_limit("5/m", "50/d", key="user_or_ip", name="export")
    @api_view(["POST"])
    def export(request): ...

    @rate_limit(exempt=True)
    def webhook(request): ...

(Named ``rate_limit``, not ``ratelimit``: django-ratelimit's ``ratelimit`` decorator takes
other arguments, and a project may use both.)  Put ``@rate_limit`` outermost (above
``@api_view`` / ``@csrf_exempt``) so the attribute lands on the function the URLconf points
at.  A view policy is added to the site-wide policies that match the path; like route
policies it fails closed unless told otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final, TypeVar

from django.conf import settings
from django.http import HttpRequest
from django.urls import Resolver404, get_resolver, resolve

from hardening.ratelimit.policy import Policy, parse_policy

ATTRIBUTE: Final = "hardening_ratelimit"
EXEMPT: Final = "exempt"

V = TypeVar("V", bound=Callable[..., Any])

#: Views decorated so far in this process; while none is, no request needs its view
#: resolved here (Django resolves it again after the middleware: that was a second resolve).
_decorated = 0
#: The URLconfs imported (their views decorated, if ever) before ``_decorated`` is trusted.
_loaded: set[str] = set()


def rate_limit(
    *rates: str | tuple[int, int],
    key: str = "user_or_ip",
    name: str | None = None,
    methods: tuple[str, ...] = (),
    fail_open: bool = False,
    ban: bool = True,
    exempt: bool = False,
) -> Callable[[V], V]:
    def decorator(view: V) -> V:
        global _decorated
        _decorated += 1
        if exempt:
            setattr(view, ATTRIBUTE, EXEMPT)
            return view
        label = name or "view." + re.sub(r"[^A-Za-z0-9_]", "", view.__name__)[:30]
        policy = parse_policy(
            {
                "name": label,
                "key": key,
                "rates": list(rates),
                "methods": methods,
                "fail_open": fail_open,
                "ban": ban,
            },
            route=True,
        )
        existing = getattr(view, ATTRIBUTE, ())
        setattr(view, ATTRIBUTE, (*(existing if existing != EXEMPT else ()), policy))
        return view

    return decorator


def view_policies(request: HttpRequest) -> tuple[Policy, ...] | str:
    """The resolved view's policies, ``EXEMPT``, or ``()`` (no view, or not decorated)."""
    urlconf = getattr(request, "urlconf", None)
    if not _decorated:
        name = str(urlconf or settings.ROOT_URLCONF)
        if name not in _loaded:  # import the URLconf (and so its views) once
            get_resolver(urlconf).url_patterns  # noqa: B018 - imports it
            _loaded.add(name)
        if not _decorated:
            return ()
    try:
        match = resolve(request.path_info, urlconf)
    except Resolver404:
        return ()
    value = getattr(match.func, ATTRIBUTE, ())
    return value if isinstance(value, (tuple, str)) else ()
