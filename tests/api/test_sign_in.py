"""Sign-in as an attacker tries it: CSRF, cookie flags, brute force, stolen cookies and tokens,
old password hashes, and a service started without its secret key."""

from __future__ import annotations

import base64
import hashlib
import uuid
from pathlib import Path

from fastapi.testclient import TestClient

PASSWORD = "correct horse 1"


def _login(app, email: str, password: str = PASSWORD, address: str = "192.0.2.10",
           base_url: str = "http://testserver") -> tuple[TestClient, object]:
    client = TestClient(app, base_url=base_url, client=(address, 50000))
    return client, client.post("/review/api/login", json={"email": email, "password": password})


def _new_user(sessions, role: str = "reviewer", password_hash: str | None = None) -> str:
    from extractor.review.accounts import create_user
    from extractor.storage import UserRole

    email = f"signin-{uuid.uuid4().hex[:8]}@example.org"
    with sessions() as session:
        user = create_user(session, email, PASSWORD, UserRole(role))
        if password_hash is not None:
            user.password_hash = password_hash
        session.commit()
    return email


def test_a_cookie_change_needs_the_sessions_own_csrf_token(app, world):
    # The assignee signs in (cookies), then asks for the next item: without the header, with a
    # made-up token in both cookie and header, with another session's token, and with its own.
    # 403 for all but its own; a bearer token needs no CSRF token (no ambient credential).
    from extractor.api.deps import CSRF_COOKIE

    me = world.users["assignee"]
    client, login = _login(app, me.email, address="192.0.2.20")
    assert login.status_code == 200
    own = login.json()["csrf_token"]
    assert client.cookies.get(CSRF_COOKIE) == own
    _, other_login = _login(app, me.email, address="192.0.2.20")
    other = other_login.json()["csrf_token"]
    assert other != own
    url = f"/review/api/batches/{world.victim_batch}/next"

    assert client.post(url).status_code == 403
    assert client.post(url, headers={"X-CSRF-Token": "forged"}).status_code == 403
    client.cookies.set(CSRF_COOKIE, other)
    assert client.post(url, headers={"X-CSRF-Token": other}).status_code == 403
    client.cookies.set(CSRF_COOKIE, own)
    assert client.post(url, headers={"X-CSRF-Token": own}).status_code in (200, 204)
    assert client.get(f"/batches/{world.victim_batch}").status_code == 200  # reads need no token
    bearer = TestClient(app).post(url, headers={"Authorization": f"Bearer {me.token}"})
    assert bearer.status_code in (200, 204)


def test_cookies_are_strict_and_secure_over_https(app, world):
    # The assignee signs in over plain HTTP (local use) and over HTTPS.
    # Both cookies are SameSite=Strict, the session one HttpOnly; over HTTPS both are Secure.
    me = world.users["assignee"]
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        _, login = _login(app, me.email, address="192.0.2.21", base_url=base)
        cookies = login.headers.get_list("set-cookie")
        session_cookie = next(c for c in cookies if c.startswith("nianbao_session="))
        csrf_cookie = next(c for c in cookies if c.startswith("nianbao_csrf="))
        for cookie in (session_cookie, csrf_cookie):
            assert "samesite=strict" in cookie.lower()
            assert ("secure" in cookie.lower().split("; ")) is secure, (base, cookie)
        assert "httponly" in session_cookie.lower() and "httponly" not in csrf_cookie.lower()


def test_guessing_one_accounts_password_is_stopped_even_when_the_guess_is_right(app, sessions, attack_settings):
    # An attacker tries wrong passwords on one account until the limit, then the right one;
    # the account's owner then signs in from another address.
    # The right guess is refused with 429 and Retry-After; so is the owner until the window passes.
    email = _new_user(sessions)
    limit = attack_settings.review.login_max_per_account
    for _ in range(limit):
        assert _login(app, email, "wrong guess", address="198.51.100.1")[1].status_code == 401
    refused = _login(app, email, PASSWORD, address="198.51.100.1")[1]
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= attack_settings.review.login_window_seconds
    assert _login(app, email, PASSWORD, address="198.51.100.2")[1].status_code == 429


def test_guessing_many_accounts_from_one_address_is_stopped(app, sessions, attack_settings):
    # One address tries one wrong password on each of many accounts (below each account's limit).
    # Past the per-address limit, that address is refused even for a fresh account; another is not.
    limit = attack_settings.review.login_max_per_address
    emails = [_new_user(sessions) for _ in range(limit + 1)]
    for email in emails[:limit]:
        assert _login(app, email, "wrong guess", address="198.51.100.9")[1].status_code == 401
    assert _login(app, emails[limit], PASSWORD, address="198.51.100.9")[1].status_code == 429
    assert _login(app, emails[limit], PASSWORD, address="198.51.100.10")[1].status_code == 200


def test_logout_ends_the_session_for_a_stolen_copy_of_the_cookie(app, sessions):
    # A reviewer signs in; an attacker copies the cookie; the reviewer logs out.
    # The copied cookie is refused afterwards (the session is revoked in the database).
    from extractor.api.deps import SESSION_COOKIE

    email = _new_user(sessions)
    client, login = _login(app, email, address="192.0.2.30")
    stolen = client.cookies.get(SESSION_COOKIE)
    thief = TestClient(app, cookies={SESSION_COOKIE: stolen})
    assert thief.get("/review/api/me").status_code == 200
    assert client.post("/review/api/logout", headers={"X-CSRF-Token": login.json()["csrf_token"]}).status_code == 204
    assert thief.get("/review/api/me").status_code == 401


def test_a_revoked_token_stops_working_at_once(app, sessions):
    # A reviewer makes a token, lists it, and revokes it through the API.
    # The token is refused straight after; the list shows it revoked; revoking again is 404.
    email = _new_user(sessions)
    client, login = _login(app, email, address="192.0.2.31")
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    made = client.post("/review/api/tokens", json={"name": "script"}, headers=csrf).json()
    bearer = TestClient(app, headers={"Authorization": f"Bearer {made['token']}"})
    assert bearer.get("/review/api/me").json()["email"] == email
    assert client.delete(f"/review/api/tokens/{made['id']}", headers=csrf).status_code == 204
    assert bearer.get("/review/api/me").status_code == 401
    listed = {t["id"]: t for t in client.get("/review/api/tokens").json()}
    assert listed[made["id"]]["revoked_at"] is not None
    assert client.delete(f"/review/api/tokens/{made['id']}", headers=csrf).status_code == 404


def test_an_old_scrypt_hash_signs_in_once_and_is_replaced_by_argon2id(app, sessions):
    # An account made before argon2 has a scrypt hash "scrypt$n$r$p$salt$hash" (n=2**14).
    # It signs in with its password; its stored hash is now argon2id at OWASP's parameters.
    from sqlalchemy import select

    from extractor.review.accounts import verify_password
    from extractor.storage import User

    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    old = f"scrypt${2**14}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    email = _new_user(sessions, password_hash=old)
    assert _login(app, email, "not it", address="192.0.2.32")[1].status_code == 401
    assert _login(app, email, PASSWORD, address="192.0.2.32")[1].status_code == 200
    with sessions() as session:
        stored = session.scalar(select(User.password_hash).where(User.email == email))
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(PASSWORD, stored) and not verify_password("not it", stored)


def test_serve_refuses_to_start_without_a_secret_key_beyond_localhost_or_with_workers():
    # `nianbao serve` with no NIANBAO_REVIEW__SECRET_KEY on 0.0.0.0, or with 2 processes, or
    # with compose's old placeholder; and on localhost with one process.
    # Refused (exit code 2, the reason printed) but for the single local process.
    from typer.testing import CliRunner

    from extractor.cli import app as cli
    from extractor.cli_service import secret_key_problem
    from extractor.settings import ReviewSettings, Settings, scoped

    assert secret_key_problem(None, "127.0.0.1", 1) is None
    assert secret_key_problem("a-long-random-value", "0.0.0.0", 4) is None
    assert "change-me" in secret_key_problem("change-me", "127.0.0.1", 1)
    for host, workers in (("0.0.0.0", 1), ("127.0.0.1", 2)):
        with scoped(Settings(review=ReviewSettings(secret_key=None))):
            result = CliRunner().invoke(cli, ["serve", "--host", host, "--workers", str(workers)])
        assert result.exit_code == 2 and "NIANBAO_REVIEW__SECRET_KEY" in result.output, result.output


def test_the_compose_file_carries_no_default_secret():
    # docker-compose.yml as shipped.
    # The secret key has no fallback value: compose stops until it is set (`${VAR:?…}`).
    compose = (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    line = next(x for x in compose.splitlines() if x.strip().startswith("NIANBAO_REVIEW__SECRET_KEY:"))
    assert "${NIANBAO_REVIEW__SECRET_KEY:?" in line and ":-" not in line and "change-me" not in compose
