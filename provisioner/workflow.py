"""The steps plan, apply, drift and event share: manifests → providers → connections → a plan.

Kept out of cli.py so the CLI only parses, calls, renders and picks exit codes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .manifest import LoadResult, load
from .manifest.findings import Finding
from .manifest.model import ManifestSet
from .plan import Plan, make_plan
from .plan.resource import Desired, ResourceKind
from .providers.registry import PROVIDERS, get_provider
from .redaction import remember_environment


class WorkflowError(Exception):
    """Something the user must fix before a plan can be made; the message says what."""


class InvalidManifests(WorkflowError):
    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(f"{len(findings)} finding(s) in the manifests; run `provisioner validate` for details")
        self.findings = findings


@dataclass
class Session:
    """Loaded manifests, the providers they need, their connections, kinds and desired resources."""

    manifests: ManifestSet
    paths: list[str]
    connections: dict[str, Any] = field(default_factory=dict)
    kinds: list[ResourceKind] = field(default_factory=list)
    desired: list[Desired] = field(default_factory=list)

    def plan(self) -> Plan:
        """Read live state and diff it against the manifests."""
        return make_plan(self.kinds, self.desired, self.connections, manifests=self.paths)

    def reset_reads(self) -> None:
        """Forget memoised reads so the next read sees the org as it is now."""
        for conn in self.connections.values():
            reset = getattr(conn, "reset_reads", None)
            if reset:
                reset()


def read_env(env_file: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The process environment, with a ``.env`` file's values for variables not already set.

    python-dotenv reads the file as shells and docker-compose do (quotes, ``export``, ``#`` comments,
    multi-line quoted values); a variable set in the environment always wins over the file.
    """
    from dotenv import dotenv_values

    env = dict(os.environ)
    path = Path(env_file) if env_file else Path(".env")
    if path.is_file():
        for key, value in dotenv_values(path, encoding="utf-8").items():
            if value is not None:
                env.setdefault(key, value)
    remember_environment(env)  # a .env file's secrets are masked in output like the environment's
    return env


def load_valid(paths: Iterable[str], variables: Mapping[str, Any] | None = None) -> LoadResult:
    """Load manifests, refusing to go on when validation has findings."""
    result = load(list(paths), variables)
    if not result.ok:
        raise InvalidManifests(result.findings)
    return result


def open_session(paths: Iterable[str], variables: Mapping[str, Any] | None = None,
                 env: Mapping[str, str] | None = None, only: Iterable[str] | None = None) -> Session:
    """Load and validate manifests, then connect every provider they need."""
    paths = [str(p) for p in paths]
    result = load_valid(paths, variables)
    return connect_session(result.manifests, result.files, env, only)


def connect_session(manifests: ManifestSet, paths: list[str], env: Mapping[str, str] | None = None,
                    only: Iterable[str] | None = None) -> Session:
    """Connect the providers ``manifests`` need (or ``only`` those named)."""
    env = env if env is not None else read_env()
    session = Session(manifests, paths)
    names = list(only) if only is not None else list(PROVIDERS)
    for name in names:
        if not getattr(manifests, name, None):  # no manifest of this kind: don't even import the provider
            continue
        provider = get_provider(name)
        if not provider.applies_to(manifests):
            continue
        session.connections[name] = provider.connect(env)
        session.kinds.extend(provider.kinds())
        session.desired.extend(provider.desired(manifests))
    if not session.connections:
        raise WorkflowError("the manifests declare nothing to plan (no Salesforce or Marketo resources)")
    return session
