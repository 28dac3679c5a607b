"""What the HTML pages say when a code is refused: what happened and what to do next."""

from __future__ import annotations

from django.http import HttpRequest

from hardening.mfa import devices, throttle


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def refusal(request: HttpRequest, user_id: object, reason: str, retry_after: int) -> str:
    """The sentence for a refused code (``throttled``, ``replay`` or ``invalid``)."""
    if reason == "throttled":
        wait = _plural(max(1, retry_after), "second")
        return f"Too many attempts. Wait {wait}, then try again with a new code."
    if reason == "replay":
        period = devices.TOTP_PERIOD
        return (
            "That code was already used. Wait for the next code "
            f"(your app shows a new one every {period} seconds) and enter it."
        )
    left = throttle.attempts_left(user_id, throttle.client_ip(request))
    return (
        "That code is not valid. Enter the code your app shows now "
        f"(check the phone's clock if it keeps failing). {_plural(left, 'attempt')} left."
    )
