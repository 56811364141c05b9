"""Where the files this package ships live: the seed manifests, event templates, examples and schemas.

They sit inside the package (the repository's top-level folders of the same names are symlinks to
them), so an installed wheel has them too. Code that needs one asks here, wherever the code itself
lives, instead of counting parent folders from its own path.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped(*parts: str) -> Path:
    """The path of a shipped file or folder, e.g. ``shipped("manifests")``, ``shipped("examples", "sessions.csv")``."""
    return PACKAGE_DIR.joinpath(*parts)
