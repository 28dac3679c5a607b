"""Form fields read by this package's HTML views: refused with a 400, never a 500.

PostgreSQL text columns cannot hold NUL (psycopg raises ``DataError``: a 500 and a
traceback for a username or a device name with ``%00``), a lone surrogate cannot be encoded
for the database or a hash, and an over-long value used to be cut silently.  Each view
declares the fields it reads and their maximum length; :func:`refusal` checks every value
of those names in the query string and the form body before the view uses any of them,
and records a refused one: the audit event ``request.rejected`` (reason
``invalid_form_field``, the field's name and the problem, never the value) and
``hardening_bad_requests_total{code="invalid_form_field"}``.  The view then renders its
form again with status 400 and :attr:`Refusal.message`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.http import HttpRequest

from hardening.observability.audit import audit
from hardening.observability.metrics import BAD_REQUESTS
from hardening.parsers import clean_string

CODE = "invalid_form_field"


@dataclass(frozen=True)
class Refusal:
    field: str
    problem: str  # "characters" or "length"
    limit: int

    @property
    def message(self) -> str:
        if self.problem == "length":
            return f"The {self.field} field is too long (at most {self.limit} characters)."
        return f"The {self.field} field contains characters that are not allowed."


def problem(value: str, limit: int) -> str | None:
    """``"characters"`` (NUL, a lone surrogate), ``"length"`` or None for a good value."""
    if not clean_string(value):
        return "characters"
    if len(value) > limit:
        return "length"
    return None


def refusal(request: HttpRequest, limits: Mapping[str, int]) -> Refusal | None:
    """The first refused field among ``limits`` (name -> maximum length), recorded; or
    None when every value of those fields in ``request.GET`` and ``request.POST`` is good."""
    for name, limit in limits.items():
        for source in (request.GET, request.POST):
            for value in source.getlist(name):
                found = problem(value, limit)
                if found is not None:
                    BAD_REQUESTS.labels(code=CODE).inc()
                    audit(
                        "request.rejected", request=request, reason=CODE, field=name, problem=found
                    )
                    return Refusal(name, found, limit)
    return None
