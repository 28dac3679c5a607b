"""How hardening's middleware plays with the ecosystem's (``E620``–``E629``).

django-cors-headers adds ``Access-Control-Allow-Origin`` on the way out, so only to the
responses of the middleware *below* it.  A 429 from the rate limit, a 504 from the deadline,
a 401 from bearer-token verification or a 403 from the MFA gate answered *above*
``CorsMiddleware`` leaves without the header, and the browser hides it from the page: the
front end sees a network error, never the ``Retry-After`` or the JSON error.  ``E620`` asks
for ``CorsMiddleware`` above every hardening middleware that can answer early (right after
``RequestMiddleware`` is the usual place, as django-cors-headers' README says "as high as
possible").
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage

from hardening.checks import problem, register
from hardening.conf.core import middleware as installed_middleware

CORS = "corsheaders.middleware.CorsMiddleware"

#: Hardening's middleware that can answer a request without calling the view, and with what.
EARLY_ANSWERS: dict[str, str] = {
    "hardening.middleware.TimeoutMiddleware": "504",
    "hardening.middleware.LockoutMiddleware": "429",
    "hardening.middleware.CredentialMiddleware": "401",
    "hardening.middleware.RateLimitMiddleware": "429",
    "hardening.middleware.MFAMiddleware": "403",
}


def cors_below(middleware: list[str]) -> list[str]:
    """The early-answering middleware that sit above ``CorsMiddleware`` in ``middleware``."""
    if CORS not in middleware:
        return []
    cors = middleware.index(CORS)
    return [path for path in middleware[:cors] if path in EARLY_ANSWERS]


@register
def check_cors_order(**kwargs: Any) -> list[CheckMessage]:
    above = cors_below(list(installed_middleware()))
    if not above:
        return []
    names = ", ".join(f"{path.rsplit('.', 1)[-1]} ({EARLY_ANSWERS[path]})" for path in above)
    return [
        problem(
            "E620",
            f"CorsMiddleware is below {names}: browsers cannot read their answers."[:200],
            "Move 'corsheaders.middleware.CorsMiddleware' up, right after "
            "RequestMiddleware (docs/headers.md, 'CORS').",
        )
    ]
