"""Internal: ``REST_FRAMEWORK`` for a project protected by django-hardening, in one call
(public as ``hardening.env.rest_framework_settings``)::

    from hardening.env import rest_framework_settings

    REST_FRAMEWORK = rest_framework_settings()

The bearer class comes first, then API keys (an unauthenticated request gets 401 with
``WWW-Authenticate: Bearer``; a bad token is 401 even on ``AllowAny`` views; bearer POSTs
never meet the session CSRF check), then sessions; every view needs an authenticated
caller who passed MFA when ``HARDENING_MFA_REQUIRED`` covers them; JSON in
(``hardening.parsers.JSONParser``: hostile bodies are 400) and out; errors in the
``{"error", "detail", "request_id"}`` shape.  Override any key with keyword arguments.
"""

from __future__ import annotations

from typing import Any


def rest_framework_settings(*, session: bool = True, **overrides: Any) -> dict[str, Any]:
    """The ``REST_FRAMEWORK`` dict; ``session=False`` drops SessionAuthentication."""
    authentication = [
        "hardening.authentication.BearerTokenAuthentication",
        "hardening.authentication.ApiKeyAuthentication",
    ]
    if session:
        authentication.append("rest_framework.authentication.SessionAuthentication")
    values: dict[str, Any] = {
        "DEFAULT_AUTHENTICATION_CLASSES": authentication,
        "DEFAULT_PERMISSION_CLASSES": [
            "rest_framework.permissions.IsAuthenticated",
            "hardening.permissions.MFAPolicy",
        ],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        # Depth-, surrogate- and NUL-safe JSON: hostile bodies are 400, never 500.
        "DEFAULT_PARSER_CLASSES": ["hardening.parsers.JSONParser"],
        "EXCEPTION_HANDLER": "hardening.errors.drf_exception_handler",
        "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    }
    values.update(overrides)
    return values
