"""Drain on SIGTERM: keep serving for a while but report not-ready, then exit as usual.

Kubernetes (or any load balancer) stops routing to a pod whose readiness fails; a worker that
exited at once would drop the requests still on their way. gunicorn.conf.py installs this
in every worker (`post_worker_init`); the master's own SIGTERM handling is unchanged.
"""

import os
import signal
import threading

_draining = threading.Event()


def is_draining() -> bool:
    return _draining.is_set()


def install(exit_handler, *, drain_seconds: float) -> None:
    """On the first SIGTERM: start draining; after `drain_seconds` (or on a second SIGTERM)
    hand over to `exit_handler`, the worker's own SIGTERM handler."""

    def on_sigterm(signum, frame):
        if _draining.is_set():
            exit_handler(signum, frame)
            return
        _draining.set()
        # Re-deliver the signal rather than calling the handler from the timer thread: the
        # signal also wakes the worker's select() (gunicorn's wakeup fd), so it exits at once.
        timer = threading.Timer(drain_seconds, os.kill, args=(os.getpid(), signum))
        timer.daemon = True
        timer.start()

    signal.signal(signal.SIGTERM, on_sigterm)
