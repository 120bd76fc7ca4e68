"""The synchronous client against the real binary."""
import concurrent.futures
import json
import os

import pytest

from conftest import RecordingPipe, is_reaped, resume, stop
from merit_client import (AuthenticationRequired, BinaryNotFound, ClientClosed, Conflict, InvalidRequest, Merit,
                          MeritError, MethodNotFound, NotFound, PermissionDenied, RequestTimeout, UnknownMethod,
                          ValidationError)

MISSING = "emp_01ARYZ6S41ZZZZZZZZZZZZZZZZ"


@pytest.fixture
def merit(org):
    with Merit(org.data, org.api_key, timeout=30) as client:
        yield client


def test_initialize_authenticates_with_the_key(merit, org):
    assert merit.protocol_version == "2026-11-01"
    assert merit.server_info["name"] == "merit"
    assert merit.initialize_result["organization"] == {"id": org.organization_id, "name": "Acme"}
    assert merit.principal["name"] == "admin"
    assert merit.capabilities["batch"] is True
    assert merit.organization.get()["id"] == org.organization_id
    assert "people.create" in merit.methods and "rpc.discover" in merit.methods


def test_key_and_data_from_the_environment(org, monkeypatch):
    monkeypatch.setenv("MERIT_API_KEY", org.api_key)
    monkeypatch.setenv("MERIT_DATA", org.data)
    with Merit() as merit:
        assert merit.principal["name"] == "admin"
        assert merit.organization.get()["name"] == "Acme"


def test_without_a_key_the_session_starts_unauthenticated(org):
    with Merit(org.data) as merit:
        assert merit.principal is None
        with pytest.raises(AuthenticationRequired) as caught:
            merit.organization.get()
        assert caught.value.status == 401 and caught.value.code == "authentication_required"
        assert caught.value.rpc_code == -32001
        merit.initialize(api_key=org.api_key)
        assert merit.principal["name"] == "admin"
        assert merit.organization.get()["name"] == "Acme"


def test_an_invalid_key_fails_at_start(org):
    with pytest.raises(AuthenticationRequired) as caught:
        Merit(org.data, "mk_not_a_real_key")
    assert "not a valid key" in caught.value.message


def test_create_and_read_people(merit):
    head = merit.people.create(name="Grace Head", email="grace@acme.example", role="head")
    assert head["id"].startswith("emp_") and head["role"] == "head"
    eve = merit.people.create(name="Eve", email="eve@acme.example", role="employee", manager_id=head["id"],
                              squad="core")
    assert merit.people.get(id=eve["id"]) == eve
    listed = merit.people.list(manager_id=head["id"])
    assert listed == {"data": [eve], "next_cursor": None}
    assert merit.call("people.list", {"role": "head"})["data"] == [head]
    assert merit.people.list({"role": "employee"}, limit=1)["data"] == [eve]  # a mapping and keywords
    updated = merit.people.update(id=eve["id"], squad="")
    assert updated["squad"] is None


def test_validation_error_names_the_field(merit):
    with pytest.raises(ValidationError) as caught:
        merit.people.create(name="Nobody", email="nobody", role="employee")
    error = caught.value
    assert isinstance(error, MeritError)
    assert (error.code, error.status, error.rpc_code) == ("validation_error", 400, -32602)
    assert error.fields == ["email"]
    assert error.details[0]["field"] == "email" and "email address" in error.details[0]["problem"]
    assert error.message == "email must be an email address such as ada@example.org."
    assert error.data["code"] == "validation_error" and error.method == "people.create"


def test_not_found_and_conflict(merit):
    with pytest.raises(NotFound) as caught:
        merit.people.get(id=MISSING)
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    merit.people.create(name="Eve", email="eve@acme.example", role="employee")
    with pytest.raises(Conflict) as conflict:
        merit.people.create(name="Eve Again", email="EVE@acme.example", role="employee")
    assert conflict.value.status == 409


def test_permission_denied_for_a_key_without_the_scope(merit):
    reader = merit.keys.create(name="reader", scopes=["directory:read"])
    assert reader["key"].startswith("mk_")
    merit.initialize(api_key=reader["key"])
    assert merit.principal["scopes"] == ["directory:read"]
    assert merit.people.list()["data"] == []
    with pytest.raises(PermissionDenied) as caught:
        merit.people.create(name="Ada", email="ada@example.org", role="manager")
    assert (caught.value.status, caught.value.code, caught.value.rpc_code) == (403, "permission_denied", -32003)


def test_a_method_name_typo_raises_before_anything_is_sent(merit):
    recorder = RecordingPipe(merit._proc.stdin)
    merit._proc.stdin = recorder
    with pytest.raises(UnknownMethod) as caught:
        merit.peopel.list()
    assert isinstance(caught.value, AttributeError)
    assert "people" in caught.value.suggestions and "people" in str(caught.value)
    with pytest.raises(UnknownMethod) as caught:
        merit.people.lst
    assert "people.list" in caught.value.suggestions
    with pytest.raises(UnknownMethod):
        merit.people()  # a namespace, not a method
    assert not hasattr(merit, "nonexistent")
    assert recorder.writes == []
    assert merit.pending_requests == 0
    assert merit.people.list()["data"] == []
    assert len(recorder.writes) == 1


def test_call_sends_any_name(merit):
    assert merit.call("$/ping") == {}
    assert merit.ping() == {}
    with pytest.raises(MethodNotFound):
        merit.call("peopel.list")
    assert merit.call("rpc.discover")["info"]["title"] == "Merit"
    assert merit.rpc.discover()["methods"] == merit.openrpc["methods"]


def test_batch(merit):
    recorder = RecordingPipe(merit._proc.stdin)
    merit._proc.stdin = recorder
    with merit.batch() as batch:
        ada = batch.people.create(name="Ada", email="ada@example.org", role="manager")
        bad = batch.people.create(name="Bad", email="bad", role="employee")
        batch.notify("$/ping")
        listed = batch.call("people.list")
        missing = batch.call("no.such.method")
        org = batch.organization.get()
        with pytest.raises(RuntimeError):
            ada.result()  # not sent yet
    assert len(recorder.writes) == 1
    sent = json.loads(recorder.writes[0])
    assert isinstance(sent, list) and len(sent) == 6 and "id" not in sent[2]
    results = batch.results
    assert len(results) == 5
    assert results[0] == ada.result() and ada.result()["name"] == "Ada"
    assert isinstance(results[1], ValidationError) and bad.exception() is results[1]
    with pytest.raises(ValidationError):
        bad.result()
    assert listed.result()["data"] == [ada.result()]  # later requests see earlier changes
    assert isinstance(missing.exception(), MethodNotFound)
    assert org.result()["name"] == "Acme"
    with pytest.raises(RuntimeError):
        batch.call("$/ping")
    assert merit.batch().send() == []
    with pytest.raises(UnknownMethod):
        merit.batch().peopel


def test_batch_builder_send(merit):
    batch = merit.batch()
    for n in range(5):
        batch.people.create(name=f"P{n}", email=f"p{n}@example.org", role="employee")
    results = batch.send()
    assert [r["name"] for r in results] == [f"P{n}" for n in range(5)]


def test_notify(merit):
    assert merit.notify("people.create", {"name": "Bo", "email": "bo@example.org", "role": "employee"}) is None
    merit.notify("no.such.method")
    merit.notify("$/ping")
    assert [p["name"] for p in merit.people.list()["data"]] == ["Bo"]
    assert merit.pending_requests == 0


def test_many_threads_in_flight(merit):
    people = [merit.people.create(name=f"P{n}", email=f"p{n}@example.org", role="employee") for n in range(10)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda n: merit.people.get(id=people[n % 10]["id"]), range(200)))
    assert got == [people[n % 10] for n in range(200)]


def test_a_call_times_out_and_the_late_answer_is_dropped(merit):
    stop(merit.pid)
    try:
        with pytest.raises(RequestTimeout) as caught:
            merit.call("$/ping", timeout=0.2)
        assert isinstance(caught.value, TimeoutError)
    finally:
        resume(merit.pid)
    assert merit.people.list()["data"] == []
    assert merit.pending_requests == 0


def test_shutdown_then_requests_fail_and_close_is_clean(org):
    merit = Merit(org.data, org.api_key)
    assert merit.shutdown() is None
    with pytest.raises(InvalidRequest) as caught:
        merit.ping()
    assert "shutting down" in caught.value.message
    merit.close()
    assert merit.returncode == 0


def test_close_reaps_the_child_and_is_idempotent(org):
    merit = Merit(org.data, org.api_key)
    pid = merit.pid
    merit.close()
    merit.close()
    assert merit.returncode == 0
    assert is_reaped(pid)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    with pytest.raises(ClientClosed):
        merit.ping()
    with pytest.raises(ClientClosed):
        merit.next_event(timeout=0)


def test_a_missing_binary(org):
    with pytest.raises(BinaryNotFound):
        Merit(org.data, binary="/nonexistent/merit")
    with pytest.raises(FileNotFoundError):
        Merit(org.data, binary="/nonexistent/merit")


def test_nan_is_refused_before_sending(merit):
    with pytest.raises(ValueError):
        merit.people.list(limit=float("nan"))
    assert merit.pending_requests == 0
    assert merit.ping() == {}


def test_no_method_namespace_is_hidden_by_a_client_attribute(merit):
    """``merit.<name>`` must reach the server's methods: a client attribute of the same name would hide
    them (``events`` is both on purpose: callable, and a namespace of ``events.*``)."""
    from merit_client import AsyncMerit, Batch

    top = set(merit._table.children(""))
    for cls in (Merit, AsyncMerit, Batch):
        hidden = (top & {name for name in dir(cls) if not name.startswith("_")}) - {"events"}
        assert not hidden, f"{cls.__name__} attributes hide the server's {sorted(hidden)}: rename them"


def test_a_line_too_long_fails_its_own_call(org):
    """merit answers a line longer than --max-line-bytes with id null: the oldest call waiting gets it."""
    from merit_client import ParseError

    with Merit(org.data, org.api_key, max_line_bytes=100_000, timeout=30) as merit:
        assert merit.capabilities["max_line_bytes"] == 100_000
        with pytest.raises(ParseError) as caught:
            merit.people.create(name="Ada", email="ada@example.org", role="manager", squad="x" * 200_000)
        assert "longer than the maximum" in caught.value.message and caught.value.method == "people.create"
        with merit.batch() as batch:
            a = batch.people.list(squad="x" * 200_000)
            b = batch.call("$/ping")
        assert isinstance(a.exception(), ParseError) and isinstance(b.exception(), ParseError)
        assert merit.ping() == {} and merit.pending_requests == 0


def test_unicode_round_trips(merit):
    person = merit.people.create(name="Zoë 李 \u2028 🎉", email="zoe@example.org", role="employee")
    assert merit.people.get(id=person["id"])["name"] == "Zoë 李 \u2028 🎉"


def test_the_real_feed_subscribe_then_list(merit):
    assert merit.events.subscribe(types=["person.created", "cycle.created"]) == {"subscribed": True}
    ada = merit.people.create(name="Ada", email="ada@example.org", role="manager")
    cycle = merit.performance.cycles.create(name="Q1 2026", type="quarterly", period_start="2026-01-01",
                                            period_end="2026-03-31")
    first = merit.next_event(timeout=10)
    second = merit.next_event(timeout=10)
    assert first.type == "person.created" and first.data == ada
    assert second.type == "cycle.created" and second.data["id"] == cycle["id"]
    assert second.sequence == first.sequence + 1
    # The durable feed holds the same events, and a watermark continues exactly after them.
    page = merit.events.list(after=first.sequence - 1, limit=2)
    assert page["data"] == [first, second]
    assert page["next_after"] == second.sequence
    assert merit.events.list(after=page["next_after"])["data"] == []
