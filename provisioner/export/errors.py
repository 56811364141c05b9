"""The one error an export raises for something the user named that is not there."""

from __future__ import annotations


class ExportError(Exception):
    """An object, campaign, permission set or program named on the command line does not exist."""
