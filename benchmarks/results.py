"""Shared plumbing for the benchmark scripts: the machine's description and RESULTS.md sections.

Each benchmark owns one section of ``benchmarks/RESULTS.md`` between HTML comment markers and
rewrites only that section, so scripts can be run in any order without erasing each other.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
from pathlib import Path

import torch

from srmri.io.atomic import write_text_atomic

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "# Benchmark results\n\nEvery figure here was printed by a script in `benchmarks/`; rerun it to refresh its section.\n"


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, or the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_info() -> dict[str, str]:
    """What a figure was measured on: date, CPU, cores, threads, torch and GPU."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return {
        "date": dt.date.today().isoformat(),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "threads": str(torch.get_num_threads()),
        "torch": torch.__version__,
        "gpu": gpu,
    }


def machine_line(info: dict[str, str] | None = None) -> str:
    info = info or machine_info()
    return (
        f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores, torch threads: "
        f"{info['threads']}), torch {info['torch']}, GPU: {info['gpu']}."
    )


def shown_path(reference: str | Path) -> str:
    """A model reference as RESULTS.md shows it: a registered name as it is, a file inside the
    repository relative to it, any other file by its run folder and name only (where a machine
    keeps its runs is not part of a figure)."""
    path = Path(reference)
    if len(path.parts) <= 1:
        return str(reference)
    root = Path(__file__).resolve().parents[1]
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(Path("<runs>", *path.parts[-4:]))


def peak_memory_bytes() -> int:
    """This process's peak resident memory since it started its program, in bytes.

    ``VmHWM`` of ``/proc/self/status`` (Linux): the high-water mark of the process's own address
    space, which ``execve`` replaces. Not ``getrusage(...).ru_maxrss``: Linux carries that across
    ``execve``, so a child started by a large parent (``subprocess`` forks it first) reports the
    parent's resident memory as its own peak. Elsewhere ``ru_maxrss`` is the fallback.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    import resource

    scale = 1 if platform.system() == "Darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def load_line(start: float, end: float) -> str:
    """The 1-minute load average at a benchmark's start and end, on this machine's cores."""
    return (
        f"Load average (1 min) at the start: {start:.1f}, at the end: {end:.1f}, on "
        f"{os.cpu_count()} cores."
    )


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def update_section(name: str, title: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section ``name`` of RESULTS.md, written atomically."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n## {title}\n\n{body.strip()}\n{end}"
    text = path.read_text() if path.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block + "\n"
    )
    write_text_atomic(path, text)
