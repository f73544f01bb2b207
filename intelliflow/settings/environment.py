"""The one reader of the environment: `env` (django-environ), shared by the settings modules.

Each variable is read once, in the settings module of its area, with its default and its
meaning beside it. Outside this package only gunicorn.conf.py (gunicorn's own configuration),
manage.py and observability/multiprocess.py touch the environment; tests/test_docs.py keeps it
so, and checks docs/configuration.md against the variables read here.
"""

import environ

env = environ.Env()
