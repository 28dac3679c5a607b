"""Which kind of server runs this process (no Django imports: settings may use it)."""

from __future__ import annotations

import sys

#: ASGI servers (also gunicorn's ``uvicorn.workers.UvicornWorker``): imported before they
#: import the application, so they are in ``sys.modules`` when settings and checks run.
ASGI_SERVER_MODULES = ("uvicorn", "daphne", "hypercorn", "granian")


def asgi_server_running() -> bool:
    """This process is (about to be) served by an ASGI server."""
    return any(name in sys.modules for name in ASGI_SERVER_MODULES)
