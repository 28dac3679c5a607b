"""The deploy room's checks, registered by importing the modules that declare them."""

from __future__ import annotations

from hardening.deploy import hosts, order, secrets, services, settings, wiring

ROOM = (hosts, order, secrets, services, settings, wiring)
