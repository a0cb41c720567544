"""A reviewer cannot type a value outside its field's plausible range; the refusal says why."""

from __future__ import annotations

from sqlalchemy import select


class _NoDispatch:
    def enqueue_batch(self, batch_id: str) -> None:  # pragma: no cover - review tests submit nothing
        raise AssertionError("no batch is submitted here")


def test_out_of_range_values_are_refused_with_the_range_and_in_range_ones_kept(review_settings, sessions,
                                                                              bounds_batch, make_user):
    # A reviewer with a token opens an item of a reviewed batch and types a value of every kind of wrong:
    # past the count's maximum, negative, a fraction, huge (1e400 in JSON is inf), and then a right one.
    # Each wrong one answers 422 naming the allowed range and leaves the field as it was; the right one is stored.
    from fastapi.testclient import TestClient

    from extractor.api import create_app
    from extractor.review.accounts import issue_token
    from extractor.review.queue import acquire_lease, release_leases
    from extractor.storage import Document, FieldRow, ReviewItem, User
    from extractor.storage.models import BatchDocument
    from extractor.templates import get_template

    reviewer = make_user(batches=(bounds_batch,))
    field_id = "apply.new_received.natural_person"  # a count of section 三: maximum 100,000
    with sessions() as session:
        user = session.get(User, reviewer.id)
        _, token = issue_token(session, user, "bounds")
        document_id = session.scalar(select(BatchDocument.document_id).where(BatchDocument.batch_id == bounds_batch))
        item = session.scalar(select(ReviewItem).where(ReviewItem.document_id == document_id,
                                                       ReviewItem.field_id == field_id))
        if item is None:  # the report read cleanly: queue the field as a flag would
            item = ReviewItem(document_id=document_id, field_id=field_id, batch_id=bounds_batch, priority=5,
                              group_key="apply")
            session.add(item)
            session.flush()
        assert acquire_lease(session, document_id, "apply", user, 120)
        session.commit()
        item_id = item.id
        template = session.get(Document, document_id).template
        before = session.scalar(select(FieldRow.value).where(FieldRow.document_id == document_id,
                                                             FieldRow.field_id == field_id, FieldRow.batch_id == ""))
    assert get_template(template).fields[field_id].maximum == 100_000
    client = TestClient(create_app(review_settings, dispatcher=_NoDispatch()),
                        headers={"Authorization": f"Bearer {token}"})
    # The item says what may be typed before anything is.
    assert client.get(f"/review/api/items/{item_id}").json()["allowed"] == "integer in [0, 100000] 件"
    url = f"/review/api/items/{item_id}/decision"
    for typed, words in ((100_001, "implausibly large count 100001"), (-3, "negative value -3"),
                         (2.5, "whole number"), ("1e400", "not a finite number")):
        body = '{"value": %s, "reason": "test"}' % typed
        response = client.post(url, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, (typed, response.text)
        detail = response.json()["detail"]
        assert words in detail and "allowed: integer in [0, 100000] 件" in detail and field_id in detail
    with sessions() as session:
        # Neither the machine's value nor a copy of the batch's was changed by the refused values.
        assert session.scalars(select(FieldRow.value).where(FieldRow.document_id == document_id,
                                                            FieldRow.field_id == field_id)).all() == [before]
    response = client.post(url, json={"value": 100_000, "reason": "the maximum itself is fine"})
    assert response.status_code == 200, response.text
    with sessions() as session:
        assert session.scalar(select(FieldRow.value).where(FieldRow.document_id == document_id,
                                                           FieldRow.field_id == field_id,
                                                           FieldRow.batch_id == bounds_batch)) == 100_000
        release_leases(session, session.get(User, reviewer.id))
        session.commit()


def test_values_read_outside_the_range_are_flagged_with_the_reason():
    # The validation stage's range check on the extremes of each type of both templates.
    # Inside the bounds nothing is said; one step outside, the reason names the value and the range.
    from extractor.datamodel import FieldValue
    from extractor.stages.validate.ranges import range_problems
    from extractor.templates import ValueType, get_template, list_templates

    for template_id in list_templates():
        template = get_template(template_id)
        for fid, fdef in template.fields.items():
            ok = {fid: FieldValue(value=fdef.minimum)}
            assert range_problems(template, ok) == {}
            assert range_problems(template, {fid: FieldValue(value=fdef.maximum)}) == {}
            step = 0.01 if fdef.value_type is ValueType.DECIMAL else 1
            for value in (fdef.maximum + step, fdef.minimum - step):
                problem = range_problems(template, {fid: FieldValue(value=value)})[fid]
                assert "allowed:" in problem and fdef.unit in problem
