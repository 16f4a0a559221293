"""Task functions of the Flask extension are typed like the core's: valid calls pass, the
lines marked with an E comment must be refused."""

from __future__ import annotations

from datetime import timedelta

from asynq_flask import Asynq

asynq = Asynq()


@asynq.task("typing:flask")
def send_welcome(user_id: int, *, template: str = "default") -> str:
    return str(user_id)


@asynq.task
async def resize(image_id: int) -> None: ...


send_welcome.enqueue(42, template="short")
send_welcome.enqueue_in(timedelta(minutes=5), 42)
resize.enqueue(7)
name: str = send_welcome(1)

send_welcome.enqueue("42")  # E: wrong argument type
send_welcome.enqueue_in(60, user="x")  # E: unknown argument name
resize.enqueue()  # E: missing argument
