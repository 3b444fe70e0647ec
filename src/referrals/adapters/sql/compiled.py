"""SQLAlchemy Core statements compiled once into the driver's own SQL.

SQLAlchemy builds and compiles; the drivers (psycopg, sqlite3) execute the
resulting text directly with positional parameters. That skips
SQLAlchemy's per-call work (cache lookup, parameter processing, result
wrapping, and its async bridge), which was most of a request's database
time, while the statements stay written, typed and checked in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True, slots=True)
class Compiled:
    """One statement for one driver: its SQL and the order of its parameters."""

    sql: str
    names: tuple[str, ...]
    """Parameter names in the order the positional placeholders expect them."""
    constants: Mapping[str, Any]
    """Values SQLAlchemy bound itself (literals such as ``+ 1``)."""
    processors: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    """The types' conversions of the parameters that need one (a datetime for SQLite)."""
    writes: bool = True
    """Whether it may change data: anything but a plain ``SELECT`` (``… FOR UPDATE`` too)."""
    writes_when: str | None = None
    """For a statement that changes data only on some answers: the value of
    its first column when it did (then ``writes`` is not looked at)."""

    def args(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional arguments for ``values`` (keyed by bind parameter name)."""
        constants = self.constants
        args = tuple(values[name] if name in values else constants[name] for name in self.names)
        if not self.processors:
            return args
        return tuple(
            self.processors[name](value) if name in self.processors else value
            for name, value in zip(self.names, args, strict=True)
        )


def compile_statement(statement: ClauseElement, dialect: Dialect) -> Compiled:
    """Compile ``statement`` for ``dialect`` (whose paramstyle must be positional)."""
    compiled = statement.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
        raise ValueError(f"{dialect.name}: compile with a positional paramstyle")
    names = tuple(compiled.positiontup)
    processors: dict[str, Callable[[Any], Any]] = {}
    for name in names:
        process = compiled._bind_processors.get(name)
        if callable(process):  # a sequence only for tuple parameters, which none is
            processors[name] = process
        elif process is not None:
            raise ValueError(f"tuple parameter {name!r} is not supported: {compiled.string}")
    constants = {name: value for name, value in compiled.params.items() if value is not None}
    writes = compiled.string.lstrip()[:6].upper() != "SELECT"
    return Compiled(compiled.string, names, constants, processors, writes)
