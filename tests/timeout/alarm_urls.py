"""Views for the SIGALRM tests (``tests/timeout/test_alarm.py``): plain sync code that the
timer interrupts, and code it must not interrupt (a logging handler's lock, the wait for a
COMMIT reply, threading internals, an import)."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from hardening.timeout.deadline import current_deadline

#: What the views and the middleware below got to do (cleared by the tests).
REACHED: list[str] = []
SLOW_IMPORT = "tests.timeout.slow_import"


def alarm_now() -> None:
    """Deliver SIGALRM to this (the main) thread now; its handler runs before the next
    Python instruction (or inside the sleep that follows)."""
    os.kill(os.getpid(), signal.SIGALRM)


def _pass_the_deadline() -> None:
    deadline = current_deadline()
    assert deadline is not None
    deadline.set_budget(deadline.elapsed())  # it passes now; the SIGALRM we send decides


class Recorder:
    """A plain middleware listed after TimeoutMiddleware."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        REACHED.append("recorder: request")
        try:
            response = self.get_response(request)
            REACHED.append("recorder: response")
            return response
        finally:
            REACHED.append("recorder: finally")


class SignalInLock(logging.Handler):
    """Sends SIGALRM right after taking its lock: on Python 3.10-3.12 ``Handler.handle``
    calls ``acquire()`` and only then enters ``try``, so an exception here leaks the lock."""

    def __init__(self) -> None:
        super().__init__()
        self.emitted: list[str] = []
        self.sent = True  # the view arms it (logging.shutdown() takes every handler's lock)

    def acquire(self) -> None:
        super().acquire()
        self._send()

    def emit(self, record: logging.LogRecord) -> None:
        self._send()  # Python >= 3.13 takes the lock with ``with`` (no acquire() call)
        self.emitted.append(record.getMessage())

    def _send(self) -> None:
        if not self.sent:
            self.sent = True
            alarm_now()
            time.sleep(0.1)  # the handler runs here (EINTR), then the sleep goes on


class Hung(logging.Handler):
    """A handler that never finishes (a full pipe, a syslog server that hangs)."""

    def emit(self, record: logging.LogRecord) -> None:
        alarm_now()
        time.sleep(5)
        REACHED.append("hung: emitted")


LOG_HANDLER = SignalInLock()
LOGGER = logging.getLogger("tests.timeout.alarm")
LOGGER.propagate = False
LOGGER.addHandler(LOG_HANDLER)
HUNG_HANDLER = Hung()
HUNG_LOGGER = logging.getLogger("tests.timeout.alarm.hung")
HUNG_LOGGER.propagate = False
HUNG_LOGGER.addHandler(HUNG_HANDLER)


def swallow(request: HttpRequest) -> HttpResponse:
    """A write, then a catch-all around slow work: the deadline must get through it."""
    Group.objects.create(name="written")
    try:
        time.sleep(5)
    except Exception:  # noqa: BLE001 - what user code does
        REACHED.append("view: caught")
        return JsonResponse({"caught": True})
    return JsonResponse({"finished": True})


def log(request: HttpRequest) -> HttpResponse:
    _pass_the_deadline()
    LOG_HANDLER.sent = False
    try:
        LOGGER.warning("past the deadline")
    finally:
        LOG_HANDLER.sent = True
    time.sleep(5)
    return JsonResponse({"finished": True})


def hung_log(request: HttpRequest) -> HttpResponse:
    _pass_the_deadline()
    HUNG_LOGGER.warning("never written")
    return JsonResponse({"finished": True})


def commit(request: HttpRequest) -> HttpResponse:
    with transaction.atomic():
        Group.objects.create(name="committed")
        _pass_the_deadline()
    time.sleep(5)
    return JsonResponse({"finished": True})


def _alarm_soon() -> threading.Timer:
    """SIGALRM in 0.1 s, from another thread (it is still handled by the main thread)."""
    timer = threading.Timer(0.1, alarm_now)
    timer.start()
    return timer


def wait(request: HttpRequest) -> HttpResponse:
    condition = threading.Condition()
    _pass_the_deadline()
    timer = _alarm_soon()
    with condition:
        condition.wait(0.3)  # SIGALRM arrives inside threading's Condition.wait
    timer.join(1)
    time.sleep(5)
    return JsonResponse({"finished": True})


def import_(request: HttpRequest) -> HttpResponse:
    sys.modules.pop(SLOW_IMPORT, None)
    _pass_the_deadline()
    timer = _alarm_soon()
    importlib.import_module(SLOW_IMPORT)  # its body sleeps 0.5 s: SIGALRM arrives in it
    timer.join(1)
    time.sleep(5)
    return JsonResponse({"finished": True})


urlpatterns = [
    path("swallow", swallow),
    path("log", log),
    path("hung-log", hung_log),
    path("commit", commit),
    path("wait", wait),
    path("import", import_),
]
