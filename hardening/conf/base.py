"""How django-hardening reads its settings: flat ``HARDENING_*`` names, typed, lazy, and
never raising at request time.

Each room declares its settings on a :class:`Reader` subclass of its own (``<room>/conf.py``)::

    class Settings(Reader):
        HARDENING_REQUEST_TIMEOUT = setting(30.0, parse.seconds, "Seconds a request may take.")

    conf = Settings()

An access reads ``django.conf.settings`` afresh (``override_settings`` works without signal
handlers) and parses the value.  A value that does not parse is never an exception in a
request: the read falls back to the default, and the room's system check reports the value
through :meth:`Reader.problems`, so a bad value stops ``manage.py check`` in production.
Settings that were removed are listed in ``removed``; ``hardening.E032`` names the
replacement when a project still sets one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar, overload

from django.conf import settings

T = TypeVar("T")

_MISSING: Any = object()


class setting(Generic[T]):  # noqa: N801 - read like a field declaration
    """One ``HARDENING_*`` setting: its default, its parser and one line of documentation.

    ``default`` may be a callable taking the reader (for defaults that depend on another
    setting or on the environment).  ``parse`` turns the raw value into the typed one and
    raises ``ValueError`` or ``TypeError`` (with a message for the check) when it cannot.
    """

    def __init__(
        self,
        default: T | Callable[[Any], T],
        parse: Callable[[Any], T],
        doc: str = "",
    ) -> None:
        self.default = default
        self.parse = parse
        self.doc = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def default_for(self, reader: Any) -> T:
        if callable(self.default):
            return self.default(reader)
        return self.default

    @overload
    def __get__(self, reader: None, owner: type) -> setting[T]: ...
    @overload
    def __get__(self, reader: object, owner: type) -> T: ...
    def __get__(self, reader: object | None, owner: type) -> setting[T] | T:
        if reader is None:
            return self
        raw = getattr(settings, self.name, _MISSING)
        if raw is _MISSING:
            return self.default_for(reader)
        try:
            return self.parse(raw)
        except (TypeError, ValueError):
            return self.default_for(reader)

    def problem(self) -> str | None:
        """Why the configured value is unusable, or None (unset or fine)."""
        raw = getattr(settings, self.name, _MISSING)
        if raw is _MISSING:
            return None
        try:
            self.parse(raw)
        except (TypeError, ValueError) as exc:
            return str(exc) or f"{type(exc).__name__}"
        return None


class Reader:
    """Base of each room's settings object."""

    #: ``{removed setting: what to use instead}``; reported by ``hardening.E032``.
    removed: ClassVar[dict[str, str]] = {}
    #: Every reader class, so the removed-settings check needs no central list.
    readers: ClassVar[list[type[Reader]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Reader.readers.append(cls)

    @classmethod
    def declared(cls) -> dict[str, setting[Any]]:
        """Every setting declared on this reader (and its bases), by name."""
        found: dict[str, setting[Any]] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, setting):
                    found[name] = value
        return found

    def problems(self) -> list[tuple[str, str]]:
        """``(name, why)`` for each configured value that does not parse."""
        found = []
        for name, declared in self.declared().items():
            why = declared.problem()
            if why is not None:
                found.append((name, why))
        return found


def configured(name: str) -> bool:
    """True when the project sets ``name`` (whatever its value)."""
    return hasattr(settings, name)
