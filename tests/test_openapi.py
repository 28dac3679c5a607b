"""OpenAPI (hardening.openapi, the "openapi" extra): the example's schema is valid OpenAPI
(openapi-spec-validator), generated without a warning, describes hardening's endpoints,
auth and error answers, is served with a Swagger UI under the strict CSP, and a bounded
schemathesis run through the WSGI application finds no 500 and no answer that contradicts
the schema."""

from __future__ import annotations

import json
import re
from contextlib import redirect_stderr
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

pytest.importorskip("drf_spectacular")
pytestmark = pytest.mark.django_db

OURS = (
    "/api/auth/token",
    "/api/auth/token/refresh",
    "/api/auth/logout",
    "/api/auth/mfa",
    "/api/mfa/totp",
    "/api/mfa/totp/confirm",
    "/api/mfa/recovery-codes",
    "/api/mfa/webauthn",
    "/api/mfa/webauthn/register/options",
    "/api/mfa/webauthn/register",
    "/api/keys",
    "/api/keys/{public_id}",
    "/api/keys/{public_id}/rotate",
    "/.well-known/jwks.json",
    "/csp-report",
)


def schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    found = json.loads(response.content)
    assert isinstance(found, dict)
    return found


def test_generation_has_no_warning_and_the_document_is_valid() -> None:
    from drf_spectacular.drainage import GENERATOR_STATS
    from openapi_spec_validator import validate

    # drf-spectacular prints its warnings to sys.stderr (not the command's stderr), once per
    # message per process: start from a clean slate and catch the real stream.
    GENERATOR_STATS.reset()
    out, err = StringIO(), StringIO()
    with redirect_stderr(err):
        call_command("spectacular", "--validate", "--format", "openapi-json", stdout=out)
    document = json.loads(out.getvalue())
    validate(document)
    assert set(OURS) <= set(document["paths"])
    # No "could not resolve authenticator", and no warning about the views described here
    # (views of later capabilities are theirs to describe; they are listed if they warn).
    warnings = err.getvalue()
    assert "could not resolve authenticator" not in warnings, warnings
    ours = r"(jwt/views|jwt/auth|mfa/api|mfa/login|mfa/passkey_views|apikeys/api|openapi/\w+)"
    assert not re.search(rf"hardening/{ours}\.py(:\d+)?: (Warning|Error)", warnings), warnings
    assert not re.search(r"example_project/\w+\.py(:\d+)?: (Warning|Error)", warnings), warnings


def test_auth_schemes_and_error_answers(client: Client) -> None:
    document = schema(client)
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    error = document["components"]["schemas"]["HardeningError"]
    assert set(error["required"]) == {"error", "detail", "request_id"}
    for path in OURS:
        for method, operation in document["paths"][path].items():
            responses = operation["responses"]
            for status in ("429", "503", "504"):
                ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/HardeningError"), (path, method, status)
            assert "Retry-After" in responses["429"]["headers"]
            if operation.get("security"):
                assert "WWW-Authenticate" in responses["401"]["headers"], (path, method)
    me = document["paths"]["/api/me"]["get"]
    assert {"bearerAuth": []} in me["security"]
    token = document["paths"]["/api/auth/token"]["post"]
    assert token.get("security") in (None, [])  # no credentials to log in
    assert document["paths"]["/api/auth/mfa"]["post"]["requestBody"]


def test_swagger_ui_is_served_from_static_files_under_the_strict_csp(client: Client) -> None:
    response = client.get("/api-docs/")
    assert response.status_code == 200
    html = response.content.decode()
    directives = dict(
        (part.split(" ", 1) + [""])[:2] for part in response["Content-Security-Policy"].split("; ")
    )
    assert directives["default-src"] == "'self'" and "script-src" not in directives
    assert "unsafe" not in response["Content-Security-Policy"]
    # Only Swagger UI's data: icons (DOCS_RELAXATIONS); never scripts, never styles.
    assert "style-src" not in directives
    assert directives["img-src"] == "'self' data:"
    assert directives["frame-ancestors"] == "'none'"
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources  # same origin, no CDN
    assert "drf_spectacular_sidecar" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script"
    assert "<style" not in html and "style=" not in html, "an inline style"
    assert "/static/hardening/openapi/swagger-ui-page.css" in sources
    init = next(s for s in sources if "script" in s and "sidecar" not in s)
    script = client.get(init)
    assert script.status_code == 200 and "javascript" in script["Content-Type"]


@pytest.mark.django_db(transaction=True)  # as a server runs: no test-wide transaction
def test_schemathesis_finds_no_500_and_no_contradiction(
    settings: Any, django_user_model: Any
) -> None:
    # Rate limits would answer most cases 429 (documented, but then the views go untested).
    settings.HARDENING_RATELIMIT_ENABLED = False
    import schemathesis
    from django.core.wsgi import get_wsgi_application
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    from hardening.jwt.tokens import issue_token_pair

    user = django_user_model.objects.create_user("schemathesis", password="x" * 20)
    bearer = {"Authorization": "Bearer " + issue_token_pair(user, amr=["pwd"])["access"]}
    # The API-key API wants an MFA-verified caller (a token whose amr proves a second factor).
    verified = {"Authorization": "Bearer " + issue_token_pair(user, amr=["pwd", "otp"])["access"]}
    app = get_wsgi_application()
    api = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]
    tested: list[str] = []
    statuses: list[int] = []
    reached: dict[str, set[int]] = {}
    for result in api.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an Err raises: fine here
        if operation.path not in OURS or operation.path == "/csp-report":
            continue  # (csp-report takes browser media types schemathesis cannot build)
        tested.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(  # type: ignore[untyped-decorator]
            max_examples=5,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            secured = case.operation.definition.raw.get("security")
            mfa = case.operation.path.startswith("/api/keys")
            headers = (verified if mfa else bearer) if secured else None
            status = case.call_and_validate(headers=headers, checks=checks).status_code
            statuses.append(status)
            name = f"{case.operation.method.upper()} {case.operation.path}"
            reached.setdefault(name, set()).add(status)

        run()
    assert len(tested) >= 19, tested
    assert set(reached) == set(tested), reached  # every operation was called
    assert len(statuses) >= 9 * 5, statuses
    assert 201 in reached["POST /api/mfa/totp"]  # authenticated: enrolled devices
    # An MFA-verified token reaches the API-key views themselves (not only RequireMFA's 403).
    assert reached["GET /api/keys"] == {200}, reached


def test_an_api_key_class_gets_its_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    """DESIGN.md: ``Authorization: Api-Key <key>``; the class may arrive with another issue."""
    from drf_spectacular.extensions import OpenApiAuthenticationExtension
    from rest_framework.authentication import BaseAuthentication

    import hardening.authentication
    from hardening.openapi.extensions import APIKeyScheme, BearerTokenScheme

    class APIKeyAuthentication(BaseAuthentication):
        pass

    monkeypatch.setattr(
        hardening.authentication, "APIKeyAuthentication", APIKeyAuthentication, raising=False
    )
    path = "hardening.authentication.APIKeyAuthentication"
    monkeypatch.setattr(APIKeyScheme, "target_class", path)
    found = OpenApiAuthenticationExtension.get_match(APIKeyAuthentication())
    assert isinstance(found, APIKeyScheme) and found.name == "apiKeyAuth"
    assert found.get_security_definition(None)["name"] == "Authorization"
    from hardening.authentication import OIDCAuthentication

    assert isinstance(
        OpenApiAuthenticationExtension.get_match(OIDCAuthentication()), BearerTokenScheme
    )


def test_the_hook_on_a_project_that_mounts_none_of_hardenings_views(settings: Any) -> None:
    """Only the operations drf-spectacular found: no plain views, no token schema to widen;
    a path item's non-operation keys (``parameters``) are left alone."""
    from hardening.openapi.hooks import ERROR, ERROR_SCHEMA, describe

    settings.ROOT_URLCONF = "tests.headers.interplay_urls"
    parameters = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    limited = {"description": "DRF's throttle", "content": {}}
    result = {
        "paths": {
            "/things/{id}": {
                "parameters": parameters,
                "get": {"responses": {"200": {"description": "A thing"}, "429": limited}},
            }
        }
    }
    described = describe(result, None, None, True)
    assert list(described["paths"]) == ["/things/{id}"]
    item = described["paths"]["/things/{id}"]
    assert item["parameters"] == parameters
    responses = item["get"]["responses"]
    assert sorted(responses) == ["200", "429", "503", "504"]  # no body, no security
    assert responses["429"]["description"] == "DRF's throttle"  # the view's own answer kept
    assert responses["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert "headers" not in responses["504"]
    assert described["components"]["schemas"][ERROR] == ERROR_SCHEMA


def test_the_hook_keeps_an_answers_own_headers_and_adds_the_bearer_challenge() -> None:
    from hardening.openapi.hooks import describe

    own = {"Retry-After": {"schema": {"type": "string"}}}
    operation = {
        "security": [{"bearerAuth": []}],
        "requestBody": {"content": {"application/json": {}}},
        "responses": {"429": {"description": "mine", "headers": own}},
    }
    described = describe({"paths": {"/x": {"put": operation}}}, None, None, True)
    responses = described["paths"]["/x"]["put"]["responses"]
    assert responses["429"]["headers"] is own
    assert sorted(responses) == ["400", "401", "403", "415", "429", "503", "504"]
    assert "WWW-Authenticate" in responses["401"]["headers"]
