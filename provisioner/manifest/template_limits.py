"""A sandboxed Jinja environment whose renders are bounded in time, loop iterations, call depth and size.

A template is code someone else may have written. Jinja's sandbox keeps it away from Python's
internals, but not from ``{{ 'x' * 10**9 }}``, a loop inside a loop inside a loop, or a macro
that calls itself: those hang at gigabytes or end in a RecursionError. Here every loop iteration,
every call and every operator that can make a large value is counted and checked against
:class:`Limits`; exceeding one raises :class:`TemplateLimitError` at the template line it happened
on, long before memory or the interpreter's stack run out.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import SandboxedEnvironment


@dataclass(frozen=True)
class Limits:
    """What one render may use."""

    output_chars: int = 5 * 1024 * 1024  # the rendered text (a manifest, not a data dump)
    value_chars: int = 5 * 1024 * 1024  # any one string or list the template builds
    iterations: int = 200_000  # loop iterations, all loops of the render together
    call_depth: int = 40  # nested calls: a macro calling itself
    seconds: float = 2.0  # wall time of the render


class TemplateLimitError(jinja2.exceptions.TemplateError):
    """A render went over one of its limits; the message says which and by how much."""


#: A %-format or str.format width/precision of a million characters or more (or one taken from the arguments).
_WIDTH = re.compile(r"%[-#0 +]*(?:\d{7,}|\*)|%[-#0 +]*\d*\.(?:\d{7,}|\*)|\{[^{}]*:[^{}]*(?:\d{7,}|\{)")
#: Callables whose integer argument is the size of the value they make.
_SIZED = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "do_center", "do_indent"})
#: Callables that join their first argument's items into one text.
_JOINS = frozenset({"join", "do_join", "sync_do_join"})
#: Format calls: the format string is the bound str, or the filter's first argument.
_FORMATS = frozenset({"format", "format_map", "do_format"})
#: The callables :func:`_check_arguments` looks at; it lets every other one through.
_CHECKS_ARGUMENTS = _SIZED | _JOINS | _FORMATS


class _Budget:
    """What the current render has used (one per thread: renders do not share budgets)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.iterations = 0
        self.depth = 0
        self.deadline = time.monotonic() + limits.seconds

    def tick(self) -> None:
        self.iterations += 1
        if self.iterations > self.limits.iterations:
            raise TemplateLimitError(f"the template's loops ran more than {self.limits.iterations:,} iterations")
        if self.iterations % 256 == 0:
            self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(f"rendering took longer than {self.limits.seconds:g} s")

    def check_size(self, value: Any, what: str = "a value") -> Any:
        size = len(value) if isinstance(value, (str, bytes, list, tuple)) else 0
        if size > self.limits.value_chars:
            unit = "characters" if isinstance(value, str) else "items"
            raise TemplateLimitError(f"{what} of {size:,} {unit} is larger than the limit of "
                                     f"{self.limits.value_chars:,}")
        return value

    def check_planned(self, size: float, what: str) -> None:
        """Refuse an operation whose result would be ``size`` long, before it is made."""
        if size > self.limits.value_chars:
            raise TemplateLimitError(f"{what} would make a value of {size:,.0f} items; the limit is "
                                     f"{self.limits.value_chars:,}")


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with every for loop's iterable and every ``~`` concatenation routed
    through the environment's checks (Jinja allows no custom node types, so the visit is wrapped)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loop_iterables: set[int] = set()

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if not node.recursive:
            self._loop_iterables.add(id(node.iter))
        super().visit_For(node, frame)

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        if id(node) in self._loop_iterables:
            self.write("environment.bounded_iter(")
            result = super().visit(node, *args, **kwargs)
            self.write(")")
            return result
        return super().visit(node, *args, **kwargs)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_value(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedEnvironment(SandboxedEnvironment):
    """SandboxedEnvironment plus :class:`Limits` on every render made with :meth:`render`."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset(["*", "**", "+", "%"])

    def __init__(self, limits: Limits | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.limits = limits or Limits()
        self._local = threading.local()
        self.filters = {name: self._bounded_filter(f) for name, f in self.filters.items()}

    # -- the budget of the render in progress ------------------------------------------------
    def _budget(self) -> _Budget:
        budget = getattr(self._local, "budget", None)
        # A render outside render() (template.render): each loop and call is still bounded on its own.
        return budget if budget is not None else _Budget(self.limits)

    def render(self, template: jinja2.Template, variables: dict[str, Any]) -> str:
        """Render ``template`` within the limits; the output is checked as it is produced.

        Errors keep Jinja's template line numbers (``handle_exception``); going over the output
        limit is reported at the line whose output crossed it.
        """
        self._local.budget = budget = _Budget(self.limits)
        parts, size = [], 0
        render = template.root_render_func(template.new_context(variables))
        try:
            for part in render:
                size += len(part)
                if size > self.limits.output_chars:
                    raise TemplateLimitError(f"the rendered text is larger than {self.limits.output_chars:,} "
                                             "characters")
                parts.append(part)
                budget.check_time()
        except TemplateLimitError as exc:
            frame = render.gi_frame  # suspended at the output that crossed a limit: its line is the culprit
            if frame is None or getattr(exc, "lineno", None):
                self.handle_exception()  # raised inside the template: Jinja maps the traceback to its lines
            exc.lineno = template.get_corresponding_lineno(frame.f_lineno)  # type: ignore[attr-defined]
            raise
        except Exception:
            self.handle_exception()
        finally:
            self._local.budget = None
        return "".join(parts)

    # -- hooks the compiled template calls ---------------------------------------------------
    def bounded_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        budget = self._budget()
        for item in iterable:
            budget.tick()
            yield item

    def bounded_value(self, value: Any) -> Any:
        budget = self._budget()
        budget.check_time()
        return budget.check_size(value, "a joined text")

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        budget = __self._budget()
        budget.check_time()
        _check_arguments(budget, __obj, args, kwargs)
        if budget.depth >= __self.limits.call_depth:
            raise TemplateLimitError(f"calls are nested more than {__self.limits.call_depth} deep "
                                     "(a macro that calls itself without end?)")
        budget.depth += 1
        try:
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.depth -= 1
        return budget.check_size(result, "a call's result")

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = self._budget()
        budget.check_time()
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int):
                    budget.check_planned(len(seq) * max(n, 0), "repeating a value")
        elif operator == "**" and isinstance(left, (int, float)) and isinstance(right, (int, float)):
            if abs(left) > 1 and right > 0 and right * math.log2(abs(left)) > 4096:
                raise TemplateLimitError(f"{left} ** {right} has more than 4096 bits")
        elif operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            budget.check_planned(len(left) + len(right), "adding two values")
        elif operator == "%" and isinstance(left, str) and _WIDTH.search(left):
            raise TemplateLimitError("a format width of a million characters or more")
        return budget.check_size(super().call_binop(context, operator, left, right), "a value")

    def wrap_str_format(self, value: Any) -> Any:
        """``'…'.format`` as the sandbox wraps it, refused when its format string asks for a huge width."""
        text = getattr(value, "__self__", None)
        if getattr(value, "__name__", "") in _FORMATS and isinstance(text, str) and _WIDTH.search(text):
            raise TemplateLimitError("a format width or precision of a million characters or more (or taken "
                                     "from an argument) is refused")
        return super().wrap_str_format(value)

    def _bounded_filter(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` with its arguments checked before and its result's size after."""
        env = self
        # A filter's name is fixed: only the few that size, format or join look at their arguments
        # (every other filter skipping the look was a fifth of rendering a template per session).
        checks_arguments = getattr(func, "__name__", "") in _CHECKS_ARGUMENTS

        def bounded(*args: Any, **kwargs: Any) -> Any:
            budget = env._budget()
            budget.check_time()
            if checks_arguments:
                _check_arguments(budget, func, args, kwargs)
            return budget.check_size(func(*args, **kwargs), "a filter's result")

        for attr in ("jinja_pass_arg", "__name__", "__doc__"):
            if hasattr(func, attr):
                setattr(bounded, attr, getattr(func, attr))
        return bounded


def _check_arguments(budget: _Budget, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse, before the call, what would build a huge value: ``center(10**9)``, ``ljust``, a format
    width of a million, a join of items adding up past the limit."""
    name = getattr(func, "__name__", "")
    bound = getattr(func, "__self__", None)
    internal = (jinja2.runtime.Context, jinja2.Environment, jinja2.nodes.EvalContext)
    values = [v for v in args if not isinstance(v, internal)] + list(kwargs.values())
    if name in _SIZED:
        for value in values:
            if isinstance(value, int) and not isinstance(value, bool):
                budget.check_planned(abs(value), f"{name.removeprefix('do_')}({value:,})")
    if name in _FORMATS:
        text = bound if isinstance(bound, str) else next((v for v in values if isinstance(v, str)), "")
        if _WIDTH.search(text):
            raise TemplateLimitError("a format width or precision of a million characters or more (or taken "
                                     "from an argument) is refused")
    if name in _JOINS:
        items = bound if isinstance(bound, str) and values else None
        seq = values[0] if values and isinstance(values[0], (list, tuple)) else None
        if seq is not None:
            separator = len(items) if items else 0
            budget.check_planned(sum(len(x) for x in seq if isinstance(x, str)) + separator * len(seq),
                                 "joining the items")
