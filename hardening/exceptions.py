from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

__all__ = ["StartupCheckFailed"]


class StartupCheckFailed(ImproperlyConfigured):
    """Raised by the ``hardening.wsgi`` / ``hardening.asgi`` entry points when Error-level
    system checks fail: the process refuses to serve instead of serving insecurely."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__(
            "django-hardening refused to start: "
            f"{len(messages)} system check error(s).\n" + "\n".join(messages)
        )
