"""django-hardening: production hardening for Django and Django REST framework backends.

The public modules (docs/api.md lists every name in them; everything else is internal and
defines no ``__all__``): ``hardening.env``, ``.middleware``, ``.backends``,
``.authentication``, ``.permissions``, ``.decorators``, ``.timeout``, ``.request``,
``.errors``, ``.parsers``, ``.audit``, ``.crypto``, ``.apikeys``, ``.admin``,
``.context_processors``, ``.models``, ``.exceptions``, ``.wsgi``, ``.asgi``, ``.websocket``,
``.gunicorn``, ``.cache``, ``.urls``, ``.openapi`` and ``.openapi.urls``.
"""

from __future__ import annotations

__version__ = "0.1.0.dev0"
