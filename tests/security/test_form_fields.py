"""Form fields of this package's HTML views: NUL, lone surrogates and over-long values are
a 400 with the form re-rendered, an audit event and a metric -- never a 500.

On PostgreSQL a NUL in a username or a device name raised ``DataError`` (500 and a
traceback): text columns cannot hold NUL.  SQLite stored or compared it silently.  The
tests run on whichever database the suite uses; the ``postgres`` ones insist on it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.test import Client

from hardening.mfa.models import TOTPDevice
from hardening.observability.metrics import BAD_REQUESTS
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import PASSWORD, code_now, make_device

pytestmark = pytest.mark.django_db

CODE = "invalid_form_field"
LOGIN = "/account/login/"
PAGE = "/account/mfa/"


def _refused() -> float:
    return float(BAD_REQUESTS.labels(code=CODE)._value.get())


def _assert_refused(response: Any, field: str, before: float, events: Any) -> None:
    body = response.content.decode()
    assert response.status_code == 400, (field, response.status_code, body[:300])
    assert response["Content-Type"].startswith("text/html")
    assert 'id="error"' in body and "<form" in body  # the form again, with the reason
    assert "\x00" not in body
    assert _refused() == before + 1
    [audited] = [fields for event, fields in events if event == "request.rejected"]
    assert audited["reason"] == CODE and audited["field"] == field
    assert audited["problem"] in ("characters", "length")


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password=PASSWORD)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "al\x00ice", "password": PASSWORD}, "username"),
        ({"username": "alice", "password": "pass\x00word"}, "password"),
        ({"username": "a" * 151, "password": PASSWORD}, "username"),
        ({"username": "alice", "password": "x" * 4097}, "password"),
        ({"username": "alice", "password": PASSWORD, "next": "/\x00"}, "next"),
        ({"username": "alice", "password": PASSWORD, "step": "pass\x00word"}, "step"),
    ],
)
def test_login_password_step_refuses_bad_fields(
    alice: Any, client: Client, data: dict[str, str], field: str, events: Any
) -> None:
    before = _refused()
    response = client.post(LOGIN, data)
    _assert_refused(response, field, before, events)
    assert "_auth_user_id" not in client.session  # no login, not even with the password


def test_login_next_in_the_query_string_is_checked_too(client: Client, events: Any) -> None:
    before = _refused()
    _assert_refused(client.get(LOGIN + "?next=/%00"), "next", before, events)


def test_login_code_step_refuses_bad_codes(
    alice: Any, client: Client, clock: FakeClock, events: Any
) -> None:
    make_device(alice)
    assert client.post(LOGIN, {"username": "alice", "password": PASSWORD}).status_code == 200
    before = _refused()
    response = client.post(LOGIN, {"step": "code", "code": "12\x003456"})
    _assert_refused(response, "code", before, events)
    # The pending sign-in survives the refusal: the right code still works.
    good = client.post(LOGIN, {"step": "code", "code": code_now(clock)})
    assert good.status_code == 302


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"action": "enroll", "name": "ph\x00ne"}, "name"),
        ({"action": "add", "name": "p" * 65}, "name"),
        ({"action": "en\x00roll"}, "action"),
        ({"action": "verify", "code": "12\x003456"}, "code"),
        ({"action": "confirm", "code": "1" * 65}, "code"),
        ({"action": "verify", "code": "123456", "next": "/\x00"}, "next"),
    ],
)
def test_mfa_page_refuses_bad_fields(
    alice: Any, client: Client, data: dict[str, str], field: str, events: Any
) -> None:
    client.force_login(alice)
    before = _refused()
    response = client.post(PAGE, data)
    _assert_refused(response, field, before, events)
    assert not TOTPDevice.objects.filter(user=alice).exists()


def test_ordinary_values_still_work(alice: Any, client: Client) -> None:
    """Unicode that is not NUL or a lone surrogate is a name like any other."""
    client.force_login(alice)
    assert client.post(PAGE, {"action": "enroll", "name": "Téléphone 📱"}).status_code == 200
    assert TOTPDevice.objects.get(user=alice).name == "Téléphone 📱"


def test_the_check_sees_lone_surrogates() -> None:
    """Django's form decoding replaces invalid UTF-8, so no request carries a surrogate
    today; the helper refuses one anyway (as ``clean_string`` does for JSON)."""
    from hardening.formfields import problem

    assert problem("\ud800", 10) == "characters"
    assert problem("a\x00", 10) == "characters"
    assert problem("abc", 2) == "length"
    assert problem("Téléphone", 9) is None


def test_authenticate_refuses_a_nul_username_before_any_backend(alice: Any) -> None:
    """``LockoutBackend`` (first in AUTHENTICATION_BACKENDS) ends ``authenticate()`` for a
    username no database can hold: a project's own login view gets None, not DataError."""
    assert authenticate(username="al\x00ice", password=PASSWORD) is None
    assert authenticate(username="alice", password=PASSWORD) == alice


def test_admin_ban_page_refuses_bad_identities(
    django_user_model: Any, client: Client, events: Any
) -> None:
    staff = django_user_model.objects.create_superuser("boss", password=PASSWORD)
    client.force_login(staff)
    before = _refused()
    response = client.post("/admin/ratelimit/bans/", {"identity": "ip:1.2.3.4\x00"})
    assert response.status_code == 400
    assert _refused() == before + 1
    [audited] = [fields for event, fields in events if event == "request.rejected"]
    assert audited["reason"] == CODE and audited["field"] == "identity"
    assert [e for e, _ in events if e == "ratelimit.unbanned"] == []


@pytest.mark.postgres
def test_postgres_nul_in_username_and_device_name_is_a_400_not_a_500(
    alice: Any, events: Any
) -> None:
    """The reported crash: ``DataError`` (PostgreSQL text cannot contain NUL)."""
    client = Client(raise_request_exception=False)
    before = _refused()
    response = client.post(LOGIN, {"username": "al\x00ice", "password": PASSWORD})
    _assert_refused(response, "username", before, events)
    client.force_login(alice)
    events.clear()
    before = _refused()
    response = client.post(PAGE, {"action": "enroll", "name": "ph\x00ne"})
    _assert_refused(response, "name", before, events)
    assert authenticate(username="al\x00ice", password=PASSWORD) is None
