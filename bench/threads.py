"""gunicorn sync workers vs threaded (gthread) workers, production configuration.

    .venv/bin/python -m bench.threads [--rounds 3] [--seconds 6] [--connections 4]

What gunicorn.conf.py's gthread worker with 8 threads costs on the lead endpoints against the
sync worker it replaced (2 workers on 2 cores, 4 keep-alive clients): same rotation, warm-up and
pairwise ratios as `make bench`. The sync worker is chosen through gunicorn's own
GUNICORN_CMD_ARGS, which overrides the configuration file.
"""

from bench import harness
from bench.observability import CREATE_SCRIPT, configurations, start_sink


def main() -> None:
    args = harness.comparison_arguments(__doc__, threads=(int, [4, 8]))
    endpoints = harness.lead_endpoints(harness.prepare_database(), CREATE_SCRIPT)
    production = configurations(start_sink())["production"]
    configs = {
        "sync": harness.Configuration(
            {**production, "GUNICORN_CMD_ARGS": "--worker-class sync --threads 1"}
        ),
        **{
            f"gthread, {n} threads": harness.Configuration(
                {**production, "GUNICORN_THREADS": str(n)}
            )
            for n in args.threads
        },
    }
    harness.compare(configs, endpoints, args, baseline="sync", name=f"threads-c{args.connections}")


if __name__ == "__main__":
    main()
