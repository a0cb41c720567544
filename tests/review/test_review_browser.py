"""The reviewer page in a real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright,
against the API served by uvicorn on the review test database."""

from __future__ import annotations

import csv
import io
import shutil
import socket
import threading
import time

import pytest
from sqlalchemy import select

# Debian's Chromium; Playwright's own browser downloads are never used.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Longest wait for the page to react, milliseconds.
UI_TIMEOUT = 30_000

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs the Debian chromium package")


@pytest.fixture
def server(review_settings):
    """The API (reviewer page included) on a free local port, in a thread."""
    import uvicorn

    from extractor.api import create_app

    class _NoDispatch:
        def enqueue_batch(self, batch_id: str) -> None:
            raise AssertionError(f"unexpected enqueue of {batch_id}")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(review_settings, dispatcher=_NoDispatch()), host="127.0.0.1", port=port,
                            log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise AssertionError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                       args=CHROMIUM_ARGS, headless=True)
        context.set_default_timeout(UI_TIMEOUT)
        yield context
        context.close()


def test_a_reviewer_corrects_with_the_keyboard_and_clears_the_batch(server, browser, sessions, browser_batch,
                                                                   make_user):
    # A reviewer signs in, types the suggested value of the planted cell + Enter, sees its broken
    # identities turn green, confirms the rest with Enter until the queue is empty; the export has it reviewed.
    from extractor.export import ExportFormat, Layout, export_batch
    from extractor.review.training import correction_records
    from extractor.storage import Correction

    reviewer = make_user(batches=(browser_batch,))
    page = browser.new_page()
    page.goto(f"{server}/review")
    page.fill("#login-email", reviewer.email)
    page.fill("#login-password", reviewer.password)
    page.click("#login-submit")
    page.wait_for_selector("#item:not([hidden])")

    field_id = page.text_content("#item-field")
    suggestion = page.text_content("#item-suggestion")
    assert suggestion not in ("", "—") and suggestion != page.text_content("#item-value")
    # The crop is rendered on request and may still be loading on a busy machine: wait for it.
    page.wait_for_function("() => { const img = document.querySelector('#crop');"
                           " return img && img.complete && img.naturalWidth > 100; }")
    assert page.locator(f'td.st-flagged.current[data-field="{field_id}"]').count() == 1
    broken = [b.get_attribute("data-identity") for b in page.locator("#checks .check.broken").all()]
    assert broken and not any(name.startswith("narrative.") for name in broken)

    page.locator("#value-input").type(suggestion)
    page.keyboard.press("Enter")
    for name in broken:
        page.wait_for_selector(f'#checks .check.ok[data-identity="{name}"]')
    assert page.locator("#checks .check.broken").count() == 0

    for _ in range(50):
        page.wait_for_function(
            "() => !document.getElementById('queue-empty').hidden || "
            "(document.getElementById('value-input').value === '' && !document.getElementById('item').hidden)")
        if page.is_visible("#queue-empty"):
            break
        current = page.text_content("#item-field")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "f => !document.getElementById('queue-empty').hidden || "
            "document.getElementById('item-field').textContent !== f", arg=current)
    assert page.is_visible("#queue-empty")
    page.wait_for_selector('#progress[data-pending="0"]')

    with sessions() as session:
        bundle = export_batch(session, browser_batch, ExportFormat.CSV, Layout.WIDE, statuses=True)
        records = [r for r in correction_records(session, batch_id=browser_batch) if r["reviewer"] == reviewer.email]
        kinds = {c.kind for c in session.scalars(select(Correction).where(Correction.user_id == reviewer.id))}
    (row,) = csv.DictReader(io.StringIO(bundle.files["dataset-wide.csv"].decode("utf-8")))
    assert float(row[field_id]) == float(suggestion)
    assert row[f"{field_id}.status"] == "reviewed"
    first = records[0]
    assert (first["field"], first["kind"], first["new"]) == (field_id, "correct", float(suggestion))
    assert kinds <= {"correct", "confirm"}


def _lease_count(sessions, user_id: int) -> int:
    from sqlalchemy import func

    from extractor.storage import ReviewLease

    with sessions() as session:
        return session.scalar(select(func.count()).select_from(ReviewLease).where(ReviewLease.user_id == user_id))


def test_identity_decisions_pictures_input_undo_history_language_and_beacon(server, browser, sessions,
                                                                          browser_decisions_batch, make_user):
    # A report whose printed total is one too large. The reviewer sees the Chinese interface,
    # zooms and opens the whole page, types "1e3" (refused), presses Enter twice on the blamed
    # total (one decision), accepts the broken identity as printed with a comment, reloads (same
    # item), undoes, reads the batch history and statistics, switches to English and closes the tab.
    from extractor.storage import ReviewDecision
    from tests.review.conftest import break_total

    doc_id = break_total(sessions, browser_decisions_batch)
    reviewer = make_user(batches=(browser_decisions_batch,))
    page = browser.new_page()
    page.goto(f"{server}/review")
    assert page.get_attribute("html", "lang") == "zh-CN" and page.text_content("header strong") == "年报复核"
    page.fill("#login-email", reviewer.email)
    page.fill("#login-password", reviewer.password)
    page.click("#login-submit")
    page.wait_for_selector("#item:not([hidden])")
    assert page.text_content("#item-field") == "apply.new_received.total"
    page.wait_for_function("() => { const img = document.querySelector('#crop');"
                           " return img.complete && img.naturalWidth > 100; }")
    page.keyboard.press("Control+ArrowUp")
    page.wait_for_function("() => Number(document.querySelector('#crop').dataset.zoom) > 1")
    page.click("#full-page")
    page.wait_for_function("() => { const img = document.querySelector('#crop');"
                           " return img.src.includes('full=1') && img.complete && img.naturalWidth > 1000; }")

    page.locator("#value-input").type("1e3")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('decision-error').textContent.includes('不是数字')")
    page.fill("#value-input", "")
    item_id = int(page.evaluate("() => new URLSearchParams(location.hash.slice(1)).get('item')"))
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.wait_for_function("id => new URLSearchParams(location.hash.slice(1)).get('item') !== String(id)", arg=item_id)
    with sessions() as session:
        assert len(session.scalars(select(ReviewDecision).where(ReviewDecision.item_id == item_id)).all()) == 1

    for _ in range(40):
        if page.get_attribute("#item", "data-kind") == "identity":
            break
        current = page.text_content("#item-field")
        page.keyboard.press("PageDown")
        page.wait_for_function("f => document.getElementById('item-field').textContent !== f", arg=current)
    assert page.get_attribute("#item", "data-kind") == "identity"
    identity = page.text_content("#item-field").removeprefix("identity:")
    assert page.locator(".identity-cells tr").count() >= 3
    page.fill("#comment", "总计印错，原样保留")
    page.click("#as-printed")
    page.wait_for_selector(f'#checks .check.accepted[data-identity="{identity}"]')

    page.wait_for_selector("#item:not([hidden]), #queue-empty:not([hidden])")
    shown = page.text_content("#item-field")
    page.reload()
    page.wait_for_selector("#item:not([hidden]), #queue-empty:not([hidden])")
    if shown and page.is_visible("#item"):
        page.wait_for_function("f => document.getElementById('item-field').textContent === f", arg=shown)

    # The reload may show the decided identity item again (the address keeps it): wait for the
    # undo's answer, not only for the item's name.
    with page.expect_response(lambda r: r.url.endswith("/undo") and r.request.method == "POST") as answer:
        page.click("#undo")
    assert answer.value.ok
    page.wait_for_function("n => document.getElementById('item-field').textContent === 'identity:' + n", arg=identity)
    with sessions() as session:
        undone = session.scalars(select(ReviewDecision).where(ReviewDecision.user_id == reviewer.id,
                                                              ReviewDecision.undone_at.is_not(None))).all()
        assert [d.action for d in undone] == ["as_printed"]
    page.click("#show-history")
    page.wait_for_selector('#batch-history tr[data-kind="undo"]')
    assert page.locator("#batch-history").inner_text().count("总计印错，原样保留") >= 1
    page.click("#show-stats")
    page.wait_for_function("e => document.getElementById('stats-table') && "
                           "document.getElementById('stats-table').innerText.includes(e)", arg=reviewer.email)

    page.select_option("#lang", "en")
    page.wait_for_function("() => document.querySelector('header strong').textContent === 'nianbao review'")
    assert _lease_count(sessions, reviewer.id) == 1
    page.close(run_before_unload=True)
    deadline = time.monotonic() + UI_TIMEOUT / 1000
    while _lease_count(sessions, reviewer.id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _lease_count(sessions, reviewer.id) == 0
