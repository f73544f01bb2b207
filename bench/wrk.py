"""wrk as the load: one run against a server, its latency percentiles, and the server's CPU per
request over the run (bench/harness.py Server)."""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.harness import Server

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_ms_per_request: float


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency_ms(text: str, percentile: str) -> float:
    value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
    return float(value) * _UNITS[unit]


def load(
    server: "Server",
    path: str,
    *,
    seconds: int,
    connections: int = 4,
    headers: dict | None = None,
    script: Path | None = None,
) -> Sample:
    """Drive `path` with wrk (2 threads on loopback) and read its latency percentiles."""
    header_args = [
        arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")
    ]
    # wrk prints 50/75/90/99 by default; a tiny Lua report adds the 95th.
    script = script or ROOT / "bench" / "percentiles.lua"
    cpu_before = server.cpu_seconds()
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            *header_args,
            f"http://127.0.0.1:{server.port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    cpu = server.cpu_seconds() - cpu_before
    out = result.stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{path}: {errors.group(1)} error responses\n{out}")
    return Sample(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=_latency_ms(out, "50"),
        p95_ms=float(re.search(r"^p95_ms ([\d.]+)$", out, re.M).group(1)),
        p99_ms=_latency_ms(out, "99"),
        cpu_ms_per_request=cpu * 1000 / requests,
    )
