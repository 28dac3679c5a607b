from __future__ import annotations

from django.apps import AppConfig
from django.core.checks import Tags, register


class HardeningConfig(AppConfig):
    name = "hardening"
    verbose_name = "Hardening"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hardening import lockout, outage
        from hardening.checks import deploy, hosts, secrets, services, wiring
        from hardening.health import checks as health
        from hardening.jwt import checks as jwt
        from hardening.jwt import lifecycle
        from hardening.mfa import checks as mfa
        from hardening.observability import auth_events
        from hardening.observability import checks as observability
        from hardening.ratelimit import checks as ratelimit
        from hardening.timeout import checks as timeout
        from hardening.timeout import db as timeout_db

        checks = (
            deploy.check_environment,
            deploy.check_debug_and_hosts,
            deploy.check_cookies,
            deploy.check_https,
            deploy.check_middleware,
            deploy.check_security_headers,
            deploy.check_cors,
            secrets.check_secret_key,
            secrets.check_jwt_signing_key,
            secrets.check_clerk_keys,
            secrets.check_field_encryption_keys,
            hosts.check_allowed_host_suffixes,
            hosts.check_csrf_trusted_origins,
            services.check_ratelimit_cache,
            services.check_database_connections,
            services.check_asgi_database_pool,
            observability.check_observability_middleware,
            observability.check_metrics_endpoint,
            observability.check_security_headers_middleware,
            observability.check_csp,
            observability.check_sentry,
            health.check_health_urls,
            health.check_health_settings,
            ratelimit.check_ratelimit_policies,
            ratelimit.check_trusted_proxies,
            ratelimit.check_ratelimit_middleware,
            ratelimit.check_ratelimit_cache_options,
            timeout.check_timeout_settings,
            timeout.check_server_timeout,
            timeout.check_database_timeout,
            mfa.check_mfa_settings,
            mfa.check_mfa_wiring,
            jwt.check_issuers,
            jwt.check_jwt_settings,
            lockout.check_lockout_wiring,
            wiring.check_drf_bearer_first,
            wiring.check_json_logging,
            wiring.check_metrics_multiprocess,
            wiring.check_login_url,
        )
        for check in checks:
            # A development runserver prints one line, not every production-only finding.
            register(Tags.security)(wiring.quiet(check))
        register(Tags.security)(wiring.summary(checks))
        timeout_db.install()
        auth_events.connect()
        lockout.connect()
        lifecycle.connect()
        outage.connect()
