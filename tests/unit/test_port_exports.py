"""Whoever implements a port imports what its signatures name from ``referrals``
alone: every port, and every type of ours in a port's methods (docs/library.md)."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterator

import referrals
from referrals.application import ports


def _ports() -> list[type]:
    return [
        value
        for value in vars(ports).values()
        if inspect.isclass(value)
        and value.__module__.startswith("referrals.")
        and getattr(value, "_is_protocol", False)
    ]


def _ours(annotation: object) -> Iterator[type]:
    """The classes of referrals an annotation names, at any depth (``list[User] | None``)."""
    if inspect.isclass(annotation) and annotation.__module__.startswith("referrals."):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _ours(argument)


def _namespace() -> dict[str, object]:
    """What the ports' annotations may name (some only under TYPE_CHECKING)."""
    from referrals.application.outbox import OutboxEvent

    return vars(ports) | {"OutboxEvent": OutboxEvent}


def _named_by_ports() -> set[type]:
    named: set[type] = set()
    for port in _ports():
        named.add(port)
        for name, member in vars(port).items():
            if callable(member) and (not name.startswith("_") or name == "__call__"):
                hints = typing.get_type_hints(member, _namespace())
                for annotation in hints.values():
                    named.update(_ours(annotation))
        for annotation in typing.get_type_hints(port, _namespace()).values():  # attributes
            named.update(_ours(annotation))
    return named


def test_there_are_ports_to_look_at() -> None:
    assert {"UnitOfWork", "SessionStore", "ActivityLog"} <= {port.__name__ for port in _ports()}


def test_every_type_a_port_names_is_exported_from_referrals() -> None:
    missing = sorted(
        f"{cls.__module__}.{cls.__name__}"
        for cls in _named_by_ports()
        if getattr(referrals, cls.__name__, None) is not cls
        or cls.__name__ not in referrals.__all__
    )

    assert missing == []
