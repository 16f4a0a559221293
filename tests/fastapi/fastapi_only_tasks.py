"""Task functions of a module that imports FastAPI but not ``asynq_fastapi``, as
``asynq worker tests.fastapi.fastapi_only_tasks:tasks`` runs them: their ``Depends(...)``
parameters are still made, the adapter's parameter source being an installed entry point."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends

import asynq

tasks = asynq.TaskRegistry()


def get_prefix() -> str:
    return "made"


async def get_suffix() -> AsyncIterator[str]:
    yield "by a generator"


@tasks.task("fastapi_only:label", retention=3600)
async def label(
    n: int,
    prefix: Annotated[str, Depends(get_prefix)],
    suffix: str = Depends(get_suffix),
) -> str:
    return f"{prefix} {n} {suffix}"
