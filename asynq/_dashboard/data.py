"""The reads and actions behind the dashboards' pages, over an inspector.

:class:`AsyncDashboardData` is the source; :class:`DashboardData`, its blocking twin for hosts
without an event loop (Django's views), is generated from it below the marker line by
``scripts/gen_twins.py``. The tables above them (task states in tab order, the actions each
state allows, the words each action's message uses) are what both dashboards follow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asynq._snapshots import (
    GroupInfo,
    QueueInfo,
    SchedulerEnqueueEvent,
    SchedulerEntry,
    WorkerInfo,
)
from asynq._task import TaskInfo
from asynq.errors import AsynqError, BrokerError, QueueNotFoundError, is_damaged_data
from asynq.inspector import AsyncInspector, Inspector

#: Task states in the order of the queue page's tabs (Asynqmon's order).
STATES = ("active", "pending", "aggregating", "scheduled", "retry", "archived", "completed")
#: The page sizes a task list offers.
PAGE_SIZES = (10, 20, 50, 100)
#: Actions allowed on the tasks of each state (Asynqmon's table); each may also be applied to
#: every task of the state ("run all", ... "cancel all").
TASK_ACTIONS: dict[str, frozenset[str]] = {
    "active": frozenset({"cancel"}),
    "pending": frozenset({"delete", "archive"}),
    "scheduled": frozenset({"delete", "run", "archive"}),
    "retry": frozenset({"delete", "run", "archive"}),
    "archived": frozenset({"delete", "run"}),
    "completed": frozenset({"delete"}),
    "aggregating": frozenset({"delete", "run", "archive"}),
}
#: The actions in the order buttons and menus list them.
ACTION_ORDER = ("run", "archive", "cancel", "delete")
#: What a task became, for messages: "3 tasks archived", "Task abc made pending".
PAST = {"delete": "deleted", "run": "made pending", "archive": "archived", "cancel": "canceled"}
#: Active tasks "cancel all" signals per page of the active list.
CANCEL_PAGE = 100


def tasks_done(count: int, action: str, state: str = "") -> str:
    """What an action did, for messages: ``3 scheduled tasks archived``, ``1 task deleted``."""
    kind = f"{state} task" if state else "task"
    return f"{count} {kind}{'' if count == 1 else 's'} {PAST[action]}"


def action_allowed(state: str, action: str) -> bool:
    """Whether ``action`` applies to tasks of ``state`` (``False`` for an unknown state)."""
    return action in TASK_ACTIONS.get(state, frozenset())


@dataclass(frozen=True)
class QueueOverview:
    """Every queue's snapshot, the queues Redis could not answer for, and the totals."""

    infos: list[QueueInfo]
    #: Queue name -> why its snapshot could not be read (damaged data).
    broken: dict[str, str]

    @property
    def totals(self) -> dict[str, int]:
        """Sums over the queues: each state, ``size``, ``memory_usage``, ``processed``,
        ``failed`` (today's)."""
        names = (*STATES, "size", "memory_usage", "processed", "failed")
        return {name: sum(getattr(info, name) for info in self.infos) for name in names}


@dataclass(frozen=True)
class TaskPage:
    """One page of one state's tasks in a queue, with what the page needs around them."""

    info: QueueInfo
    state: str
    page: int
    size: int
    tasks: list[TaskInfo]
    #: The queue's groups (aggregating tasks), by name; empty when they cannot be read.
    groups: list[GroupInfo]
    #: The group listed (aggregating only): the one asked for, else the first.
    group: str
    #: Task id -> the worker running it (active tasks only).
    workers: dict[str, WorkerInfo]
    #: Why the tasks could not be listed (damaged data); empty when they could.
    list_error: str = ""

    @property
    def total(self) -> int:
        """How many tasks the state (or the group) holds."""
        if self.state == "aggregating":
            return next((g.size for g in self.groups if g.group == self.group), 0)
        count: int = getattr(self.info, self.state)
        return count

    @property
    def pages(self) -> int:
        """How many pages of :attr:`size` the tasks fill (at least one)."""
        return max(1, math.ceil(self.total / self.size))

    @property
    def actions(self) -> frozenset[str]:
        """The actions the state allows."""
        return TASK_ACTIONS[self.state]


@dataclass
class ActionOutcome:
    """Which tasks an action reached, and which it could not (gone, or in another state)."""

    action: str
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """``2 tasks archived, 1 failed``."""
        text = tasks_done(len(self.done), self.action)
        return text + (f", {len(self.failed)} failed" if self.failed else "")


def redis_summary(info: dict[str, str]) -> dict[str, Any]:
    """INFO (or CLUSTER INFO) as the Redis page shows it: the fields, ``raw_info`` rebuilt as
    ``key:value`` lines (the inspector keeps no section headers), and whether it is a cluster."""
    return {
        "info": info,
        "raw_info": "".join(f"{k}:{v}\r\n" for k, v in info.items()),
        "cluster": "cluster_state" in info or info.get("cluster_enabled") == "1",
        "queue_locations": [],
    }


class AsyncDashboardData:
    """The dashboards' reads and actions over an :class:`~asynq.inspector.AsyncInspector`.

    Reads tolerate damaged data where a page can still say something useful: a queue whose
    snapshot cannot be read is reported apart, a state whose tasks cannot be listed leaves an
    error for the page instead of failing it. Arguments are checked by the inspector
    (:class:`~asynq.ValidationError`); an unknown state or a refused action is the caller's to
    check with :data:`TASK_ACTIONS` first.
    """

    def __init__(self, inspector: AsyncInspector) -> None:
        self.inspector = inspector

    async def queue_overview(self, names: Sequence[str] | None = None) -> QueueOverview:
        """The snapshot of each queue in ``names`` (default: every queue, sorted); queues
        deleted meanwhile are left out."""
        insp = self.inspector
        infos, broken = [], {}
        for name in sorted(await insp.queues()) if names is None else names:
            try:
                infos.append(await insp.get_queue_info(name))
            except QueueNotFoundError:
                continue
            except BrokerError as exc:
                if not is_damaged_data(exc):
                    raise
                broken[name] = str(exc)
        return QueueOverview(infos, broken)

    async def list_tasks(
        self, queue: str, state: str, page: int, size: int, group: str = ""
    ) -> list[TaskInfo]:
        """One page of ``state``'s tasks (``aggregating`` needs ``group``)."""
        insp = self.inspector
        if state == "aggregating":
            return await insp.list_aggregating_tasks(queue, group, page=page, page_size=size)
        listed: list[TaskInfo] = await getattr(insp, f"list_{state}_tasks")(
            queue, page=page, page_size=size
        )
        return listed

    async def workers_of(self, queue: str) -> dict[str, WorkerInfo]:
        """Active workers of ``queue`` by task id (start time and deadline of active tasks)."""
        servers = await self.inspector.servers()
        return {w.task_id: w for s in servers for w in s.active_workers if w.queue == queue}

    async def task_page(
        self, queue: str, state: str, page: int, size: int, group: str = ""
    ) -> TaskPage:
        """Page ``page`` of ``state``'s tasks in ``queue``, with the queue's snapshot and groups.

        Raises:
            QueueNotFoundError: the queue is not registered.
        """
        insp = self.inspector
        info = await insp.get_queue_info(queue)
        try:
            groups = sorted(await insp.groups(queue), key=lambda g: g.group)
        except BrokerError as exc:
            if not is_damaged_data(exc):
                raise
            groups = []
        group = group or (groups[0].group if groups else "")
        tasks: list[TaskInfo] = []
        list_error = ""
        if state != "aggregating" or group:
            try:
                tasks = await self.list_tasks(queue, state, page, size, group)
            except BrokerError as exc:
                if not is_damaged_data(exc):
                    raise
                list_error = str(exc)
        workers = await self.workers_of(queue) if state == "active" else {}
        return TaskPage(info, state, page, size, tasks, groups, group, workers, list_error)

    async def task(self, queue: str, task_id: str) -> tuple[TaskInfo, WorkerInfo | None]:
        """One task, and the worker running it when it is active.

        Raises:
            QueueNotFoundError: the queue is not registered.
            TaskNotFoundError: the queue holds no such task.
        """
        info = await self.inspector.get_task_info(queue, task_id)
        worker = (
            (await self.workers_of(queue)).get(task_id) if info.state.value == "active" else None
        )
        return info, worker

    async def scheduler_entries(self) -> list[SchedulerEntry]:
        """Entries of the live schedulers, by spec."""
        return sorted(await self.inspector.scheduler_entries(), key=lambda e: e.spec)

    async def scheduler_history(
        self, entry_id: str, page: int, size: int
    ) -> tuple[SchedulerEntry | None, list[SchedulerEnqueueEvent]]:
        """The entry (``None`` once its scheduler is gone) and a page of its enqueue events,
        newest first."""
        insp = self.inspector
        events = await insp.list_scheduler_enqueue_events(entry_id, page=page, page_size=size)
        entry = next((e for e in await insp.scheduler_entries() if e.id == entry_id), None)
        return entry, events

    async def redis_overview(self) -> dict[str, Any]:
        """:func:`redis_summary` of INFO plus, in a cluster, each queue's key slot and nodes."""
        insp = self.inspector
        out = redis_summary(await insp.redis_info())
        if out["cluster"]:
            for queue in sorted(await insp.queues()):
                slot = await insp.cluster_key_slot(queue)
                nodes = [n.addr for n in await insp.cluster_nodes(queue)]
                out["queue_locations"].append({"queue": queue, "keyslot": slot, "nodes": nodes})
        return out

    async def act(self, action: str, queue: str, task_id: str) -> None:
        """Run, archive, delete or cancel one task.

        Raises:
            TaskNotFoundError: no such task (or, for ``run``/``archive``, not in a state the
                action moves from).
        """
        if action == "cancel":
            await self.inspector.cancel_processing(task_id)
            return
        await getattr(self.inspector, f"{action}_task")(queue, task_id)

    async def act_on(self, action: str, queue: str, task_ids: Sequence[str]) -> ActionOutcome:
        """:meth:`act` on each of ``task_ids``; a task it cannot reach is counted, not raised."""
        outcome = ActionOutcome(action)
        for task_id in task_ids:
            try:
                await self.act(action, queue, task_id)
            except BrokerError:
                raise
            except AsynqError:
                outcome.failed.append(task_id)
            else:
                outcome.done.append(task_id)
        return outcome

    async def act_on_all(self, action: str, queue: str, state: str, group: str = "") -> int:
        """``action`` on every task of ``state`` (of ``group`` for aggregating tasks); returns
        how many tasks it reached. Cancel signals each active task, page by page (Asynqmon's
        way: Redis has no "cancel all")."""
        insp = self.inspector
        if action == "cancel":
            page, sent = 1, 0
            while True:
                tasks = await insp.list_active_tasks(queue, page=page, page_size=CANCEL_PAGE)
                for task in tasks:
                    await insp.cancel_processing(task.id)
                    sent += 1
                if len(tasks) < CANCEL_PAGE:
                    return sent
                page += 1
        if state == "aggregating":
            done: int = await getattr(insp, f"{action}_all_aggregating_tasks")(queue, group)
        else:
            done = await getattr(insp, f"{action}_all_{state}_tasks")(queue)
        return done


# Generated by scripts/gen_twins.py from AsyncDashboardData above: edit that, then run the script.
class DashboardData:
    """The dashboards' reads and actions over an :class:`~asynq.inspector.Inspector`.

    Reads tolerate damaged data where a page can still say something useful: a queue whose
    snapshot cannot be read is reported apart, a state whose tasks cannot be listed leaves an
    error for the page instead of failing it. Arguments are checked by the inspector
    (:class:`~asynq.ValidationError`); an unknown state or a refused action is the caller's to
    check with :data:`TASK_ACTIONS` first.
    """

    def __init__(self, inspector: Inspector) -> None:
        self.inspector = inspector

    def queue_overview(self, names: Sequence[str] | None = None) -> QueueOverview:
        """The snapshot of each queue in ``names`` (default: every queue, sorted); queues
        deleted meanwhile are left out."""
        insp = self.inspector
        infos, broken = [], {}
        for name in sorted(insp.queues()) if names is None else names:
            try:
                infos.append(insp.get_queue_info(name))
            except QueueNotFoundError:
                continue
            except BrokerError as exc:
                if not is_damaged_data(exc):
                    raise
                broken[name] = str(exc)
        return QueueOverview(infos, broken)

    def list_tasks(
        self, queue: str, state: str, page: int, size: int, group: str = ""
    ) -> list[TaskInfo]:
        """One page of ``state``'s tasks (``aggregating`` needs ``group``)."""
        insp = self.inspector
        if state == "aggregating":
            return insp.list_aggregating_tasks(queue, group, page=page, page_size=size)
        listed: list[TaskInfo] = getattr(insp, f"list_{state}_tasks")(
            queue, page=page, page_size=size
        )
        return listed

    def workers_of(self, queue: str) -> dict[str, WorkerInfo]:
        """Active workers of ``queue`` by task id (start time and deadline of active tasks)."""
        servers = self.inspector.servers()
        return {w.task_id: w for s in servers for w in s.active_workers if w.queue == queue}

    def task_page(self, queue: str, state: str, page: int, size: int, group: str = "") -> TaskPage:
        """Page ``page`` of ``state``'s tasks in ``queue``, with the queue's snapshot and groups.

        Raises:
            QueueNotFoundError: the queue is not registered.
        """
        insp = self.inspector
        info = insp.get_queue_info(queue)
        try:
            groups = sorted(insp.groups(queue), key=lambda g: g.group)
        except BrokerError as exc:
            if not is_damaged_data(exc):
                raise
            groups = []
        group = group or (groups[0].group if groups else "")
        tasks: list[TaskInfo] = []
        list_error = ""
        if state != "aggregating" or group:
            try:
                tasks = self.list_tasks(queue, state, page, size, group)
            except BrokerError as exc:
                if not is_damaged_data(exc):
                    raise
                list_error = str(exc)
        workers = self.workers_of(queue) if state == "active" else {}
        return TaskPage(info, state, page, size, tasks, groups, group, workers, list_error)

    def task(self, queue: str, task_id: str) -> tuple[TaskInfo, WorkerInfo | None]:
        """One task, and the worker running it when it is active.

        Raises:
            QueueNotFoundError: the queue is not registered.
            TaskNotFoundError: the queue holds no such task.
        """
        info = self.inspector.get_task_info(queue, task_id)
        worker = (self.workers_of(queue)).get(task_id) if info.state.value == "active" else None
        return info, worker

    def scheduler_entries(self) -> list[SchedulerEntry]:
        """Entries of the live schedulers, by spec."""
        return sorted(self.inspector.scheduler_entries(), key=lambda e: e.spec)

    def scheduler_history(
        self, entry_id: str, page: int, size: int
    ) -> tuple[SchedulerEntry | None, list[SchedulerEnqueueEvent]]:
        """The entry (``None`` once its scheduler is gone) and a page of its enqueue events,
        newest first."""
        insp = self.inspector
        events = insp.list_scheduler_enqueue_events(entry_id, page=page, page_size=size)
        entry = next((e for e in insp.scheduler_entries() if e.id == entry_id), None)
        return entry, events

    def redis_overview(self) -> dict[str, Any]:
        """:func:`redis_summary` of INFO plus, in a cluster, each queue's key slot and nodes."""
        insp = self.inspector
        out = redis_summary(insp.redis_info())
        if out["cluster"]:
            for queue in sorted(insp.queues()):
                slot = insp.cluster_key_slot(queue)
                nodes = [n.addr for n in insp.cluster_nodes(queue)]
                out["queue_locations"].append({"queue": queue, "keyslot": slot, "nodes": nodes})
        return out

    def act(self, action: str, queue: str, task_id: str) -> None:
        """Run, archive, delete or cancel one task.

        Raises:
            TaskNotFoundError: no such task (or, for ``run``/``archive``, not in a state the
                action moves from).
        """
        if action == "cancel":
            self.inspector.cancel_processing(task_id)
            return
        getattr(self.inspector, f"{action}_task")(queue, task_id)

    def act_on(self, action: str, queue: str, task_ids: Sequence[str]) -> ActionOutcome:
        """:meth:`act` on each of ``task_ids``; a task it cannot reach is counted, not raised."""
        outcome = ActionOutcome(action)
        for task_id in task_ids:
            try:
                self.act(action, queue, task_id)
            except BrokerError:
                raise
            except AsynqError:
                outcome.failed.append(task_id)
            else:
                outcome.done.append(task_id)
        return outcome

    def act_on_all(self, action: str, queue: str, state: str, group: str = "") -> int:
        """``action`` on every task of ``state`` (of ``group`` for aggregating tasks); returns
        how many tasks it reached. Cancel signals each active task, page by page (Asynqmon's
        way: Redis has no "cancel all")."""
        insp = self.inspector
        if action == "cancel":
            page, sent = 1, 0
            while True:
                tasks = insp.list_active_tasks(queue, page=page, page_size=CANCEL_PAGE)
                for task in tasks:
                    insp.cancel_processing(task.id)
                    sent += 1
                if len(tasks) < CANCEL_PAGE:
                    return sent
                page += 1
        if state == "aggregating":
            done: int = getattr(insp, f"{action}_all_aggregating_tasks")(queue, group)
        else:
            done = getattr(insp, f"{action}_all_{state}_tasks")(queue)
        return done
