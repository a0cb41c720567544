"""The Celery application: ``celery -A workers.app worker -Q nianbao.documents,...``.

Configuration comes from :class:`extractor.settings.Settings` (``NIANBAO_CELERY__*``), read
with ``config_from_object`` in the ``CELERY`` namespace. Every queue is declared there and
tasks are routed to them by module: ``workers.tasks.ocr.*`` goes to the OCR queue, so heavy
scanned pages can be given their own, bigger workers.
"""

from __future__ import annotations

import logging

from celery import Celery

from extractor.settings import Settings, get_settings

_log = logging.getLogger(__name__)

# Modules holding tasks, imported when a worker starts.
TASK_MODULES = ["workers.tasks.batches", "workers.tasks.documents", "workers.tasks.pages", "workers.tasks.ocr"]


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app configured from `settings` (the ones in force when None)."""
    settings = settings or get_settings()
    celery = Celery("nianbao", include=TASK_MODULES)
    celery.config_from_object(settings.celery.as_celery_config(), namespace="CELERY")
    return celery


app = create_celery()
