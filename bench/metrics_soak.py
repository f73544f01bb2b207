"""Does /metrics stay as cheap after a soak with worker recycling as it was at start?

    .venv/bin/python -m bench.metrics_soak [--seconds 60] [--max-requests 100] [--scrapes 40]

gunicorn runs the production configuration (multiprocess metrics) with 2 workers recycled
every ~max-requests requests. /metrics is scraped `--scrapes` times one after another
(median and p95 of the client-side time) right after start-up and warm-up, then again after
`--seconds` of API load (list, retrieve and create in turn) that makes the workers recycle
many times. Reported: both timings, their ratio (issue 8: ≤ 1.5), the number of files in
the multiprocess directory and the size of the exposition.
"""

import argparse
import json
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from bench import harness, observability, wrk

ROOT = Path(__file__).resolve().parent.parent
TOKEN_HEADER = {"Authorization": "Bearer bench-token"}


def scrape_times(port: int, scrapes: int) -> tuple[float, float, int]:
    times, size = [], 0
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers=TOKEN_HEADER)
    for _ in range(scrapes):
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as response:
            size = len(response.read())
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--max-requests", type=int, default=100)
    parser.add_argument("--scrapes", type=int, default=40)
    args = parser.parse_args()

    token = harness.prepare_database()
    api = {"Authorization": f"Token {token}"}
    lead_id = harness.some_lead_id()
    env = observability.configurations(observability.start_sink())["production"]
    with tempfile.TemporaryDirectory(prefix="metrics-soak-") as directory:
        env = {**env, "PROMETHEUS_MULTIPROC_DIR": directory}
        with harness.serve(
            env, ready_path="/health/ping", max_requests=args.max_requests
        ) as server:
            rounds = [
                ("/api/v1/leads/?page_size=50", None),
                (f"/api/v1/leads/{lead_id}/", None),
                ("/api/v1/leads/", observability.CREATE_SCRIPT),
            ]
            # Warm-up on every endpoint of the soak, so the start scrape already holds the
            # series the soak's traffic makes: what is compared is the recycling, not new labels.
            for path, script in rounds:
                wrk.load(server, path, seconds=2, headers=api, script=script)
            scrape_times(server.port, 10)  # both workers' first scrapes import code
            start = scrape_times(server.port, args.scrapes)
            files_start = len(list(Path(directory).glob("*.db")))
            served = 0
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                for path, script in rounds:
                    seconds = max(1, min(5, int(deadline - time.monotonic())))
                    sample = wrk.load(server, path, seconds=seconds, headers=api, script=script)
                    served += int(sample.rps * seconds)
            end = scrape_times(server.port, args.scrapes)
            files_end = len(list(Path(directory).glob("*.db")))
    report = {
        "seconds": args.seconds,
        "max_requests": args.max_requests,
        "requests_served": served,
        "worker_recycles_about": served // args.max_requests,
        "start": {"median_ms": start[0], "p95_ms": start[1], "bytes": start[2],
                  "files": files_start},
        "end": {"median_ms": end[0], "p95_ms": end[1], "bytes": end[2], "files": files_end},
        "median_ratio": end[0] / start[0],
        "p95_ratio": end[1] / start[1],
    }  # fmt: skip
    print(json.dumps(report, indent=1))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "metrics_soak.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
