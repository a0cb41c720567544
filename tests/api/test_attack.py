"""The attacker's view of every route: the route list is read from the app itself, so a route
added without authentication, or without a scope check, fails here.

Probes run against the real app (every middleware and dependency) on the real PostgreSQL.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount

# Path parameters that name something in a user's scope, and which the probes fill with the
# victim's ids. A route with any other parameter fails test_every_route_is_probed until it is
# added here (and its scope check written).
SCOPED_PARAMS = frozenset({"batch_id", "document_id", "item_id"})
# Parameters naming something of one account (its API tokens): everyone else gets 404, admins too.
OWN_PARAMS = frozenset({"token_id"})
# Accounts probing the victim's ids (neither owns nor is assigned the victim's batch).
ATTACKERS = ("other_uploader", "other_reviewer")
# Accounts whose scope holds the victim's batch: their probes must get past the scope check,
# which shows the probe itself is valid.
INSIDERS = ("admin", "owner", "assignee")


def app_routes(app) -> list[tuple[str, str]]:
    """Every (method, path template) the app answers, mounts as ("MOUNT", prefix); HEAD is GET's twin."""
    from fastapi.routing import iter_route_contexts

    routes = []
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, Mount):
            routes.append(("MOUNT", ctx.path))
            continue
        routes.extend((method, ctx.path) for method in sorted(set(ctx.methods) - {"HEAD"}))
    return routes


def _params(path: str) -> set[str]:
    return set(re.findall(r"{(\w+)(?::\w+)?}", path))


def _fill(path: str, world) -> str:
    values = {"batch_id": world.victim_batch, "document_id": world.document_id, "item_id": world.item_id,
              "token_id": world.users["owner"].token_id}
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: str(values[m.group(1)]), path)


def _body(method: str, path: str, world) -> dict | None:
    """A body that passes validation, so the answer is the scope check's, not a 422."""
    bodies = {
        ("POST", "/review/api/items/{item_id}/decision"): {"value": None, "reason": "probe"},
        ("POST", "/review/api/leases/release"): None,
        ("POST", "/review/api/batches/{batch_id}/assignments"): {"email": world.users["assignee"].email},
        ("POST", "/review/api/users"): {"email": "probe@example.org", "password": "long enough 1"},
        ("POST", "/review/api/tokens"): {"name": "probe"},
        ("POST", "/review/api/login"): {"email": "nobody@example.org", "password": "wrong password"},
    }
    return bodies.get((method, path))


def _call(client: TestClient, method: str, path: str, world, headers: dict | None = None):
    body = _body(method, path, world)
    return client.request(method, _fill(path, world), json=body, headers=headers or {})


def _bearer(world, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.users[who].token}"}


def test_every_route_is_probed_and_the_openapi_document_lists_no_other(app, world):
    # The app's own route table, and its OpenAPI document fetched as an admin.
    # Every route is public by name or has only parameters the probes know; the OpenAPI
    # document names no route the table lacks; the only mount is the page's static files.
    from extractor.api.app import PUBLIC_MOUNTS, PUBLIC_ROUTES

    routes = app_routes(app)
    assert len(routes) >= 20  # the table was read (a change in FastAPI's routing must not empty it)
    unknown = {(m, p): _params(p) - SCOPED_PARAMS - OWN_PARAMS for m, p in routes if m != "MOUNT"}
    assert {k: v for k, v in unknown.items() if v} == {}, "add the new path parameters to SCOPED_PARAMS/OWN_PARAMS"
    assert {p for m, p in routes if m == "MOUNT"} <= PUBLIC_MOUNTS
    assert PUBLIC_ROUTES <= set(routes)

    client = TestClient(app)
    spec = client.get("/openapi.json", headers=_bearer(world, "admin")).json()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert documented and documented <= set(routes)


def test_every_route_but_the_public_ones_refuses_anonymous_and_forged_callers(app, world, sessions):
    # Every route of the app is called without credentials, with a session cookie signed by
    # another key, with a garbage bearer token and with a revoked token.
    # Each answers 401, but /health, the sign-in and the sign-in page (and the page's static files).
    from itsdangerous import URLSafeTimedSerializer

    from extractor.api.app import PUBLIC_ROUTES
    from extractor.api.deps import SESSION_COOKIE
    from extractor.review.accounts import issue_token, revoke_tokens
    from extractor.storage import User

    with sessions() as session:
        victim = session.get(User, world.users["owner"].id)
        revoked_id, revoked = issue_token(session, victim, "to revoke")
        revoke_tokens(session, victim, revoked_id)
        session.commit()
    forged = URLSafeTimedSerializer("not-the-key", salt="nianbao.session").dumps("some-session-id")
    attempts = {
        "anonymous": ({}, {}),
        "forged cookie": ({SESSION_COOKIE: forged}, {}),
        "garbage token": ({}, {"Authorization": "Bearer nbt_not-a-token"}),
        "revoked token": ({}, {"Authorization": f"Bearer {revoked}"}),
    }
    probed = set()
    for method, path in app_routes(app):
        if method == "MOUNT":
            assert TestClient(app).get(f"{path}/review.js").status_code == 200
            probed.add((method, path))
            continue
        for label, (cookies, headers) in attempts.items():
            client = TestClient(app, cookies=cookies)
            response = _call(client, method, path, world, headers)
            if (method, path) == ("POST", "/review/api/login"):
                assert response.status_code == 401 and response.json()["detail"] == "wrong e-mail or password"
            elif (method, path) in PUBLIC_ROUTES:
                assert response.status_code == 200, (method, path, label)
            else:
                assert response.status_code == 401, (method, path, label, response.status_code, response.text)
        probed.add((method, path))
    assert probed == set(app_routes(app))  # 100% of the app's routes
    assert TestClient(app).get("/health").status_code == 200


def test_no_route_shows_another_users_batch_to_any_role(app, world):
    # The other uploader and the other reviewer call every route that takes an id with the
    # victim's batch, document, item (and the victim's token); insiders make the same calls.
    # Attackers get 404, as for an id that does not exist; insiders get past the scope check.
    client = TestClient(app)
    scoped = [(m, p) for m, p in app_routes(app) if m != "MOUNT" and _params(p) & (SCOPED_PARAMS | OWN_PARAMS)]
    assert {p for _, p in scoped} >= {"/batches/{batch_id}", "/documents/{document_id}",
                                      "/review/api/items/{item_id}/crop.png"}
    for method, path in scoped:
        own_only = bool(_params(path) & OWN_PARAMS)
        for who in ATTACKERS + (("admin", "assignee") if own_only else ()):
            response = _call(client, method, path, world, _bearer(world, who))
            assert response.status_code == 404, (who, method, path, response.status_code, response.text)
        if own_only:
            continue
        for who in INSIDERS:
            response = _call(client, method, path, world, _bearer(world, who))
            assert response.status_code not in (401, 404), (who, method, path, response.status_code, response.text)


def test_routes_without_an_id_show_only_the_callers_own(app, world):
    # The attackers call every route that takes no id (lists, account, docs).
    # Lists hold no victim batch; account routes act on the caller; admin-only routes refuse;
    # a route not in this table fails the test until its leak check is written.
    victim = world.victim_batch
    checks = {
        ("GET", "/batches"): lambda r, who: r.status_code == 200 and victim not in r.text,
        ("POST", "/batches"): lambda r, who: r.status_code == (403 if who == "other_reviewer" else 422),
        ("GET", "/review/api/batches"): lambda r, who: r.status_code == 200 and victim not in r.text,
        ("GET", "/review/api/me"): lambda r, who: r.json()["email"] == world.users[who].email,
        ("POST", "/review/api/users"): lambda r, who: r.status_code == 403,
        ("GET", "/review/api/tokens"): lambda r, who: (
            r.status_code == 200 and world.users["owner"].token_id not in [t["id"] for t in r.json()]
            and world.users[who].token_id in [t["id"] for t in r.json()]),
        ("POST", "/review/api/tokens"): lambda r, who: (
            r.status_code == 201 and _token_email(app, r.json()["token"]) == world.users[who].email),
        ("POST", "/review/api/logout"): lambda r, who: r.status_code == 204,
        # Releases the caller's own leases only (a bearer token needs no CSRF body).
        ("POST", "/review/api/leases/release"): lambda r, who: r.status_code == 204,
        ("GET", "/openapi.json"): lambda r, who: r.status_code == 200 and victim not in r.text,
        ("GET", "/docs"): lambda r, who: r.status_code == 200 and victim not in r.text,
    }
    from extractor.api.app import PUBLIC_ROUTES

    unscoped = {(m, p) for m, p in app_routes(app)
                if m != "MOUNT" and not _params(p) and (m, p) not in PUBLIC_ROUTES}
    assert unscoped == set(checks), "write the leak check of the new route here"
    client = TestClient(app)
    for (method, path), ok in checks.items():
        for who in ATTACKERS:
            response = _call(client, method, path, world, _bearer(world, who))
            assert ok(response, who), (who, method, path, response.status_code, response.text[:300])


def _token_email(app, token: str) -> str | None:
    me = TestClient(app).get("/review/api/me", headers={"Authorization": f"Bearer {token}"})
    return me.json()["email"] if me.status_code == 200 else None


@pytest.mark.parametrize("who", ["other_uploader", "other_reviewer"])
def test_an_outsider_cannot_assign_itself_to_the_victims_batch(app, world, who):
    # An outsider tries to assign itself to the victim's batch, then to read the batch.
    # Both answer 404: the assignment was not made.
    client = TestClient(app)
    headers = _bearer(world, who)
    response = client.post(f"/review/api/batches/{world.victim_batch}/assignments",
                           json={"email": world.users[who].email}, headers=headers)
    assert response.status_code == 404
    assert client.get(f"/batches/{world.victim_batch}", headers=headers).status_code == 404
