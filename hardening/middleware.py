"""The base of every django-hardening middleware: sync and async capable.

Adam Johnson's pattern (django-cors-headers, django-htmx): a plain class that marks itself as
a coroutine function when the next handler is async, and switches to ``__acall__`` inside
``__call__`` instead of swapping dunder methods.  Subclasses implement ``__call__`` (which
must start with ``if self.async_mode: return self.__acall__(request)``) and ``__acall__``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest
from django.http.response import HttpResponseBase

__all__ = ["GetResponse", "HardeningMiddleware"]

GetResponse: TypeAlias = (
    Callable[[HttpRequest], HttpResponseBase] | Callable[[HttpRequest], Awaitable[HttpResponseBase]]
)


class HardeningMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        # Typed loosely: which of the two the handler is depends on ``async_mode``.
        self.get_response: Callable[[HttpRequest], Any] = get_response
        self.async_mode = iscoroutinefunction(self.get_response)
        if self.async_mode:
            # Mark the instance as async-capable; the switch happens inside __call__.
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        raise NotImplementedError  # pragma: no cover - every subclass implements it
