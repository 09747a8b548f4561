"""Bad-input reporting shared by config loading, the planner and the CLI.

Every problem names the config key path (``vllm-aws:models[1].tensorParallelSize``), the value that
was given and the fix, so a user can act on the message without reading code.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

NAMESPACE = "vllm-aws"

# Loc element types as pydantic reports them: field names and list indexes.
LocPart = str | int
# Where a config section sits: ("models", 1) in a vllm-aws stack, ("model",) in another project or a component.
KeyPrefix = tuple[LocPart, ...]


def key_path(loc: Sequence[LocPart], *, namespace: str | None = NAMESPACE) -> str:
    """``("models", 1, "tensorParallelSize")`` -> ``vllm-aws:models[1].tensorParallelSize``.

    A first part with a ``:`` is already qualified (``aws:region``); ``namespace=None`` names a component's own
    input (``model.tensorParallelSize``).
    """
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not path:
            path = part if ":" in part or namespace is None else f"{namespace}:{part}"
        else:
            path += f".{part}"
    return path or (namespace or "")


@dataclass(frozen=True)
class KeyPaths:
    """The key paths of one config section: ``KeyPaths(("models", 1))("dtype")`` is ``vllm-aws:models[1].dtype``."""

    prefix: KeyPrefix = ()
    namespace: str | None = NAMESPACE

    def __call__(self, *rest: LocPart) -> str:
        return key_path((*self.prefix, *rest), namespace=self.namespace)

    @property
    def within(self) -> str:
        """The section's own path within its namespace, for prose: ``models[1]``, ``model``."""
        return key_path(self.prefix, namespace=None)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """Closest candidate to a mistyped key, ignoring case, ``-`` and ``_`` (snake_case typos included)."""

    def norm(s: str) -> str:
        return s.lower().replace("_", "").replace("-", "")

    by_norm = {norm(c): c for c in candidates}
    if norm(word) in by_norm:
        return by_norm[norm(word)]
    close = difflib.get_close_matches(norm(word), list(by_norm), n=1, cutoff=0.75)
    if close:
        return by_norm[close[0]]
    # Swapped letters score low in difflib ("chace" 0.6 to "cache", "modle" 0.73 to "models"): the same letters,
    # give or take one, are the typo too.
    letters = sorted(norm(word))
    for key, candidate in by_norm.items():
        if len(key) >= 4 and letters in (sorted(key), *(sorted(key[:i] + key[i + 1 :]) for i in range(len(key)))):
            return candidate
        if len(key) >= 4 and any(sorted(key) == letters[:i] + letters[i + 1 :] for i in range(len(letters))):
            return candidate
    return None


@dataclass(frozen=True)
class ConfigIssue:
    """One rejected input: where it is, what was given, what is wrong and how to fix it.

    ``origin`` is set when the user did not set the value: where it came from ("not set; defaults to the model's
    131,072 tokens"), shown instead of "got ..." so no message claims the user wrote a value they never wrote.
    An empty ``origin`` shows nothing: the path is the whole story (a file that does not exist, a declaration).
    """

    path: str
    value: object
    problem: str
    fix: str
    origin: str | None = None

    def __str__(self) -> str:
        given = self.origin if self.origin is not None else f"got {format_value(self.value)}"
        return f"{self.path}: {self.problem}{f' ({given})' if given else ''}. Fix: {self.fix}"


class ConfigError(ValueError):
    """Raised before any resource is registered when the stack configuration cannot work."""

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__(self.render())

    @classmethod
    def single(cls, path: str, value: object, problem: str, fix: str) -> ConfigError:
        """One issue; a ``None`` value shows nothing (the path is a file, a whole section: there is no value)."""
        return cls([ConfigIssue(path, value, problem, fix, origin="" if value is None else None)])

    def render(self) -> str:
        if len(self.issues) == 1:
            return f"invalid configuration: {self.issues[0]}"
        lines = [f"invalid configuration ({len(self.issues)} problems):"]
        lines += [f"  - {issue}" for issue in self.issues]
        return "\n".join(lines)


def format_value(value: object) -> str:
    """Short, secret-free rendering of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
