"""Errors the Marketo client raises; their messages never carry the client secret or an access token."""

from __future__ import annotations

from datetime import datetime

from ..base import ConnectionError_


class MarketoSettingsError(ConnectionError_):
    """A missing or malformed MARKETO_* variable; the message names it and says what to set."""


class MarketoError(ConnectionError_):
    """A failed call: Marketo's error ``code`` (``"HTTP 502"`` for transport failures) and its message.

    A :class:`ConnectionError_` so that the CLI shows it as one actionable line (quota, permissions,
    credentials), not as an unexpected error.
    """

    def __init__(self, code: str, message: str, path: str = "") -> None:
        self.code = str(code)
        self.message = message
        self.path = path
        where = f" ({path})" if path else ""
        super().__init__(f"Marketo error {self.code}: {message}{where}")


class QuotaExceeded(MarketoError):
    """607: the instance's daily API quota is used up; nothing more can be done until ``resets_at``."""

    def __init__(self, message: str, resets_at: datetime, path: str = "") -> None:
        self.resets_at = resets_at
        when = resets_at.strftime("%Y-%m-%d %H:%M %Z")
        super().__init__("607", f"{message}. The daily API quota resets at midnight America/Chicago "
                                f"({when}); stop now and run again after that.", path)


class PermissionMissing(MarketoError):
    """603 on a call: the API user's role lacks the permission named in ``permissions``."""

    def __init__(self, permissions: list[str], path: str = "") -> None:
        self.permissions = permissions
        names = ", ".join(permissions)
        super().__init__("603", f"Access denied: the API user's role is missing {names}. In Admin > Users & "
                                f"Roles > Roles, edit the API role and grant {names}.", path)


class WriteOutcomeUnknown(MarketoError):
    """A write that may or may not have been applied (the connection dropped or the server failed mid-call).

    It is never retried blindly: the caller re-reads to find out, then writes again only if needed.
    """
