"""Render `.j2` manifests with a sandboxed Jinja environment before they are parsed as YAML.

Sandboxed so a template cannot reach Python internals (``__class__`` and friends); bounded
(:mod:`.template_limits`) so a loop, a repeat or a recursive macro cannot hang or exhaust memory;
StrictUndefined so a misspelt variable is an error, not an empty string.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Mapping

import jinja2

from .findings import Finding, Location, ManifestError
from .template_limits import BoundedEnvironment, Limits, TemplateLimitError

#: Rendered output larger than this is refused (a loop gone wrong, not a manifest).
MAX_RENDERED_BYTES = 5 * 1024 * 1024

_ENV = BoundedEnvironment(
    Limits(output_chars=MAX_RENDERED_BYTES),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)


def _json_dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` for the ``tojson`` filter, with one encoder made once for Jinja's default options
    (``json.dumps`` makes a new encoder for every call with options: a third of ``tojson``'s time)."""
    if options == _JSON_OPTIONS:
        return _JSON_ENCODER.encode(value)
    return json.dumps(value, **options)


_JSON_OPTIONS = dict(_ENV.policies["json.dumps_kwargs"])
_JSON_ENCODER = json.JSONEncoder(**_JSON_OPTIONS)
_ENV.policies["json.dumps_function"] = _json_dumps


def _template_line(exc: BaseException, filename: str) -> int:
    """The template line an exception was raised at (Jinja maps tracebacks to template lines)."""
    line = getattr(exc, "lineno", None) or 0
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


@functools.lru_cache(maxsize=32)
def _compiled(source: str, filename: str) -> jinja2.Template:
    """The template compiled once per source text: `event new` renders one template for every session row,
    and compiling took 90% of its rendering time (12 ms a row)."""
    code = _ENV.compile(source, name=filename, filename=filename)
    return _ENV.template_class.from_code(_ENV, code, _ENV.make_globals(None), None)


def render_template(source: str, filename: str, variables: Mapping[str, Any]) -> str:
    """Render ``source`` (the text of ``filename``) with ``variables``; errors become ManifestError."""
    try:
        template = _compiled(source, filename)
        rendered = _ENV.render(template, dict(variables))
    except TemplateLimitError as exc:
        raise _error(exc, filename, f"template stopped: {exc}",
                     "templates render manifests, not data: check the loops, repeats and macros near this line"
                     ) from None
    except RecursionError:
        raise ManifestError([Finding(Location(filename), "template stopped: calls nested too deep",
                                     "check the macros that call themselves")]) from None
    except MemoryError:
        raise ManifestError([Finding(Location(filename), "template stopped: it needed more memory than there is",
                                     "check the loops, repeats and macros")]) from None
    except jinja2.exceptions.SecurityError as exc:
        raise _error(exc, filename, f"template tried an unsafe operation: {exc}",
                     "templates may only use variables, filters, loops and conditions") from None
    except jinja2.exceptions.UndefinedError as exc:
        raise _error(exc, filename, f"template variable is not defined: {exc}",
                     "pass it with --var NAME=VALUE or in a --vars-file") from None
    except jinja2.exceptions.TemplateSyntaxError as exc:
        raise _error(exc, filename, f"template syntax error: {exc.message}", "") from None
    except jinja2.exceptions.TemplateError as exc:
        raise _error(exc, filename, f"template error: {exc}", "") from None
    except (ArithmeticError, TypeError, ValueError, OverflowError) as exc:
        raise _error(exc, filename, f"template error: {type(exc).__name__}: {exc}", "") from None
    if len(rendered.encode("utf-8")) > MAX_RENDERED_BYTES:
        raise ManifestError([Finding(Location(filename), "rendered template is larger than 5 MB",
                                     "check the loops in the template")])
    return rendered


def _error(exc: BaseException, filename: str, message: str, hint: str) -> ManifestError:
    return ManifestError([Finding(Location(filename, _template_line(exc, filename), 1), message, hint)])
