"""``manage.py asynq_unpause QUEUE...``: workers take tasks of these queues again."""

from __future__ import annotations

from asynq_django.management.commands import asynq_pause


class Command(asynq_pause.Command):
    help = "Unpause queues: workers take their tasks again (known queues only, as asynq_pause)."
    action = "unpause"
