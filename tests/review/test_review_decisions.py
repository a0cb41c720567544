"""Decisions that save reviewers' time, on PostgreSQL through the API: identity-level decisions,
one decision per item version, undo, history and statistics, strict typed input, metadata items,
leases per item group released by a beacon, and a cached picture for every item."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.review.conftest import break_total

# The field whose printed total is made one too large (row and column identities break).
TOTAL = "apply.new_received.total"


class _NoDispatch:
    def enqueue_batch(self, batch_id: str) -> None:
        raise AssertionError(f"unexpected enqueue of {batch_id}")


@pytest.fixture(scope="module")
def world(review_settings, sessions, decisions_batch):
    """The decisions batch with a total that does not add up in print, an admin-less reviewer and a client."""
    from extractor.api import create_app
    from extractor.review.accounts import assign, create_user, issue_token
    from extractor.storage import UserRole

    doc_id = break_total(sessions, decisions_batch, TOTAL, agency="作报告为深入贯彻")
    tokens = {}
    with sessions() as session:
        for who in ("alice", "bob"):
            user = create_user(session, f"{who}-decisions@example.org", "correct horse 1", UserRole.REVIEWER)
            assign(session, decisions_batch, user)
            tokens[who] = issue_token(session, user, "test")[1]
        session.commit()
    client = TestClient(create_app(review_settings, dispatcher=_NoDispatch()))
    return client, doc_id, tokens


def _auth(tokens, who):
    return {"Authorization": f"Bearer {tokens[who]}"}


def _pending(sessions, doc_id):
    from extractor.storage import ReviewItem

    with sessions() as session:
        return {i.field_id: i for i in session.scalars(select(ReviewItem).where(
            ReviewItem.document_id == doc_id, ReviewItem.state == "pending"))}


def _item_for(client, tokens, who, batch, key, sessions, doc_id):
    item_id = _pending(sessions, doc_id)[key].id
    response = client.get(f"/review/api/items/{item_id}", headers=_auth(tokens, who))
    assert response.status_code == 200, response.text
    return response.json()


def test_confirming_a_blamed_cell_queues_one_identity_item_and_printed_as_is_clears_them(world, sessions,
                                                                                        decisions_batch):
    # The printed total is one too large; the identities blame it with a suggestion. The reviewer
    # confirms the printed value, then accepts the identities as printed; then undoes, then redoes.
    # Confirming queues only the broken identities' items (not every cell of them); "printed as is"
    # clears them all with the reason in the history; undo brings them back; stats count decisions.
    from extractor.storage import CheckRow, Correction

    client, doc_id, tokens = world
    client.post(f"/review/api/batches/{decisions_batch}/next", headers=_auth(tokens, "alice"))
    before = _pending(sessions, doc_id)
    assert TOTAL in before and before[TOTAL].priority == 0
    item = _item_for(client, tokens, "alice", decisions_batch, TOTAL, sessions, doc_id)
    assert item["suggestion"] is not None and item["identities"]
    r = client.post(f"/review/api/items/{item['id']}/decision", headers=_auth(tokens, "alice"),
                    json={"version": item["version"], "reason": ""})
    assert r.status_code == 200, r.text
    after = _pending(sessions, doc_id)
    added = set(after) - set(before)
    assert added and all(k.startswith("identity:apply.") for k in added), added
    assert len(added) <= 2  # the row and the column, where the old queue added every cell of both

    key = sorted(added)[0]
    identity = _item_for(client, tokens, "alice", decisions_batch, key, sessions, doc_id)
    assert identity["kind"] == "identity" and TOTAL in [c["field_id"] for c in identity["identity"]["cells"]]
    r = client.post(f"/review/api/items/{identity['id']}/decision", headers=_auth(tokens, "alice"),
                    json={"version": identity["version"], "action": "as_printed", "reason": "总计印错，原样保留"})
    assert r.status_code == 200, r.text
    assert key.removeprefix("identity:") in r.json()["document"]["accepted"]
    assert not any(k.startswith("identity:") and k == key for k in _pending(sessions, doc_id))
    with sessions() as session:
        check = session.scalar(select(CheckRow).where(CheckRow.document_id == doc_id,
                                                      CheckRow.batch_id == decisions_batch,
                                                      CheckRow.identity == key.removeprefix("identity:")))
        assert not check.ok and "accepted as printed" in check.detail
    history = client.get(f"/review/api/documents/{doc_id}/history", headers=_auth(tokens, "alice")).json()
    assert any(h["field_id"] == key and h["kind"] == "as_printed" and h["reason"] == "总计印错，原样保留"
               and h["reviewer"].startswith("alice") for h in history)

    undo = client.post(f"/review/api/batches/{decisions_batch}/undo", headers=_auth(tokens, "alice")).json()
    assert undo["item"]["field_id"] == key and undo["item"]["state"] == "pending"
    assert key in _pending(sessions, doc_id)
    assert key.removeprefix("identity:") not in client.get(f"/review/api/documents/{doc_id}/view",
                                                            headers=_auth(tokens, "alice")).json()["accepted"]
    batch_history = client.get(f"/review/api/batches/{decisions_batch}/history", headers=_auth(tokens, "alice")).json()
    assert any(h["kind"] == "undo" for h in batch_history) and any(h["undone"] for h in batch_history)
    stats = client.get(f"/review/api/batches/{decisions_batch}/stats", headers=_auth(tokens, "alice")).json()
    mine = next(s for s in stats if s["reviewer"].startswith("alice"))
    assert (mine["decisions"], mine["undone"]) == (1, 1)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Correction).where(
            Correction.document_id == doc_id, Correction.kind == "undo")) >= 1


def test_one_decision_per_item_version(world, sessions, decisions_batch):
    # The same decision is posted twice with the version the reviewer saw (a double Enter).
    # The first is recorded; the second answers 409 "stale" and records nothing.
    from extractor.storage import ReviewDecision

    client, doc_id, tokens = world
    key = next(k for k in _pending(sessions, doc_id) if k.startswith("identity:"))
    item = _item_for(client, tokens, "alice", decisions_batch, key, sessions, doc_id)
    body = {"version": item["version"], "action": "as_printed"}
    first = client.post(f"/review/api/items/{item['id']}/decision", headers=_auth(tokens, "alice"), json=body)
    second = client.post(f"/review/api/items/{item['id']}/decision", headers=_auth(tokens, "alice"), json=body)
    assert first.status_code == 200 and second.status_code == 409
    assert second.headers["X-Review-Conflict"] == "stale"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReviewDecision).where(
            ReviewDecision.item_id == item["id"], ReviewDecision.item_version == item["version"])) == 1


@pytest.mark.parametrize("typed", ["1e3", "0x10", "99999999999999999999", "inf", "1_000", "12abc"])
def test_typed_values_that_are_not_plain_numbers_are_refused_in_both_languages(world, sessions, decisions_batch,
                                                                               typed):
    # The reviewer types an exponent, a hex number, 20 digits, a word into a count.
    # 422 with a Chinese and an English message; nothing stored.
    from extractor.storage import ReviewDecision

    client, doc_id, tokens = world
    item = _any_field_item(client, tokens, decisions_batch)
    with sessions() as session:
        count = session.scalar(select(func.count()).select_from(ReviewDecision))
    r = client.post(f"/review/api/items/{item['id']}/decision", headers=_auth(tokens, "alice"),
                    json={"text": typed, "version": item["version"]})
    assert r.status_code == 422, r.text
    zh, en = r.json()["detail"].split(" / ", 1)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
    assert "digit" in en or "number" in en
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReviewDecision)) == count


def test_full_width_digits_are_read_and_the_range_message_is_bilingual(world, sessions, decisions_batch):
    # The reviewer types "１２００００" (out of range), then "７" into a count of section 三.
    # The first is refused naming the range in Chinese and English; the second is stored as 7.
    from extractor.storage import FieldRow

    client, doc_id, tokens = world
    item = _any_field_item(client, tokens, decisions_batch)
    url = f"/review/api/items/{item['id']}/decision"
    r = client.post(url, headers=_auth(tokens, "alice"), json={"text": "１２００００", "version": item["version"]})
    if item["allowed"].startswith("integer in [0, 100000]"):
        assert r.status_code == 422 and "允许" in r.json()["detail"] and "allowed: integer in [0, 100000]" in r.json()["detail"]
    r = client.post(url, headers=_auth(tokens, "alice"), json={"text": "７", "version": item["version"]})
    assert r.status_code == 200, r.text
    with sessions() as session:
        assert session.scalar(select(FieldRow.value).where(FieldRow.document_id == item["document_id"],
                                                           FieldRow.batch_id == item["batch_id"],
                                                           FieldRow.field_id == item["field_id"])) == 7


def _any_field_item(client, tokens, batch):
    """Alice's next field item (she goes on in the group she holds)."""
    seen = None
    for _ in range(30):
        r = client.post(f"/review/api/batches/{batch}/next" + (f"?after={seen}" if seen else ""),
                        headers=_auth(tokens, "alice"))
        assert r.status_code == 200, r.text
        item = r.json()
        if item["kind"] == "field":
            return item
        seen = item["id"]
    raise AssertionError("no field item")


def test_a_doubtful_agency_is_an_item_with_its_picture_and_a_correction_is_stored(world, sessions, decisions_batch,
                                                                                 review_settings):
    # The document's agency was read as a fragment of the title.
    # It is a metadata item with a low confidence and the reason; its picture exists; typing the
    # right name stores it as the batch's agency (the machine's reading stays the document's) and
    # in the history.
    from extractor.storage import Document
    from extractor.storage.review_view import view_meta

    client, doc_id, tokens = world
    item = _item_for(client, tokens, "bob", decisions_batch, "meta.agency", sessions, doc_id)
    assert item["kind"] == "meta" and item["meta"]["confidence"] < 0.5
    assert any("title or of prose" in p for p in item["meta"]["problems"])
    image = client.get(item["image_url"], headers=_auth(tokens, "bob"))
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    r = client.post(f"/review/api/items/{item['id']}/decision", headers=_auth(tokens, "bob"),
                    json={"text": "某某县自然资源局", "version": item["version"], "reason": "标题可见"})
    assert r.status_code == 200, r.text
    with sessions() as session:
        document = session.get(Document, doc_id)
        assert view_meta(session, document, decisions_batch)[0] == "某某县自然资源局"
        assert document.agency == "作报告为深入贯彻"  # what the machine read; other batches see it
    history = client.get(f"/review/api/documents/{doc_id}/history?field_id=meta.agency",
                         headers=_auth(tokens, "bob")).json()
    assert (history[0]["old"], history[0]["new"], history[0]["reason"]) == ("作报告为深入贯彻", "某某县自然资源局", "标题可见")


def test_every_item_has_a_picture_and_pictures_are_cached(world, sessions, decisions_batch, review_settings,
                                                          monkeypatch):
    # A field no table cell gave (its value removed from the page), and every pending item of the document.
    # Each answers a PNG; the second request of one renders no page again (served from the cache).
    import extractor.review.images as images
    from extractor.review.queue import reopen
    from extractor.storage import FieldRow, ReviewItem
    from extractor.storage.review_view import view_of

    client, doc_id, tokens = world
    with sessions() as session:
        row = session.scalar(select(FieldRow).where(
            FieldRow.document_id == doc_id, FieldRow.field_id == "apply.granted.research",
            FieldRow.batch_id == view_of(session, doc_id, decisions_batch)))
        row.page, row.bbox, row.status, row.reasons = None, None, "flagged", ["not found in the report's tables"]
        session.flush()
        from extractor.review.queue import sync_document
        from extractor.storage import Document

        sync_document(session, session.get(Document, doc_id), decisions_batch)
        items = session.scalars(select(ReviewItem).where(ReviewItem.document_id == doc_id)).all()
        session.commit()
        ids = [(i.id, i.field_id) for i in items]
    calls = []
    original = images.page_image
    monkeypatch.setattr(images, "page_image", lambda *a: calls.append(a) or original(*a))
    for item_id, key in ids:
        r = client.get(f"/review/api/items/{item_id}/image.png", headers=_auth(tokens, "bob"))
        assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n", (key, r.status_code)
    missing = next(i for i, k in ids if k == "apply.granted.research")
    out = client.get(f"/review/api/items/{missing}", headers=_auth(tokens, "alice")).json()
    assert out["picture"] == "expected"
    rendered = len(calls)
    with sessions() as session:
        pages = session.get(Document, doc_id).pages
    assert rendered <= pages  # each page rendered at most once for all the pictures on it
    for item_id, _ in ids:
        client.get(f"/review/api/items/{item_id}/image.png", headers=_auth(tokens, "bob"))
        client.get(f"/review/api/items/{item_id}/image.png?full=1", headers=_auth(tokens, "bob"))
    assert len(calls) == rendered
    assert any((review_settings.storage.root / "cache" / "review").rglob("*.png"))


def test_leases_are_per_section_and_a_beacon_gives_them_back(world, sessions, decisions_batch, review_settings):
    # Alice holds a group of the document; Bob takes another group of the same document.
    # Alice's tab closes: the beacon (cookie + CSRF token as its body) releases her lease; without the token, 403.
    from extractor.storage import ReviewLease, User

    client, doc_id, tokens = world
    login = TestClient(client.app)
    signed = login.post("/review/api/login", json={"email": "alice-decisions@example.org", "password": "correct horse 1"})
    csrf = signed.json()["csrf_token"]
    item = login.post(f"/review/api/batches/{decisions_batch}/next", headers={"X-CSRF-Token": csrf}).json()
    bob = client.post(f"/review/api/batches/{decisions_batch}/next", headers=_auth(tokens, "bob"))
    if bob.status_code == 200:
        assert (bob.json()["document_id"], bob.json()["group_key"]) != (item["document_id"], item["group_key"])
    with sessions() as session:
        alice = session.scalar(select(User).where(User.email == "alice-decisions@example.org"))
        assert session.scalar(select(func.count()).select_from(ReviewLease).where(ReviewLease.user_id == alice.id)) == 1
    assert login.post("/review/api/leases/release", content="forged").status_code == 403
    r = login.post("/review/api/leases/release", content=csrf, headers={"Content-Type": "text/plain;charset=UTF-8"})
    assert r.status_code == 204
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReviewLease).where(ReviewLease.user_id == alice.id)) == 0
