"""Celery tasks, one module per queue (routing is by module name)."""
