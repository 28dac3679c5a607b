"""Helpers for system-check tests."""

from __future__ import annotations

from django.core.checks import CheckMessage, run_checks

__all__ = ["check_error_codes", "check_messages"]


def check_messages() -> list[CheckMessage]:
    return [m for m in run_checks() if m.id and m.id.startswith("hardening.")]


def check_error_codes() -> dict[str, str]:
    """``{id: level name}`` of every hardening message, e.g. ``{"hardening.E001": "ERROR"}``."""
    names = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}
    return {m.id: names[m.level] for m in check_messages() if m.id}
