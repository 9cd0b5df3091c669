"""The project's error types. Each carries where (file, line, field) and why.

The CLI maps them to exit codes: :class:`InputError` -> 2, :class:`NonConformance` -> 1.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Position:
    """Where in an input something is: file, 1-based line (if known), field (if known)."""

    file: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        text = self.file
        if self.line is not None:
            text += f":{self.line}"
        if self.field:
            text += f" [{self.field}]"
        return text


class KGError(Exception):
    """Base class of the project's errors."""


class InputError(KGError):
    """Bad input: a malformed file, unknown term, dangling reference, bad span, bad query.

    Args:
        message: what is wrong and, where possible, how to fix it.
        position: where it is.
    """

    def __init__(self, message: str, position: Position | None = None):
        self.message = message
        self.position = position
        super().__init__(f"{position}: {message}" if position else message)


class NonConformance(KGError):
    """The data does not conform (SHACL violations, failing checks, inconsistent ontology)."""


class QueryFailed(KGError):
    """A query could not be answered: it ran past its time limit, or the query engine crashed or ran
    out of memory in the worker process that ran it (the caller's process is unharmed)."""


class JavaMissing(KGError):
    """The reasoner needs Java and none was found."""
