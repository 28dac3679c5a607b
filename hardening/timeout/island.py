"""One thread hop per request under ASGI: the middleware below ``TimeoutMiddleware`` as
a *sync* chain.

Under ASGI, Django adapts every sync-style middleware (``MiddlewareMixin``: sessions,
CSRF, auth, messages, django-prometheus ...) with a ``sync_to_async`` call for its request
step and another for its response step: about twenty hops between the event loop and a
worker thread per request, each waiting for the GIL behind the other requests' threads.
That, not the work itself, is why uvicorn served a fraction of gthread's requests per
second (bench/asgi_bench.py).  For a **sync view**, TimeoutMiddleware instead runs the rest
of the stack -- the middleware after it in ``MIDDLEWARE``, built once in sync mode, and
the view -- in one hop on the request's thread.  Async views keep the async chain, so they
are still cancelled at the deadline.

Not used (the async chain is kept) when a middleware before TimeoutMiddleware has
``process_view``, ``process_exception`` or ``process_template_response`` hooks, which only
Django's own handler would call.

The middleware *before* TimeoutMiddleware stays in Django's async chain.  Some of it is
``MiddlewareMixin`` whose hooks do no I/O at all (django-prometheus's counters, Django's
``SecurityMiddleware`` headers): :func:`inline_hooks` gives :class:`PooledASGIHandler
<hardening.timeout.runner.PooledASGIHandler>` a variant of exactly those classes that calls
the hooks on the event loop instead of taking two thread hops each (measured: uvicorn's CPU
per request down from about 1.95 to 1.5 ms on ``bench/asgi_bench.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.http import HttpRequest
from django.urls import Resolver404, get_resolver, get_urlconf
from django.utils.module_loading import import_string

from hardening.conf.core import middleware as installed_middleware

_HOOKS = ("process_view", "process_exception", "process_template_response")

#: ``MiddlewareMixin`` classes whose ``process_request``/``process_response`` only compute
#: (no I/O, no database, no thread-bound state): safe to call on the event loop.  Exact
#: classes only: a subclass may add I/O.
INLINE_HOOKS = frozenset(
    {
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
        "django_prometheus.middleware.PrometheusAfterMiddleware",
        "hardening.observability.prometheus.PrometheusAfterMiddleware",
    }
)


class _InlineHooks:
    """``MiddlewareMixin.__acall__`` without ``sync_to_async`` around the hooks."""

    async def __acall__(self, request: HttpRequest) -> Any:
        this: Any = self
        response = None
        if hasattr(this, "process_request"):
            response = this.process_request(request)
        response = response or await this.get_response(request)
        if hasattr(this, "process_response"):
            response = this.process_response(request, response)
        return response


_inline_classes: dict[type, type] = {}


def inline_hooks(cls: Any) -> Any:
    """``cls``, or for a class in :data:`INLINE_HOOKS` a subclass whose hooks run inline
    in async mode (same name, same behaviour in sync mode)."""
    if not isinstance(cls, type) or f"{cls.__module__}.{cls.__qualname__}" not in INLINE_HOOKS:
        return cls
    found = _inline_classes.get(cls)
    if found is None:
        found = type(cls.__name__, (_InlineHooks, cls), {"__module__": __name__})
        _inline_classes[cls] = found
    return found


class SyncIsland(BaseHandler):
    """A Django handler for the middleware after ``own`` in ``MIDDLEWARE``, sync mode."""

    def __init__(self, own: str, view_hook: Callable[..., Any], exc_hook: Callable[..., Any]):
        super().__init__()
        middleware = list(settings.MIDDLEWARE)
        inner = middleware[installed_middleware().index(own) + 1 :]
        saved = settings.MIDDLEWARE
        settings.MIDDLEWARE = inner  # read once by load_middleware, at start-up
        try:
            self.load_middleware(is_async=False)
        finally:
            settings.MIDDLEWARE = saved
        # TimeoutMiddleware's own hooks, outermost (as Django would have placed them).
        handler: Any = self  # django-stubs do not declare these private lists
        handler._view_middleware.insert(0, view_hook)
        handler._exception_middleware.append(exc_hook)
        self._chain: Callable[[HttpRequest], Any] = handler._middleware_chain

    def __call__(self, request: HttpRequest) -> Any:
        return self._chain(request)


def _outer_hooks(own: str) -> bool:
    middleware = list(settings.MIDDLEWARE)
    for path in middleware[: installed_middleware().index(own)]:
        cls = import_string(path)
        if any(hasattr(cls, hook) for hook in _HOOKS):
            return True
    return False


def build(
    own: str, view_hook: Callable[..., Any], exc_hook: Callable[..., Any]
) -> SyncIsland | None:
    """The sync chain, or None when it cannot stand in for Django's async chain."""
    if own not in installed_middleware() or _outer_hooks(own):
        return None
    return SyncIsland(own, view_hook, exc_hook)


def is_sync_view(request: HttpRequest) -> bool:
    """True when the request resolves to a sync view (or to nothing: a sync 404)."""
    try:
        match = get_resolver(getattr(request, "urlconf", None) or get_urlconf()).resolve(
            request.path_info
        )
    except Resolver404:
        return True
    return not iscoroutinefunction(match.func)
