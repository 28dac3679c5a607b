"""django-hardening: production hardening for Django and Django REST framework backends."""

from __future__ import annotations

__version__ = "0.1.0.dev0"
