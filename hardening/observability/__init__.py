"""Request IDs, JSON logging, audit events, Prometheus counters and Sentry set-up."""
