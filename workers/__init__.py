"""Celery workers: thin tasks that load records by id, call extractor.pipeline and save."""
