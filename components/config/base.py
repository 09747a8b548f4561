"""The base of every config section and the error a cross-field check raises for another key.

Its own module so that :mod:`.sections` and :mod:`.hardening` both build on it without importing each other.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ConfigModel(BaseModel):
    """Base for config sections: camelCase keys, unknown keys rejected, immutable once loaded."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        extra="forbid",
        frozen=True,
        arbitrary_types_allowed=True,
        validate_default=True,
    )


class LocatedError(ValueError):
    """A cross-field failure that belongs to a key other than the validator's own.

    ``loc`` is relative to where the failing validator runs (its model, or its field), so the same section
    reports the right key path wherever it is validated: in a stack config or as another project's own key.
    """

    def __init__(self, loc: tuple[str | int, ...], value: object, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.loc = loc
        self.value = value
        self.problem = problem
        self.fix = fix


class MultiLocatedError(ValueError):
    """Several :class:`LocatedError` of one validator: a check over many keys reports each of them in one run."""

    def __init__(self, errors: list[LocatedError]) -> None:
        super().__init__("; ".join(error.problem for error in errors))
        self.errors = errors
