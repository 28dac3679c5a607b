"""Internal: checks of Django's own settings and of the wiring a project copies (secrets and
key strength, hosts and origins, cookies, HTTPS, caches and databases, middleware
order, DRF and logging).  Users never import from here."""
