"""Run things the way users do, and measure them: `provisioner sandbox serve` in its own process, the
`provisioner` command in its own process at its defaults, and the calls each org received.

A benchmark step is measured as: API calls by route (the sandbox's GET /__sandbox/stats, before and
after), wall time, the step's own CPU time (``os.wait4``'s rusage of that child) and peak resident memory
(:class:`PeakMemory`), and the sandbox process's CPU time over the step (from /proc). Nothing here imports provisioner.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import requests

REPO = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def provisioner_command() -> list[str]:
    """The installed console script beside this Python, else ``python -m provisioner.cli``."""
    script = Path(sys.executable).with_name("provisioner")
    return [str(script)] if script.exists() else [sys.executable, "-m", "provisioner.cli"]


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class PeakMemory:
    """The peak resident memory of a running child, from its ``VmHWM`` in /proc (sampled every 20 ms until
    :meth:`stop`). Not ``ru_maxrss``: Linux carries a process's high-water mark across ``exec``, so a child
    forked from this (large, after the in-process peers and the generated data) process reports this one's
    size; an ``exec`` starts a new memory map, and ``VmHWM`` is that map's own peak."""

    def __init__(self, pid: int) -> None:
        self.status, self.kb = Path(f"/proc/{pid}/status"), 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while True:
            try:
                found = re.search(r"^VmHWM:\s+(\d+) kB", self.status.read_text(), re.M)
            except OSError:  # the process has ended
                return
            if found:
                self.kb = max(self.kb, int(found.group(1)))
            if self._done.wait(0.02):
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    @property
    def mb(self) -> float:
        return self.kb / 1024


@dataclass
class Step:
    """One measured step."""

    name: str
    sf_calls: int = 0
    mk_calls: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_mb: float = 0.0
    sandbox_cpu_s: float = 0.0
    exit_code: int = 0
    output: str = ""
    by_route: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)  # Marketo's 606/615/607 answers, by code


class SandboxProcess:
    """``provisioner sandbox serve`` in a child process, with its env file, until :meth:`stop`."""

    def __init__(self, folder: Path, latency_ms: float = 0.0, channels: Path | None = None) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.env_file = folder / "sandbox.env"
        args = [*provisioner_command(), "sandbox", "serve", "--env-file", str(self.env_file),
                "--latency-ms", str(latency_ms)]
        if channels:
            args += ["--marketo-channels", str(channels)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=folder)
        lines = []
        while not self.env_file.exists() or not any("Serving" in line for line in lines):
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError("sandbox did not start:\n" + "".join(lines))
            lines.append(line)
        self.env = dict(re.findall(r"^(\w+)=['\"]?(.*?)['\"]?$", self.env_file.read_text(), re.M))
        self.http = requests.Session()
        self.ca = self.env["SF_CA_BUNDLE"]  # passed per request: a session's verify loses to REQUESTS_CA_BUNDLE
        self.urls = {"salesforce": self.env["SF_LOGIN_URL"], "marketo": self.env["MARKETO_ENDPOINT"]}

    def admin(self, target: str, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, self.urls[target] + path, json=body, timeout=60, verify=self.ca)
        response.raise_for_status()
        return response.json() if response.content else None

    def counts(self) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
        """Calls by route per org, and the calls Marketo refused for its limits by code (606 window, 615
        concurrency, 607 quota), from one read of each sandbox's stats."""
        stats = {t: self.admin(t, "GET", "/__sandbox/stats") for t in self.urls}
        return {t: s["calls"]["by_route"] for t, s in stats.items()}, stats["marketo"].get("refused", {})

    def reset_stats(self) -> None:
        for target in self.urls:
            self.admin(target, "DELETE", "/__sandbox/stats")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def measure(self, name: str, run: Callable[[], tuple[int, float, float, str]]) -> Step:
        """Calls, wall, CPU and memory of ``run`` (which returns exit code, CPU s, peak MB, output)."""
        before, refused_before = self.counts()
        sandbox_cpu = process_cpu(self.proc.pid)
        started = time.perf_counter()
        code, cpu, peak, output = run()
        wall = time.perf_counter() - started
        after, refused_after = self.counts()
        routes = {f"{t}:{r}": n - before[t].get(r, 0) for t in after for r, n in after[t].items()
                  if n - before[t].get(r, 0)}
        refused = {c: n - refused_before.get(c, 0) for c, n in refused_after.items() if n - refused_before.get(c, 0)}
        return Step(name, sum(v for k, v in routes.items() if k.startswith("salesforce:")),
                    sum(v for k, v in routes.items() if k.startswith("marketo:")), wall, cpu, peak,
                    process_cpu(self.proc.pid) - sandbox_cpu, code, output, routes, refused)

    def cli(self, name: str, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Step:
        """``provisioner ARGS`` as a user runs it, pointed at this sandbox by its env file."""
        environment = {**os.environ, **self.env, **(env or {})}

        def run() -> tuple[int, float, float, str]:
            proc = subprocess.Popen([*provisioner_command(), *args], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment,
                                    cwd=cwd or self.folder)
            peak = PeakMemory(proc.pid)
            output = proc.stdout.read().decode("utf-8", "replace")
            peak.stop()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_utime + usage.ru_stime, peak.mb, output

        return self.measure(name, run)

    def in_process(self, name: str, work: Callable[[], None]) -> Step:
        """A peer library's run in this process: its CPU is this process's CPU over the call."""
        def run() -> tuple[int, float, float, str]:
            start = time.process_time()
            work()
            return 0, time.process_time() - start, 0.0, ""

        return self.measure(name, run)


def must(step: Step, *allowed: int) -> Step:
    """Stop the benchmark when a step failed: its numbers would mean nothing."""
    if step.exit_code not in (allowed or (0,)):
        raise SystemExit(f"{step.name} exited {step.exit_code}:\n{step.output[-4000:]}")
    return step


def dump(steps: list[Step], path: Path) -> None:
    path.write_text(json.dumps([s.__dict__ for s in steps], indent=1, default=str))
