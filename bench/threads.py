"""gunicorn sync workers vs threaded (gthread) workers, production configuration.

    .venv/bin/python -m bench.threads [--rounds 3] [--seconds 6] [--connections 4]

The question gunicorn.conf.py's `threads` answers: with 2 workers on 2 cores, do threads
per worker buy throughput or latency on the lead endpoints, or only cost? Same rotation,
warm-up and pairwise ratios as `make bench` (baseline: 1 thread, i.e. the sync worker).
"""

from bench import harness
from bench.observability import CREATE_SCRIPT, configurations, start_sink


def main() -> None:
    args = harness.comparison_arguments(__doc__, threads=(int, [1, 2, 4]))
    endpoints = harness.lead_endpoints(harness.prepare_database(), CREATE_SCRIPT)
    production = configurations(start_sink())["production"]
    configs = {
        f"threads={n}": harness.Configuration({**production, "GUNICORN_THREADS": str(n)})
        for n in args.threads
    }
    harness.compare(
        configs,
        endpoints,
        args,
        baseline=f"threads={args.threads[0]}",
        name=f"threads-c{args.connections}",
    )


if __name__ == "__main__":
    main()
