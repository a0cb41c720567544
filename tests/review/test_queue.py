"""The review queue on PostgreSQL: leases, visibility, decisions with history, training export."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select


def _user(session, ns):
    from extractor.storage import User

    return session.get(User, ns.id)


def test_two_reviewers_never_get_the_same_item_group(sessions, queue_batch, make_user):
    # Reviewers of a batch with two documents to review take their next items in turn.
    # No two hold the same (document, section) group; once every group is held, the next finds nothing.
    from extractor.review.queue import next_item, release_leases

    from extractor.storage import ReviewItem

    with sessions() as session:
        next_item(session, _user(session, make_user(role="admin")), queue_batch, 0)  # syncs the queue
        groups = set(session.execute(select(ReviewItem.document_id, ReviewItem.group_key).where(
            ReviewItem.batch_id == queue_batch, ReviewItem.state == "pending")).all())
        session.commit()
    reviewers = [make_user(batches=(queue_batch,)) for _ in range(len(groups) + 1)]
    with sessions() as session:
        taken = []
        for ns in reviewers:
            item = next_item(session, _user(session, ns), queue_batch, 120)
            session.commit()
            taken.append(None if item is None else (item.document_id, item.group_key))
        assert set(taken[:-1]) == groups and len(set(taken[:-1])) == len(groups)
        assert taken[-1] is None
        for ns in reviewers:
            release_leases(session, _user(session, ns))
        session.commit()


def test_an_expired_lease_lets_another_reviewer_take_the_document(sessions, queue_batch, make_user):
    # Reviewer A's lease on an item group has run out (lease of 0 seconds);
    # reviewer B can take that document, and A no longer holds it.
    from extractor.review.queue import acquire_lease, holds_lease, next_item, release_leases

    a, b = make_user(batches=(queue_batch,)), make_user(batches=(queue_batch,))
    with sessions() as session:
        item = next_item(session, _user(session, a), queue_batch, 0)
        session.commit()
        assert acquire_lease(session, item.document_id, item.group_key, _user(session, b), 120)
        session.commit()
        assert not holds_lease(session, item.document_id, item.group_key, _user(session, a))
        assert holds_lease(session, item.document_id, item.group_key, _user(session, b))
        release_leases(session, _user(session, b))
        session.commit()


def test_a_reviewer_cannot_take_items_of_a_batch_not_assigned_to_them(sessions, queue_batch, make_user):
    # A reviewer without an assignment asks for the batch's next item; an admin may.
    # The reviewer is refused; the admin gets an item.
    from extractor.review.queue import next_item, release_leases

    outsider, admin = make_user(), make_user(role="admin")
    with sessions() as session:
        with pytest.raises(PermissionError):
            next_item(session, _user(session, outsider), queue_batch, 120)
        assert next_item(session, _user(session, admin), queue_batch, 120) is not None
        release_leases(session, _user(session, admin))
        session.commit()


def test_a_correction_is_stored_with_its_history_and_revalidates_the_document(sessions, queue_batch, make_user,
                                                                              review_settings, tmp_path):
    # A reviewer corrects the planted cell to its suggestion, then changes their mind once more.
    # Both decisions are kept (old → new), the identities hold after the first, and the export lists both.
    from extractor.review.corrections import decide
    from extractor.review.queue import next_item, release_leases
    from extractor.review.training import write_corrections
    from extractor.storage import CheckRow, ContentStore, Correction, FieldRow, ReviewItem

    reviewer = make_user(batches=(queue_batch,))
    with sessions() as session:
        user = _user(session, reviewer)
        item = next_item(session, user, queue_batch, 120)
        session.commit()
        assert item.priority == 0
        row = session.scalar(select(FieldRow).where(FieldRow.document_id == item.document_id,
                                                    FieldRow.field_id == item.field_id, FieldRow.batch_id == ""))
        printed, suggested = row.value, row.suggestion
        assert suggested is not None and suggested != printed
        decide(session, user, item, suggested, "identities imply it")
        session.commit()
        broken = session.scalars(select(CheckRow).where(CheckRow.document_id == item.document_id,
                                                        CheckRow.batch_id == queue_batch, CheckRow.ok.is_(False),
                                                        CheckRow.identity.not_like("narrative.%"))).all()
        assert broken == []
        decide(session, user, item, suggested + 1, "second look")
        session.commit()
        history = session.scalars(select(Correction).where(Correction.document_id == item.document_id,
                                                           Correction.field_id == item.field_id)
                                  .order_by(Correction.id)).all()
        assert [(c.old_value, c.new_value) for c in history] == [(printed, suggested), (suggested, suggested + 1)]
        assert session.get(ReviewItem, item.id).state == "done"
        out = tmp_path / "corrections.jsonl"
        n = write_corrections(session, out, ContentStore(review_settings.storage.root), queue_batch)
        release_leases(session, user)
        session.commit()
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    mine = [x for x in lines if x["field"] == item.field_id and x["reviewer"] == reviewer.email]
    assert n == len(lines) and len(mine) == 2
    assert [x["latest"] for x in mine] == [False, True]
    assert mine[0]["old"] == printed and mine[0]["cell_text"] == str(int(printed)) and mine[0]["dpi"] == 200
    assert mine[0]["bbox"] is not None and mine[0]["kind"] == "correct"


def test_api_tokens_authenticate_and_only_admins_create_accounts(review_settings, sessions, make_user):
    # A reviewer with an API token calls the API without signing in, and tries to add a user.
    # The token identifies them; adding an account is refused; no token is refused outright.
    from fastapi.testclient import TestClient

    from extractor.api import create_app
    from extractor.review.accounts import issue_token

    reviewer = make_user()
    with sessions() as session:
        _, token = issue_token(session, _user(session, reviewer), "script")
        session.commit()
    client = TestClient(create_app(review_settings, dispatcher=_NoDispatch()))
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/review/api/me", headers=auth).json()["email"] == reviewer.email
    assert client.get("/review/api/me").status_code == 401
    new = {"email": "x@example.org", "password": "long enough"}
    assert client.post("/review/api/users", json=new, headers=auth).status_code == 403


def test_a_wrong_password_is_refused_and_a_right_one_sets_a_session(review_settings, make_user):
    # A reviewer signs in with a wrong, then the right password.
    # 401 first; then a cookie that /me accepts.
    from fastapi.testclient import TestClient

    from extractor.api import create_app

    reviewer = make_user()
    client = TestClient(create_app(review_settings, dispatcher=_NoDispatch()))
    bad = client.post("/review/api/login", json={"email": reviewer.email, "password": "nope"})
    assert bad.status_code == 401
    good = client.post("/review/api/login", json={"email": reviewer.email, "password": reviewer.password})
    assert good.status_code == 200
    assert client.get("/review/api/me").json()["email"] == reviewer.email


class _NoDispatch:
    """The review endpoints never enqueue; a batch submission in these tests would be a bug."""

    def enqueue_batch(self, batch_id: str) -> None:
        raise AssertionError(f"unexpected enqueue of {batch_id}")
