"""Production serving: `gunicorn -c gunicorn.conf.py` (the Makefile's `run` uses it too).

Every value can be overridden from the environment; gunicorn's own WEB_CONCURRENCY and
GUNICORN_CMD_ARGS work as usual.
"""

import multiprocessing
import os

wsgi_app = "intelliflow.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers, one per core by default; the benchmark (issue 8) revisits workers and threads.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
keepalive = 5

# Recycle workers now and then so a slow leak cannot grow forever; jitter avoids a herd.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))

# The app writes its own access line; gunicorn's would be a second, unstructured copy.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# gunicorn 27 opens a control socket under $HOME by default; we neither need nor want one.
control_socket_disable = True
