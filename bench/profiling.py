"""``--profile``: py-spy on the pinned API process during one extra measured window.

    .venv/bin/python bench/profiling.py FILE.speedscope.json   # summarise a recording again

Two samplers run side by side in ``--nonblocking`` mode (they never pause the
server; a torn stack now and then is the price): one writes a speedscope
file, the other an SVG flamegraph, both under bench/results/. Idle time
(the event loop waiting) is left out, so the shares are of busy time.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import benchlib
from benchlib import note
from scenarios import Server, Window, run, warm_up
from stack import Cores

PY_SPY = Path(sys.executable).with_name("py-spy")
RESULTS = benchlib.BENCH / "results"
RATE = 200
"""Samples a second: enough for the top functions of a 10 s run, cheap on the load core."""


def record(
    server: Server, scenario: str, warmup: float, seconds: float, cores: Cores, workdir: Path
) -> tuple[Window, str]:
    """Warm up, then one measured run under py-spy; returns it and the printed summary."""
    if not PY_SPY.exists():
        raise SystemExit(f"py-spy is missing ({PY_SPY}): run `python3 dev.py bench`")
    warm_up(server, scenario, warmup, seconds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    base = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{server.name}-{scenario}"
    outputs = {
        "speedscope": base.with_suffix(".speedscope.json"),
        "flamegraph": base.with_suffix(".svg"),
    }
    samplers = []
    for fmt, output in outputs.items():
        command = [str(PY_SPY), "record", "--pid", str(server.api.pgid), "--rate", str(RATE)]
        command += ["--subprocesses"]  # the app runs in Granian's worker, a child process
        command += ["--nonblocking", "--duration", str(round(seconds)), "--format", fmt]
        command += ["--output", str(output)]
        log = workdir / f"py-spy-{fmt}.log"
        samplers.append(
            benchlib.start_process(cores.pin(cores.load, command), os.environ, workdir, log)
        )
    try:
        measure = run(server, scenario, seconds)
        for sampler in samplers:
            sampler.wait(timeout=60)
    finally:
        for sampler in samplers:
            benchlib.stop_process(sampler)
    for fmt, output in outputs.items():
        if not output.exists():
            log = (workdir / f"py-spy-{fmt}.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"py-spy wrote no {fmt} file:\n{log}")
    note(f"profile: {outputs['speedscope']} (speedscope.app opens it), {outputs['flamegraph']}")
    result = Window(-1, server.name, scenario, measure, profiled=True)
    files = "\n".join(f"- {path.relative_to(benchlib.ROOT)}" for path in outputs.values())
    return result, f"{files}\n\n{summarise(outputs['speedscope'])}"


def short(file: str) -> str:
    """``…/site-packages/litestar/app.py`` -> ``litestar/app.py``; stdlib ``asyncio/…``."""
    for marker in ("/site-packages/", "/src/", "/lib/python3."):
        if marker in file:
            tail = file.rsplit(marker, 1)[1]
            return tail.split("/", 1)[1] if marker == "/lib/python3." else tail
    return file


def package(file: str) -> str:
    """Where the time goes: ``litestar``, ``asyncio``, ``referrals/adapters``."""
    parts = short(file).split("/")
    if parts[0] == "referrals" and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0].removesuffix(".py")


def summarise(path: Path, top: int = 15) -> str:
    """Top functions by own time, and own time by package, from a speedscope file."""
    data = json.loads(path.read_text())
    frames = data["shared"]["frames"]
    own: Counter[tuple[str, str]] = Counter()
    packages: Counter[str] = Counter()
    for profile in data["profiles"]:
        for sample in profile["samples"]:
            # With --subprocesses each stack starts at a frame naming its process
            # (no file): a stack of that frame alone is a thread with no Python
            # running (Granian's own threads), so not busy in Python.
            stack = [i for i in sample if frames[i].get("file")]
            if stack:  # speedscope lists a stack from the root to the leaf
                leaf = frames[stack[-1]]
                own[leaf["name"], short(leaf.get("file", ""))] += 1
                packages[package(leaf.get("file", ""))] += 1
    total = sum(packages.values())
    if not total:
        return "py-spy recorded no busy samples"
    lines = [f"Own time (the innermost Python frame), {total:,} busy samples:", ""]
    lines += ["| own | function | file |", "|---:|---|---|"]
    lines += [f"| {n / total:.1%} | {name} | {file} |" for (name, file), n in own.most_common(top)]
    lines += ["", "| own | package |", "|---:|---|"]
    lines += [f"| {n / total:.1%} | {name} |" for name, n in packages.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        print(f"{argument}\n\n{summarise(Path(argument))}\n")
