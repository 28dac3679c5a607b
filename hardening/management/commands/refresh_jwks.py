"""``manage.py refresh_jwks [--issuer LABEL]``: fetch a JWKS now (after a key rotation or
a key removal) instead of waiting for the cache TTL.

The key stores are per process: this command fetches over the network, and when
``HARDENING_CACHE`` is shared between processes writes the document into its shared copy.  Running
workers look at that copy every few seconds (``SHARED_CHECK_SECONDS``) and install it when
it is newer than their keys, so a removed key stops verifying everywhere within seconds.
Without a shared cache, only a restart (or each worker's TTL) refreshes running workers.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hardening.conf import conf
from hardening.conf.core import per_process
from hardening.jwt.issuers import configured
from hardening.jwt.keys import KeyStore, store_for


class Command(BaseCommand):
    help = "Fetch the JWKS of the configured issuers now and update the shared cache copy."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--issuer", help="only this issuer's label (e.g. clerk, oidc)")

    def handle(self, *args: Any, **options: Any) -> None:
        issuers = [i for i in configured() if i.key_url]
        labels = sorted(i.label for i in issuers)
        wanted = options["issuer"]
        if wanted:
            issuers = [i for i in issuers if i.label == wanted]
            if not issuers:
                known = ", ".join(labels) or "none"
                raise CommandError(f"No issuer with a JWKS URL is labelled {wanted!r} ({known}).")
        if not issuers:
            raise CommandError("No issuer with a JWKS URL is configured.")
        shared = "" if per_process(conf.HARDENING_CACHE) else conf.HARDENING_CACHE
        failed = []
        for issuer in issuers:
            store = store_for(issuer)
            assert isinstance(store, KeyStore)  # type narrow: no public key
            with store._lock:
                store.refresh(network=True)
            if store.last_error is not None:
                failed.append(issuer.label)
                self.stderr.write(f"{issuer.label}: refresh failed ({store.last_error}); kept keys")
                continue
            kids = ", ".join(sorted(store.keys))
            where = f"shared cache {shared!r} updated" if shared else "no shared cache"
            self.stdout.write(f"{issuer.label}: {len(store.keys)} key(s) [{kids}], {where}")
        if not shared:
            self.stderr.write(
                f"HARDENING_CACHE ({conf.HARDENING_CACHE!r}) is per-process: running workers keep "
                "their keys until their TTL ends; restart them to use the new keys now."
            )
        if failed:
            raise CommandError("JWKS refresh failed for: " + ", ".join(failed))
