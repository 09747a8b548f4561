"""A change the simulated ``pulumi up`` cannot carry out, with its reason, source and fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Blocker:
    resource: str
    type: str
    code: str
    reason: str
    source: str
    fix: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "type": self.type,
            "code": self.code,
            "reason": self.reason,
            "source": self.source,
            "fix": self.fix,
        }
