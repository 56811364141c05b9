"""Connection settings from MARKETO_* environment variables, with the classic endpoint mistake fixed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlsplit

from ...redaction import strip_userinfo
from .errors import MarketoSettingsError

log = logging.getLogger(__name__)

REQUIRED = ("MARKETO_ENDPOINT", "MARKETO_CLIENT_ID", "MARKETO_CLIENT_SECRET")
_SUFFIXES = ("/rest", "/identity")


@dataclass(frozen=True)
class MarketoSettings:
    """Where the instance is and how to authenticate; ``repr`` never shows the secret."""

    endpoint: str
    client_id: str
    client_secret: str = field(repr=False)
    ca_bundle: str | None = None
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "MarketoSettings":
        """Read MARKETO_ENDPOINT, MARKETO_CLIENT_ID, MARKETO_CLIENT_SECRET and optional MARKETO_CA_BUNDLE.

        A missing variable raises :class:`MarketoSettingsError` naming it; a pasted ``/rest`` or
        ``/identity`` suffix is stripped with a warning (logged and kept in ``warnings``).
        """
        missing = [name for name in REQUIRED if not (env.get(name) or "").strip()]
        if missing:
            raise MarketoSettingsError(
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. Set MARKETO_ENDPOINT to the "
                "REST endpoint from Marketo Admin > Web Services (without /rest), and MARKETO_CLIENT_ID / "
                "MARKETO_CLIENT_SECRET to the API-only user's LaunchPoint service credentials.")
        endpoint, warnings = normalise_endpoint(env["MARKETO_ENDPOINT"].strip())
        for warning in warnings:
            log.warning(warning)
        return cls(endpoint, env["MARKETO_CLIENT_ID"].strip(), env["MARKETO_CLIENT_SECRET"].strip(),
                   (env.get("MARKETO_CA_BUNDLE") or "").strip() or None, tuple(warnings))


def normalise_endpoint(raw: str) -> tuple[str, list[str]]:
    """The endpoint without a trailing slash, user:password@ or a pasted ``/rest``/``/identity``, and
    warnings about fixes (never repeating the userinfo)."""
    raw, had_userinfo = strip_userinfo(raw)
    warnings = []
    if had_userinfo:
        warnings.append("MARKETO_ENDPOINT carries a user name and password (user:password@host); Marketo does not "
                        "use them and they were left out. Remove them from MARKETO_ENDPOINT.")
    parts = urlsplit(raw)
    if parts.scheme != "https" or not parts.netloc:
        raise MarketoSettingsError(f"MARKETO_ENDPOINT must be an https URL such as "
                                   f"https://123-ABC-456.mktorest.com, not {raw!r}")
    path = parts.path.rstrip("/")
    for suffix in _SUFFIXES:
        if path.lower().endswith(suffix):
            path = path[: -len(suffix)]
            fixed = f"{parts.scheme}://{parts.netloc}{path}"
            warnings.append(f"MARKETO_ENDPOINT ends with {suffix!r}: using {fixed}. Set MARKETO_ENDPOINT={fixed} "
                            f"(the REST endpoint from Admin > Web Services without {suffix}) to silence this warning.")
            break
    return f"{parts.scheme}://{parts.netloc}{path}", warnings
