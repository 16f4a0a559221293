"""Fixtures for the task-function tests: the worker-server fixtures, shared."""

from __future__ import annotations

from tests.server.conftest import client, start_server

__all__ = ["client", "start_server"]
