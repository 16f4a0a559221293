"""Django integration for asynq.

Add ``"asynq_django"`` to ``INSTALLED_APPS`` and configure the ``ASYNQ`` setting (see
:mod:`asynq_django.conf`). Then:

- ``@asynq.task`` functions in your apps' ``tasks.py`` enqueue to ``ASYNQ``'s Redis, and
  ``manage.py asynq_worker`` discovers and runs them;
- Django's own task framework runs on asynq with
  ``TASKS = {"default": {"BACKEND": "asynq_django.backend.AsynqBackend"}}``;
- :func:`enqueue_on_commit` waits for the database transaction;
- :func:`periodic` (and ``ASYNQ["PERIODIC_TASKS"]``) schedule tasks for
  ``manage.py asynq_scheduler``.

The distribution is ``asynq-python[django]``; the Django app and import name is
``asynq_django``.
"""

from asynq_django.periodic import periodic
from asynq_django.transactions import enqueue_on_commit

__all__ = ["enqueue_on_commit", "periodic"]
