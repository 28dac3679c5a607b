from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from hardening.env import Env, security_settings


def test_missing_required_variable_names_it() -> None:
    with pytest.raises(ImproperlyConfigured, match="Set the SECRET_KEY environment variable"):
        Env({}).str("SECRET_KEY")


def test_empty_required_variable_counts_as_missing() -> None:
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        Env({"SECRET_KEY": ""}).str("SECRET_KEY")


def test_default_is_returned_when_unset() -> None:
    assert Env({}).str("X", default="fallback") == "fallback"
    assert Env({}).bool("X", default=False) is False
    assert Env({}).list("X", default=[]) == []


def test_secret_is_read_from_file_with_trailing_newline_stripped(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("  s3cr3t value  \n")
    env = Env({"SECRET_KEY_FILE": str(secret), "SECRET_KEY": "ignored"})
    # The file wins; only the trailing newline goes, inner and leading spaces are kept.
    assert env.str("SECRET_KEY") == "  s3cr3t value  "
    assert env.has("SECRET_KEY")


def test_crlf_is_stripped_from_file_secrets(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"value\r\n")
    assert Env({"K_FILE": str(secret)}).str("K") == "value"


def test_unreadable_secret_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="K_FILE points to a file that cannot be read"):
        Env({"K_FILE": str(tmp_path / "missing")}).str("K")


def test_dollar_values_are_not_references() -> None:
    env = Env({"SECRET_KEY": "$OTHER", "OTHER": "leaked"})
    assert env.str("SECRET_KEY") == "$OTHER"


@pytest.mark.parametrize("raw", ["true", "True", "1", "yes", "on", " TRUE "])
def test_true_booleans(raw: str) -> None:
    assert Env({"DEBUG": raw}).bool("DEBUG") is True


@pytest.mark.parametrize("raw", ["false", "0", "no", "off", "False"])
def test_false_booleans(raw: str) -> None:
    assert Env({"DEBUG": raw}).bool("DEBUG") is False


@pytest.mark.parametrize("raw", ["garbage", "ture", "2", "y e s"])
def test_garbage_booleans_are_errors(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be a boolean"):
        Env({"DEBUG": raw}).bool("DEBUG")


def test_lists_are_stripped_and_empty_items_dropped() -> None:
    env = Env({"HOSTS": " a.example.com , ,b.example.com,  "})
    assert env.list("HOSTS") == ["a.example.com", "b.example.com"]


def test_int_and_float() -> None:
    env = Env({"N": " 30 ", "F": "1.5", "BAD": "x"})
    assert env.int("N") == 30
    assert env.float("F") == 1.5
    with pytest.raises(ImproperlyConfigured, match="BAD must be an integer"):
        env.int("BAD")
    with pytest.raises(ImproperlyConfigured, match="BAD must be a number"):
        env.float("BAD")


def test_database_url_is_parsed_and_errors_do_not_echo_the_password() -> None:
    config = Env({"DATABASE_URL": "postgres://u:pw@127.0.0.1:5432/app"}).db()
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "app"
    with pytest.raises(ImproperlyConfigured, match="unsupported scheme") as info:
        Env({"DATABASE_URL": "nosuchscheme://u:hunter2@h/db"}).db()
    assert "hunter2" not in str(info.value)


def test_cache_url_is_parsed() -> None:
    config = Env({"CACHE_URL": "redis://127.0.0.1:6379/1"}).cache()
    assert "redis" in config["BACKEND"].lower()
    assert config["LOCATION"] == "redis://127.0.0.1:6379/1"
    with pytest.raises(ImproperlyConfigured, match="unsupported scheme"):
        Env({"CACHE_URL": "memcachedx://h"}).cache()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("production", "production"),
        ("prod", "production"),
        ("Development", "development"),
        ("dev", "development"),
        ("test", "test"),
    ],
)
def test_environment(raw: str, expected: str) -> None:
    assert Env({"DJANGO_ENV": raw}).environment() == expected


def test_environment_defaults_to_production_and_rejects_unknown_values() -> None:
    # Fail safe: forgetting DJANGO_ENV (or leaving it empty) gives the strict checks.
    assert Env({}).environment() == "production"
    assert Env({"DJANGO_ENV": ""}).environment() == "production"
    assert Env({"DJANGO_ENV": "  "}).environment() == "production"
    with pytest.raises(ImproperlyConfigured, match="DJANGO_ENV must be one of"):
        Env({"DJANGO_ENV": "staging"}).environment()


def test_security_settings_for_production() -> None:
    values = security_settings("production")
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_CROSS_ORIGIN_OPENER_POLICY"] == "same-origin"
    assert values["SECURE_REFERRER_POLICY"] == "strict-origin-when-cross-origin"
    assert values["SECURE_PROXY_SSL_HEADER"] is None


def test_security_settings_for_development_do_not_force_https() -> None:
    values = security_settings("development")
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["X_FRAME_OPTIONS"] == "DENY"


def test_security_settings_behind_proxy_and_unknown_environment() -> None:
    values = security_settings("production", behind_proxy=True, ssl_host="127.0.0.1:8443")
    assert values["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert values["SECURE_SSL_HOST"] == "127.0.0.1:8443"
    with pytest.raises(ImproperlyConfigured):
        security_settings("staging")


def test_cache_accepts_the_locmem_spelling_its_error_message_names() -> None:
    assert Env({}).cache(default="locmem://")["BACKEND"].endswith("LocMemCache")


def test_a_redis_cluster_url_gives_the_cluster_backend() -> None:
    from hardening.env import Env

    config = Env(
        {"CACHE_URL": "rediscluster://:pw@10.0.0.1:7000,10.0.0.2:7001?key_prefix=s"}
    ).cache()
    assert config == {
        "BACKEND": "hardening.cache.RedisClusterCache",
        "LOCATION": ["redis://10.0.0.1:7000", "redis://10.0.0.2:7001"],
        "KEY_PREFIX": "s",
        "OPTIONS": {"password": "pw"},
    }


def test_a_required_default_reads_as_required() -> None:
    from hardening.env import REQUIRED

    assert repr(REQUIRED) == "<required>"  # what a signature in the docs shows


@pytest.mark.parametrize(
    "url", ["postgres://u:hunter2@db.internal:notaport/app", "postgres://u:hunter2@[::1/app"]
)
def test_an_unparsable_database_url_is_an_error_that_does_not_echo_it(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL is not a valid") as info:
        Env({"DATABASE_URL": url}).db()
    assert "hunter2" not in str(info.value) and info.value.__cause__ is None
    assert info.value.__suppress_context__  # nor through the parser's own exception


def test_postgres_fail_fast_options_yield_to_the_url_and_other_engines_get_none() -> None:
    from hardening.env import POSTGRES_FAIL_FAST

    options = Env({"DATABASE_URL": "postgres://u:p@h/app?connect_timeout=10"}).db()["OPTIONS"]
    assert options == {**POSTGRES_FAIL_FAST, "connect_timeout": 10}
    sqlite = Env({"DATABASE_URL": "sqlite:////tmp/app.sqlite3"}).db()
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3" and "OPTIONS" not in sqlite
    configured = {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    assert Env({}).db(default=configured) is configured  # a non-string default as it is


def test_an_unparsable_cache_url_is_an_error_that_does_not_echo_it() -> None:
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL is not a valid") as info:
        Env({"CACHE_URL": "redis://u:hunter2@[::1/0"}).cache()
    assert "hunter2" not in str(info.value) and info.value.__suppress_context__


def test_a_redis_cluster_url_without_password_or_prefix() -> None:
    config = Env({"CACHE_URL": "rediscluster://10.0.0.1:7000, :7001/0"}).cache()
    assert config == {
        "BACKEND": "hardening.cache.RedisClusterCache",
        "LOCATION": ["redis://10.0.0.1:7000", "redis://127.0.0.1:7001"],
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("rediscluster://:hunter2@10.0.0.1:notaport", "CACHE_URL is not a valid cache URL."),
        ("rediscluster://:hunter2@10.0.0.1", "CACHE_URL is not a valid cache URL."),
        ("rediscluster://:hunter2@10.0.0.1:7000/3", "a Redis Cluster has database 0 only."),
    ],
)
def test_bad_redis_cluster_urls(url: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        Env({"CACHE_URL": url}).cache()
    assert str(info.value).endswith(message) and "hunter2" not in str(info.value)
