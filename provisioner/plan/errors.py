"""Errors the plan engine raises; each message says what is wrong and what to do."""

from __future__ import annotations

from typing import Sequence


class PlanError(Exception):
    """A plan cannot be made or applied (unknown kind, dependency cycle, missing connection...)."""


class StalePlanError(PlanError):
    """Live state (or the manifests) changed since the plan was made."""

    def __init__(self, addresses: Sequence[str], what: str = "live state") -> None:
        self.addresses = list(addresses)
        listed = "\n".join(f"  {a}" for a in self.addresses)
        super().__init__(
            f"The plan is stale: the {what} changed since it was made, for:\n{listed}\n"
            "Nothing was applied. Run plan again."
        )


class DestroyNotAllowedError(PlanError):
    """The plan deletes or replaces resources and apply was not given allow_destroy."""

    def __init__(self, addresses: Sequence[str]) -> None:
        self.addresses = list(addresses)
        listed = "\n".join(f"  {a}" for a in self.addresses)
        super().__init__(
            f"The plan deletes or replaces {len(self.addresses)} resource(s):\n{listed}\n"
            "Nothing was applied. Re-run apply with --allow-destroy to allow it."
        )


class PlanFileError(PlanError):
    """A plan file cannot be read: missing, corrupt, or not a provisioner plan."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")
