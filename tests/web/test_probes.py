"""Probes of every route in the app's route table, on SQLite and on PostgreSQL (issue 15, items 9–11).

The routes are read from ``app.routes``: a route without an entry in :data:`ROUTES` fails
``test_every_route_has_a_probe``, so a new route cannot be forgotten. For each route:

* authorisation per role (anonymous, reviewer, lead, admin): too low a role is refused, enough is not;
* CSRF: a state-changing request without the token, or with a wrong one, is refused and changes nothing;
* every parameter it takes (path, query, form and JSON fields, read from the route's signature, plus the
  decision form's fields) gets hostile values — integers past 2^31 / 2^63, far dates, a NUL byte, an XSS
  payload, non-ASCII, very long text — and the app answers 4xx (or 2xx/3xx), never 5xx, always with the
  security headers, HTML for pages and JSON for the API, without tracebacks and without the payload
  unescaped.

:data:`NAMED_PROBES` are the probes of the issue's report, each with the status it must answer now.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, func, select
from starlette.routing import BaseRoute, Mount
from support.postgres import POSTGRES_URL, require_postgres
from support.web import HOSTILE, PASSWORD, SECRET, csrf_from, scored

from pantau import queue
from pantau.labels import LABEL_KEYS
from pantau.queue.complaints import ComplaintPolicy
from pantau.queue.db import make_engine, scratch_schema, upgrade
from pantau.queue.models import AuditEvent, Decision, Item, User
from pantau.queue.throttle import ThrottlePolicy
from pantau.queue.users import add_user
from pantau.web.app import WebConfig, create_app

ROLES = ("anonymous", "reviewer", "lead", "admin")
RANK = {role: rank for rank, role in enumerate(ROLES)}
USER_OF = {"reviewer": "rina", "lead": "lia", "admin": "adi"}
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options")
XSS = "<script>alert('pantau-xss')</script><img src=x onerror=alert(1)>"
DECISION_FORM = ("action", "note", "confirmed", "pasal_280", "hs_target", "hs_category", "hs_strength")
DECISION_FORM += tuple(f"label_{k}" for k in LABEL_KEYS)

# Values every parameter is probed with: strings as a query, path or form would carry them.
HOSTILE_VALUES: dict[str, str] = {
    "int 10^20": "99999999999999999999",
    "int 2^63-1": "9223372036854775807",
    "int 2^63": "9223372036854775808",
    "int 2^31": "2147483648",
    "negative": "-1",
    "zero": "0",
    "float 1e309": "1e309",
    "NaN": "NaN",
    "date 9999-12-31": "9999-12-31",
    "date year 1 +01:00": "0001-01-01T00:00:00+01:00",
    "not a date": "2026-13-45",
    "NUL": "a\x00b",
    "control chars": "\x01\x1b[31m\x7f",
    "xss": XSS,
    "non-ASCII": "é🙂\u202e",
    "lone surrogate escape": "%ED%A0%80",
    "long": "x" * 20_000,
}
# JSON bodies can also carry other types.
HOSTILE_JSON: dict[str, Any] = {
    **HOSTILE_VALUES,
    "json int 10^20": 10**20,
    "json int 2^63": 2**63,
    "json float 1e308": 1e308,
    "json null": None,
    "json list": [XSS],
    "json object": {"a": XSS},
    "json bool": True,
}


@dataclass(frozen=True)
class Spec:
    """What a route needs: the least role (None: public), whether it writes (needs a CSRF token), and
    a valid request apart from the probed parameter."""

    role: str | None
    write: bool = False
    csrf: bool = True  # False: a write that needs no token (signing in through the API)
    form: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    query: dict[str, str] = field(default_factory=dict)
    extra_form_fields: tuple[str, ...] = ()  # fields the handler reads itself (await request.form())


_DECISION_FORM = {"action": "escalate", "note": "probe"}
_DECISION_JSON = {"labels": dict.fromkeys(LABEL_KEYS, False), "action": "escalate", "note": "probe"}
_DECIDES = {"form": _DECISION_FORM, "extra_form_fields": DECISION_FORM}

# Every route of the app, by (method, path template). A new route fails test_every_route_has_a_probe.
ROUTES: dict[tuple[str, str], Spec] = {
    ("GET", "/login"): Spec(None, query={"next": "/queue"}),
    ("POST", "/login"): Spec(
        None, write=True, form={"username": "rina", "password": PASSWORD, "next": "/queue"}
    ),
    ("POST", "/logout"): Spec("reviewer", write=True),
    ("GET", "/"): Spec("reviewer"),
    ("GET", "/queue"): Spec("reviewer"),
    ("POST", "/claim"): Spec("reviewer", write=True),
    ("GET", "/items/{item_id}"): Spec("reviewer"),
    ("POST", "/items/{item_id}/claim"): Spec("reviewer", write=True),
    ("POST", "/items/{item_id}/release"): Spec("reviewer", write=True),
    ("POST", "/items/{item_id}/decide"): Spec("reviewer", write=True, **_DECIDES),
    ("POST", "/items/{item_id}/undo"): Spec("reviewer", write=True),
    ("POST", "/items/{item_id}/lease"): Spec("reviewer", write=True),
    ("POST", "/items/{item_id}/resolve"): Spec("lead", write=True, **_DECIDES),
    ("POST", "/items/{item_id}/override"): Spec("lead", write=True, **_DECIDES),
    ("GET", "/mine"): Spec("reviewer", query={"today": "1"}),
    ("GET", "/search"): Spec("reviewer", query={"q": "kadrun"}),
    ("GET", "/lead"): Spec("lead"),
    ("GET", "/stats"): Spec("lead"),
    # case files and the desk report (issue 18 §4); item 1 is undecided in the probe queue: 409
    ("GET", "/lead/items/{item_id}/case.pdf"): Spec("lead"),
    ("GET", "/lead/items/{item_id}/case.json"): Spec("lead"),
    ("GET", "/lead/report"): Spec("lead", query={"period": "week", "date": "2026-03-02"}),
    ("GET", "/lead/report.pdf"): Spec("lead", query={"period": "day"}),
    ("GET", "/lead/report.csv"): Spec("lead", query={"period": "day"}),
    ("GET", "/admin/users"): Spec("admin"),
    ("POST", "/admin/users"): Spec(
        "admin", write=True, form={"username": "probe", "password": PASSWORD + "-probe", "role": "reviewer"}
    ),
    ("POST", "/admin/users/{username}"): Spec("admin", write=True, form={"role": "", "active": ""}),
    ("POST", "/admin/users/{username}/sessions"): Spec("admin", write=True),
    ("POST", "/admin/throttle/clear"): Spec(
        "admin", write=True, form={"username": "", "client": "", "everything": ""}
    ),
    ("GET", "/admin/audit"): Spec("admin"),
    ("POST", "/api/v1/session"): Spec(
        None, write=True, csrf=False, json={"username": "rina", "password": PASSWORD}
    ),
    ("DELETE", "/api/v1/session"): Spec("reviewer", write=True),
    ("GET", "/api/v1/items"): Spec("reviewer"),
    ("GET", "/api/v1/items/{item_id}"): Spec("reviewer"),
    ("GET", "/api/v1/items/{item_id}/decisions"): Spec("lead"),
    ("POST", "/api/v1/claims"): Spec("reviewer", write=True, json={"n": 1}),
    ("POST", "/api/v1/items/{item_id}/claim"): Spec("reviewer", write=True),
    ("POST", "/api/v1/items/{item_id}/release"): Spec("reviewer", write=True),
    ("POST", "/api/v1/items/{item_id}/decision"): Spec("reviewer", write=True, json=_DECISION_JSON),
    ("POST", "/api/v1/items/{item_id}/resolution"): Spec("lead", write=True, json=_DECISION_JSON),
    ("POST", "/api/v1/items/{item_id}/override"): Spec("lead", write=True, json=_DECISION_JSON),
    ("POST", "/api/v1/items/{item_id}/undo"): Spec("reviewer", write=True),
    ("POST", "/api/v1/items/{item_id}/lease"): Spec("reviewer", write=True),
    ("GET", "/api/v1/stats"): Spec("lead"),
    ("GET", "/api/v1/audit"): Spec("admin"),
    ("GET", "/api/openapi.json"): Spec(None),
    # the public complaint desk (issue 18 §3): no account, the form still needs the session's token
    ("GET", "/aduan"): Spec(None),
    ("POST", "/aduan"): Spec(None, write=True, form={"text": "probe aduan", "labels": "abusive"}),
    ("GET", "/aduan/{code}"): Spec(None, query={"baru": "1"}),
    ("GET", "/complaints"): Spec("reviewer"),
    ("POST", "/api/v1/complaints"): Spec(
        None, write=True, csrf=False, json={"text": "probe aduan", "labels": ["abusive"]}
    ),
    ("GET", "/api/v1/complaints/{code}"): Spec(None),
    # accounts and campaigns (issue 18 §1–2); campaign 1 does not exist in the probe queue: 404
    ("GET", "/accounts/{account:path}"): Spec("reviewer"),
    ("GET", "/lead/accounts"): Spec("lead", query={"days": "30"}),
    ("GET", "/campaigns/{campaign_id}"): Spec("reviewer"),
    ("POST", "/campaigns/{campaign_id}/decide"): Spec("lead", write=True, **_DECIDES),
    # campaign case files (issue 18 §4): campaign 1 does not exist in the probe queue: 404
    ("GET", "/lead/campaigns/{campaign_id}/case.pdf"): Spec("lead"),
    ("GET", "/lead/campaigns/{campaign_id}/case.json"): Spec("lead"),
    ("GET", "/static"): Spec(None),  # the static files mount
}
PATH_DEFAULTS = {"item_id": "1", "username": "budi", "code": "A" * 22, "account": "@akun", "campaign_id": "1"}


def served_routes(app: FastAPI) -> Iterator[tuple[str, str, BaseRoute]]:
    """(method, path, route) of every route and mount the app serves, through included routers
    (HEAD answers like GET; a mount counts as GET)."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            yield "GET", route.path, route
            continue
        for method in sorted(context.methods or ()):
            if method != "HEAD":
                yield method, str(context.path), route


def route_table(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves."""
    return {(method, path) for method, path, _ in served_routes(app)}


@dataclass(frozen=True)
class Param:
    """One input of a route: where it travels and its name."""

    where: str  # path | query | form | json | header
    name: str


def params_of(app: FastAPI, method: str, path: str) -> list[Param]:
    """Every input the route's signature declares (JSON body models field by field), plus the form
    fields a handler reads itself."""
    spec = ROUTES[(method, path)]
    found: list[Param] = [Param("form", name) for name in spec.extra_form_fields]
    for m, p, route in served_routes(app):
        if not isinstance(route, APIRoute) or (m, p) != (method, path):
            continue
        for dep in _walk(route.dependant):
            found += [Param("path", p.alias) for p in dep.path_params]
            found += [Param("query", p.alias) for p in dep.query_params]
            found += [Param("header", p.alias) for p in dep.header_params]
        for body in (b for dep in _walk(route.dependant) for b in dep.body_params):
            annotation = body.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                found += [Param("json", name) for name in annotation.model_fields]
            else:
                found.append(Param("form", body.alias))
    unique = {(p.where, p.name): p for p in found}
    return list(unique.values())


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    """The dependant and every dependency under it (where roles, CSRF headers and forms come from)."""
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


# ------------------------------------------------------------------------------------------- fixtures


def _seed(engine: Engine, password_hash: str) -> None:
    upgrade(engine)
    for name, role in (("rina", "reviewer"), ("budi", "reviewer"), ("lia", "lead"), ("adi", "admin")):
        add_user(engine, name, None, role, password_hash=password_hash)
    rows = [scored(f"x-{k}", text, 0.6 + i / 100) for i, (k, text) in enumerate(HOSTILE.items())]
    queue.enqueue(engine, rows, model_version="v1", risk_threshold=0.5)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def probe_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, password_hash: str
) -> Iterator[Engine]:
    """A migrated queue with a reviewer, a lead, an admin and a few posts, per database, per module."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('probes') / 'queue.db'}")
        _seed(engine, password_hash)
        yield engine
        engine.dispose()
        return
    require_postgres()
    with scratch_schema(POSTGRES_URL, prefix="pantau_probe") as url:
        engine = make_engine(url)
        _seed(engine, password_hash)
        yield engine
        engine.dispose()


@pytest.fixture(scope="module")
def probe_app(probe_engine: Engine) -> FastAPI:
    # The probes send many wrong sign-ins on purpose; the throttle (tested on its own) must not
    # turn them into waits here.
    lenient = ThrottlePolicy(pair_free=10**6, client_free=10**6)
    # Likewise the complaint desk's hourly limits (tested in test_complaints): every probe reaches the handler.
    desk = ComplaintPolicy(per_client_per_hour=10**6, total_per_hour=10**6)
    return create_app(
        probe_engine,
        secret_key=SECRET,
        config=WebConfig(claim_batch=1, login_throttle=lenient, complaints=desk),
    )


class Clients:
    """One signed-in client per role (signing in is deliberately slow: reuse them), fresh on request."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._cache: dict[str, TestClient] = {}

    def get(self, role: str, *, fresh: bool = False) -> TestClient:
        """The shared client for ``role`` (``fresh``: a new one of its own, for a request that signs
        in or out); ``csrf`` is its token (a page's token for the anonymous one)."""
        if fresh:
            return self._new(role)
        if role not in self._cache:
            self._cache[role] = self._new(role)
        return self._cache[role]

    def reset(self, role: str) -> None:
        """Sign ``role`` in afresh next time (its session may have been changed)."""
        self._cache.pop(role, None)

    def _new(self, role: str) -> TestClient:
        client = TestClient(self.app, follow_redirects=False, raise_server_exceptions=False)
        token = csrf_from(client.get("/login").text)
        if role != "anonymous":
            reply = client.post(
                "/login", data={"csrf_token": token, "username": USER_OF[role], "password": PASSWORD}
            )
            assert reply.status_code == 303, reply.text
            token = csrf_from(client.get("/queue").text)
        client.csrf = token  # type: ignore[attr-defined]
        return client


@pytest.fixture(scope="module")
def clients(probe_app: FastAPI) -> Clients:
    return Clients(probe_app)


def fingerprint(engine: Engine) -> tuple[Any, ...]:
    """What a refused write must leave as it was: audit events, decisions, items' states, users."""
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
            conn.execute(select(func.count()).select_from(Decision)).scalar_one(),
            tuple(conn.execute(select(Item.id, Item.status, Item.claimed_by).order_by(Item.id)).all()),
            tuple(conn.execute(select(User.username, User.role, User.active).order_by(User.id)).all()),
        )


# ------------------------------------------------------------------------------------------- requests


def send(
    client: TestClient,
    method: str,
    path: str,
    *,
    csrf: str | None = "session",
    replace: Param | None = None,
    value: Any = None,
    json_body: Any = None,
) -> Any:
    """The route's valid request as :data:`ROUTES` describes it, with parameter ``replace`` set to
    ``value``; ``csrf`` "session" sends the client's token, None none, anything else that string."""
    spec = ROUTES[(method, path)]
    path_values = dict(PATH_DEFAULTS)
    query = dict(spec.query)
    form = dict(spec.form)
    body = json.loads(json.dumps(spec.json)) if spec.json is not None else None
    headers: dict[str, Any] = {}
    if replace is not None:
        if replace.where == "path":
            path_values[replace.name] = value
        elif replace.where == "query":
            query[replace.name] = value
        elif replace.where == "form":
            form[replace.name] = value
        elif replace.where == "json":
            body = dict(body or {})
            body[replace.name] = value
        elif replace.where == "header":
            headers[replace.name.replace("_", "-")] = value
    token = client.csrf if csrf == "session" else csrf  # type: ignore[attr-defined]
    if spec.write and token is not None and "x-csrf-token" not in headers:
        if path.startswith("/api/"):
            headers["X-CSRF-Token"] = token
        elif not (replace and replace.name == "csrf_token"):
            form.setdefault("csrf_token", token)
    url = path
    for name, v in path_values.items():
        url = url.replace("{" + name + "}", _path_segment(str(v))).replace("{" + name + ":path}", _path_segment(str(v)))
    kwargs: dict[str, Any] = {"params": query, "headers": headers}
    if json_body is not None:
        kwargs["content"] = json_body
        headers["content-type"] = "application/json"
    elif body is not None:
        kwargs["json"] = body
    elif form or spec.write:
        kwargs["data"] = form
    if path == "/static":
        url = "/static/app.css"
    return client.request(method, url, **kwargs)


def header_bytes(value: str) -> bytes:
    """A probe value as header bytes (UTF-8; headers cannot carry NUL or line breaks)."""
    return value.encode("utf-8").replace(b"\x00", b"")[:4000]


def _path_segment(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="%")  # "%ED%A0%80" travels as written: an undecodable UTF-8 sequence


def assert_well_formed(response: Any, path: str, payload: str | None = None) -> None:
    """Never a 5xx; the security headers always; JSON under /api/, HTML errors elsewhere; no
    traceback and no unescaped payload."""
    where = f"{response.request.method} {response.request.url}"
    assert response.status_code < 500, f"{where} → {response.status_code}: {response.text[:300]}"
    for header in SECURITY_HEADERS:
        assert header in response.headers, f"{where} ({response.status_code}) lacks {header}"
    kind = response.headers.get("content-type", "")
    if response.status_code >= 400:
        if path.startswith("/api/"):
            assert kind.startswith("application/json"), f"{where}: {kind}"
        elif path != "/items/{item_id}/lease":  # the page's lease renewal is a JSON helper of item.html
            assert kind.startswith("text/html"), f"{where} answered {kind}: {response.text[:200]}"
            if path != "/login":  # a refused sign-in shows the login form again, with why
                assert "(" in response.text and "Kembali" in response.text, f"{where}: not the bilingual page"
    assert "Traceback" not in response.text and 'File "' not in response.text, where
    if payload and kind.startswith("text/html"):
        assert payload not in response.text, f"{where} reflects the payload unescaped"


# ------------------------------------------------------------------------------------------- the probes


def test_every_route_has_a_probe(probe_app: FastAPI) -> None:
    served = route_table(probe_app)
    missing = sorted(served - set(ROUTES))
    stale = sorted(set(ROUTES) - served)
    assert not missing, f"routes without a probe/authz expectation in ROUTES: {missing}"
    assert not stale, f"ROUTES lists routes the app no longer serves: {stale}"


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES))
def test_authorisation_per_role(clients: Clients, method: str, path: str) -> None:
    spec = ROUTES[(method, path)]
    for role in ROLES:
        # Signing in or out changes the client's session: those routes get a fresh client each time.
        fresh = path in ("/login", "/logout", "/api/v1/session") or role == "anonymous"
        client = clients.get(role, fresh=fresh)
        response = send(client, method, path)
        assert_well_formed(response, path)
        status = response.status_code
        if spec.role is None or RANK[role] >= RANK[spec.role]:
            assert status not in (401, 403), f"{role} refused {method} {path}: {status} {response.text[:200]}"
            if path != "/logout":  # signing out ends on the login page; nothing else may
                assert not response.headers.get("location", "").startswith("/login"), (role, method, path)
        elif role == "anonymous":
            if path.startswith("/api/"):
                assert status == 401, (role, method, path, status)
            else:
                assert status == 303 and response.headers["location"].startswith("/login"), (
                    role,
                    method,
                    path,
                )
        else:
            assert status == 403, f"{role} reached {method} {path}: {status}"


@pytest.mark.parametrize(("method", "path"), sorted(k for k, s in ROUTES.items() if s.write and s.csrf))
@pytest.mark.parametrize(
    "token", [None, "", "forged-" + "x" * 40, "é" * 43], ids=["none", "empty", "forged", "non-ascii"]
)
def test_writes_need_the_csrf_token(
    clients: Clients, probe_engine: Engine, method: str, path: str, token: str | None
) -> None:
    role = ROUTES[(method, path)].role or "anonymous"
    client = clients.get(role)
    before = fingerprint(probe_engine)
    if path.startswith("/api/") and token is not None and not token.isascii():
        # A header carries bytes: the UTF-8 of "é…" arrives as latin-1 text.
        response = send(client, method, path, replace=Param("header", "x-csrf-token"), value=token.encode())
    else:
        response = send(client, method, path, csrf=token)
    assert_well_formed(response, path)
    assert response.status_code == 403, f"{method} {path} with token {token!r}: {response.status_code}"
    assert fingerprint(probe_engine) == before


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES))
def test_every_parameter_survives_hostile_values(clients: Clients, method: str, path: str) -> None:
    params = params_of(clients.app, method, path)
    if path == "/api/v1/session" or path == "/login" and method == "POST":
        role = "anonymous"  # signing in as someone else mid-probe would change the client
    else:
        role = "admin"  # the highest role reaches the handler; lower roles stop at the role check
    for param in params:
        values = HOSTILE_JSON if param.where == "json" else HOSTILE_VALUES
        for label, value in values.items():
            if param.where == "header" and isinstance(value, str):
                value = header_bytes(value)
            if param.where == "path" and label == "long":
                value = value[:2000]
            client = clients.get(role, fresh=role == "anonymous")
            response = send(client, method, path, replace=param, value=value)
            payload = XSS if label == "xss" else None
            assert_well_formed(response, path, payload)
            assert response.status_code != 413, f"{param} {label}: small bodies are not too large"
    clients.reset("admin")  # the probes may have changed the admin's own session


# --------------------------------------------------------------------------------- the probes


@dataclass(frozen=True)
class Probe:
    """One probe of the report's table: a request as a role, and the status it must answer."""

    name: str
    role: str
    method: str
    url: str
    expect: int
    form: dict[str, str] | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str | bytes] = field(default_factory=dict)
    html: bool = False  # an HTML page: the bilingual error page, not JSON


_ESC = {"labels": dict.fromkeys(LABEL_KEYS, False), "action": "escalate"}
NAMED_PROBES = [
    Probe("page item id 10^20", "reviewer", "GET", "/items/99999999999999999999", 404, html=True),
    Probe("page item id 2^63", "reviewer", "GET", "/items/9223372036854775808", 404, html=True),
    Probe("page item id 2^31 (PostgreSQL int4)", "reviewer", "GET", "/items/2147483648", 404, html=True),
    Probe("page item id 'abc'", "reviewer", "GET", "/items/abc", 404, html=True),
    Probe("API item id 10^20", "reviewer", "GET", "/api/v1/items/99999999999999999999", 404),
    Probe("API item id 2^31", "reviewer", "GET", "/api/v1/items/2147483648", 404),
    Probe("API claim item 2^63", "reviewer", "POST", "/api/v1/items/9223372036854775808/claim", 404),
    Probe("page claim item 2^31", "reviewer", "POST", "/items/2147483648/claim", 404, form={}, html=True),
    Probe("queue ?page=2^63-1", "reviewer", "GET", "/queue?page=9223372036854775807", 422, html=True),
    Probe("queue ?page=abc", "reviewer", "GET", "/queue?page=abc", 422, html=True),
    Probe("API ?offset=2^63", "reviewer", "GET", "/api/v1/items?offset=9223372036854775808", 422),
    Probe("API ?offset=2^63-1", "reviewer", "GET", "/api/v1/items?offset=9223372036854775807", 422),
    Probe("queue ?until=9999-12-31", "reviewer", "GET", "/queue?until=9999-12-31", 200, html=True),
    Probe(
        "queue ?since=year 1 +01:00",
        "reviewer",
        "GET",
        "/queue?since=0001-01-01T00:00:00%2B01:00",
        400,
        html=True,
    ),
    Probe(
        "API ?until=year 1 +01:00", "reviewer", "GET", "/api/v1/items?until=0001-01-01T00:00:00%2B01:00", 400
    ),
    Probe("queue ?source=NUL", "reviewer", "GET", "/queue?source=a%00b", 400, html=True),
    Probe("API ?source=NUL", "reviewer", "GET", "/api/v1/items?source=a%00b", 400),
    Probe(
        "API claims source NUL", "reviewer", "POST", "/api/v1/claims", 400, json={"n": 1, "source": "a\x00b"}
    ),
    Probe(
        "API sign-in username NUL",
        "anonymous",
        "POST",
        "/api/v1/session",
        400,
        json={"username": "ri\x00na", "password": PASSWORD},
    ),
    Probe(
        "API decision note NUL",
        "reviewer",
        "POST",
        "/api/v1/items/1/decision",
        400,
        json={**_ESC, "note": "a\x00b"},
    ),
    Probe(
        "admin audit ?item=10^20", "admin", "GET", "/admin/audit?item=99999999999999999999", 422, html=True
    ),
    Probe("API audit ?item_id=2^63", "admin", "GET", "/api/v1/audit?item_id=9223372036854775808", 422),
    Probe(
        "page form csrf_token non-ASCII",
        "reviewer",
        "POST",
        "/claim",
        403,
        form={"csrf_token": "é" * 43},
        html=True,
    ),
    Probe(
        "API X-CSRF-Token non-ASCII",
        "reviewer",
        "POST",
        "/api/v1/claims",
        403,
        json={"n": 1},
        headers={"X-CSRF-Token": "é".encode() * 22},
    ),
    Probe(
        "API JSON body 2 MB",
        "reviewer",
        "POST",
        "/api/v1/claims",
        413,
        content=b'{"n": 1, "source": "' + b"x" * 2_000_000 + b'"}',
    ),
    Probe(
        "API JSON body 10 MB",
        "anonymous",
        "POST",
        "/api/v1/session",
        413,
        content=b'{"username": "' + b"x" * 10_000_000 + b'", "password": "x"}',
    ),
    Probe("API invalid JSON", "reviewer", "POST", "/api/v1/claims", 422, content=b"{not json"),
]


def run_probe(client: TestClient, probe: Probe) -> Any:
    """Send one named probe with the client's CSRF token unless the probe sets one."""
    headers = dict(probe.headers)
    if probe.method != "GET" and probe.url.startswith("/api/") and "X-CSRF-Token" not in headers:
        headers["X-CSRF-Token"] = client.csrf  # type: ignore[attr-defined]
    kwargs: dict[str, Any] = {"headers": headers}
    if probe.form is not None:
        kwargs["data"] = {"csrf_token": client.csrf, **probe.form}  # type: ignore[attr-defined]
    if probe.json is not None:
        kwargs["json"] = probe.json
    if probe.content is not None:
        kwargs["content"] = probe.content
        headers["content-type"] = "application/json"
    return client.request(probe.method, probe.url, **kwargs)


@pytest.mark.parametrize("probe", NAMED_PROBES, ids=[p.name for p in NAMED_PROBES])
def test_named_probe(clients: Clients, probe_engine: Engine, probe: Probe) -> None:
    client = clients.get(probe.role, fresh=probe.role == "anonymous")
    before = fingerprint(probe_engine)
    response = run_probe(client, probe)
    assert_well_formed(response, probe.url.split("?")[0])
    assert response.status_code == probe.expect, f"{probe.name}: {response.status_code} {response.text[:300]}"
    if probe.html:
        assert response.headers["content-type"].startswith("text/html")
    if probe.expect >= 400:
        assert fingerprint(probe_engine) == before, f"{probe.name} changed the queue"


def test_stored_payloads_render_as_text(clients: Clients, probe_engine: Engine) -> None:
    """An XSS payload stored through the API (a note) comes back escaped on the lead's pages."""
    reviewer = clients.get("reviewer")
    headers = {"X-CSRF-Token": reviewer.csrf}  # type: ignore[attr-defined]
    claimed = reviewer.post("/api/v1/claims", json={"n": 1}, headers=headers)
    assert claimed.status_code == 200, claimed.text
    if not claimed.json()["items"]:
        pytest.skip("the probes above left nothing pending to claim")
    item = claimed.json()["items"][0]["id"]
    body = {**_ESC, "note": XSS}
    assert reviewer.post(f"/api/v1/items/{item}/decision", json=body, headers=headers).status_code == 200
    lead = clients.get("lead")
    for url in (f"/items/{item}", "/lead"):
        page = lead.get(url)
        assert page.status_code == 200
        assert XSS not in page.text
    assert "&lt;script&gt;alert(&#39;pantau-xss&#39;)&lt;/script&gt;" in lead.get(f"/items/{item}").text
