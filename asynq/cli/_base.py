"""Building blocks shared by the commands: aliased groups, ``--json``, per-item failures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from asynq.cli._state import CliError
from asynq.errors import AsynqError, BrokerConnectionError

F = TypeVar("F", bound=Callable[..., Any])


class AliasedGroup(click.Group):
    """A group whose commands can have aliases (``rm`` for ``remove``), hidden from the help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aliases: dict[str, str] = {}

    def alias(self, name: str, *aliases: str) -> None:
        """Make each of ``aliases`` run the command ``name``."""
        for a in aliases:
            self.aliases[a] = name

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Resolve aliases before the normal lookup."""
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands with their aliases."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            names = [name, *sorted(a for a, n in self.aliases.items() if n == name)]
            rows.append((", ".join(names), cmd.get_short_help_str(limit=60)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def group(name: str, help: str) -> Callable[[Callable[..., Any]], AliasedGroup]:
    """Declare a sub-command group that supports aliases."""
    return click.group(name, cls=AliasedGroup, help=help)


def json_option(f: F) -> F:
    """Add ``--json``: print machine-readable JSON instead of a table."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


class Failures:
    """Collects per-item errors of a multi-argument command (``queue pause a b c``).

    Each error is printed at once as ``error: ...`` on stderr; :meth:`exit` then ends the
    command with status 1 if any item failed, after the others were still processed (as Go's
    tool does, but with an honest exit status).
    """

    def __init__(self) -> None:
        self.count = 0

    def report(self, exc: AsynqError | str, what: str = "") -> None:
        """Print one item's error, prefixed with ``what`` the item is when given."""
        self.count += 1
        click.echo(f"error: {what + ': ' if what else ''}{exc}", err=True)

    @contextmanager
    def item(self, what: str = "") -> Iterator[None]:
        """Run one item: its asynq error is reported, an unreachable Redis aborts everything.

        Damaged data (a key of the wrong type, an undecodable task) is one item's error.
        """
        try:
            yield
        except BrokerConnectionError:
            raise
        except AsynqError as exc:
            self.report(exc, what)

    def exit(self) -> None:
        """Exit 1 if anything failed."""
        if self.count:
            raise click.exceptions.Exit(1)


__all__ = ["AliasedGroup", "CliError", "Failures", "group", "json_option"]
