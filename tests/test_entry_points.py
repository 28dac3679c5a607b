"""The fail-fast entry points and the gunicorn hooks, in-process (the real-server tests run
them inside gunicorn and uvicorn, where coverage does not look)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings

import hardening.asgi
import hardening.gunicorn
import hardening.wsgi
from hardening.exceptions import StartupCheckFailed
from tests.helpers.checks import production


def test_wsgi_application_is_built_after_the_checks_pass() -> None:
    with override_settings(HARDENING_FAIL_FAST=False):
        assert isinstance(hardening.wsgi.get_wsgi_application(), WSGIHandler)
        assert isinstance(hardening.wsgi.application, WSGIHandler)  # built on access
    with pytest.raises(AttributeError, match="no attribute 'other'"):
        hardening.wsgi.other  # noqa: B018


def test_asgi_application_is_built_after_the_checks_pass() -> None:
    with override_settings(HARDENING_FAIL_FAST=False):
        assert isinstance(hardening.asgi.get_asgi_application(), ASGIHandler)
        assert isinstance(hardening.asgi.application, ASGIHandler)
    with pytest.raises(AttributeError, match="no attribute 'other'"):
        hardening.asgi.other  # noqa: B018


def test_entry_points_refuse_an_unsafe_production() -> None:
    with production(SECRET_KEY=""), pytest.raises(StartupCheckFailed, match="E001"):
        hardening.wsgi.get_wsgi_application()


def test_gunicorn_hooks_do_nothing_without_the_metrics_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    hardening.gunicorn.on_starting(server=None)
    hardening.gunicorn.child_exit(server=None, worker=SimpleNamespace(pid=1))


def test_gunicorn_hooks_prepare_the_directory_and_drop_a_dead_workers_gauges(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    directory = tmp_path / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    hardening.gunicorn.on_starting(server=None)
    assert directory.is_dir()
    (directory / "counter_123.db").write_bytes(b"")
    (directory / "notes.txt").write_text("kept")
    hardening.gunicorn.on_starting(server=None)  # a restart starts empty
    assert sorted(p.name for p in directory.iterdir()) == ["notes.txt"]

    (directory / "gauge_livesum_4242.db").write_bytes(b"")
    (directory / "gauge_livesum_4343.db").write_bytes(b"")
    hardening.gunicorn.child_exit(server=None, worker=SimpleNamespace(pid=4242))
    assert not (directory / "gauge_livesum_4242.db").exists()
    assert (directory / "gauge_livesum_4343.db").exists()
