# IntelliFlow CRM: `make run` serves the app, `make test` runs the whole suite.
# Both set up .venv themselves and reinstall the pins only when a requirements file changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Where `make test` looks for PostgreSQL when DATABASE_URL is not set.
PG_FALLBACK_URL ?= postgres://postgres@127.0.0.1:5432/intelliflow
PYTEST_ARGS ?=
# Processes `make test-fast` runs the tests in (pytest-xdist): one per core by default.
TEST_WORKERS ?= auto

.PHONY: run test test-fast test-browser lint format migrate demo-data shell check-observability bench bench-db bench-health bench-threads bench-hostile bench-floor \
	bench-metrics bench-instructions fuzz soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

run migrate demo-data shell check-observability: export DJANGO_DEBUG ?= true

migrate: $(VENV)/.runtime-installed
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py bootstrap_dev --base-url http://$(HOST):$(PORT)
	$(BIN)/gunicorn -c gunicorn.conf.py --bind $(HOST):$(PORT) --reload

demo-data: migrate
	$(BIN)/python manage.py demo_data

shell: $(VENV)/.runtime-installed
	$(BIN)/python manage.py shell

# Does observability really work here? With the same development defaults as `make run`;
# ARGS="--stack" also probes the bundled stack, ARGS="--json" prints JSON.
check-observability: $(VENV)/.runtime-installed
	$(BIN)/python manage.py check_observability $(ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Tests run on PostgreSQL when DATABASE_URL points at it, else on a local server if one answers
# at 127.0.0.1:5432, else on SQLite (PostgreSQL-only tests are then skipped and listed loudly).
# The browser tests (tests/browser) run when Chromium is at BROWSER_CHROMIUM (default
# /usr/bin/chromium), else they are skipped and listed loudly; they need PostgreSQL too.
# Both test targets start with TEST_PREAMBLE: it picks the database and says what will run.
TEST_PREAMBLE = if [ -z "$$DATABASE_URL" ] && $(BIN)/python -c "import psycopg; \
	psycopg.connect('$(PG_FALLBACK_URL)'.rsplit('/', 1)[0] + '/postgres', connect_timeout=2).close()" \
	2>/dev/null; then \
	export DATABASE_URL='$(PG_FALLBACK_URL)'; \
fi; \
echo "make $@: database is $${DATABASE_URL:-SQLite (no DATABASE_URL, no local PostgreSQL)}"; \
chromium="$${BROWSER_CHROMIUM:-/usr/bin/chromium}"; \
if [ -x "$$chromium" ]; then echo "make $@: browser tests with $$chromium"; \
else echo "make $@: browser tests SKIPPED, no Chromium at $$chromium"; fi

test: lint
	@$(TEST_PREAMBLE); \
	DJANGO_SECRET_KEY=test-only-secret-key $(BIN)/pytest $(PYTEST_ARGS)

# The unit tests alone, for the edit-test loop and the pre-push hook (.pre-commit-config.yaml),
# in under half a minute: every test but those marked `slow`, so no gunicorn, no socket server,
# no subprocess (settings loads, manage.py, promtool), no fuzzer, no browser. tests/conftest.py
# marks as slow tests/reliability, tests/browser, tests/monitoring, tests/deploy and every test
# elsewhere that reaches one of those; `make test` runs them all. No lint either (pre-commit
# runs ruff on commit). On SQLite unless DATABASE_URL is set: no probe for a local PostgreSQL,
# and the PostgreSQL-only tests are skipped and listed loudly.
test-fast: $(VENV)/.dev-installed
	@echo "make $@: database is $${DATABASE_URL:-SQLite (DATABASE_URL not set)}"; \
	DJANGO_SECRET_KEY=test-only-secret-key $(BIN)/pytest -m "not slow" -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The browser tests alone: gunicorn with production settings and collected static files, driven
# by headless Chromium; screenshots in BROWSER_SCREENSHOTS (default build/browser-screenshots/).
test-browser: $(VENV)/.dev-installed
	@$(TEST_PREAMBLE); \
	DJANGO_SECRET_KEY=test-only-secret-key $(BIN)/pytest tests/browser $(PYTEST_ARGS)

# What observability costs: off / production / 100 % sampling / bare WSGI (PostgreSQL and wrk).
# Then the API against its floor: the same SQL on a raw cursor and JSON by hand, in one process.
bench: $(VENV)/.runtime-installed
	$(BIN)/python -m bench.observability --rounds 6 --seconds 4
	$(BIN)/python -m bench.floor --rounds 7 --requests 200

bench-floor: $(VENV)/.runtime-installed
	$(BIN)/python -m bench.floor --rounds 7 --requests 200

# Pool vs persistent vs per-request connections under gunicorn (needs PostgreSQL and wrk).
bench-db: $(VENV)/.runtime-installed
	$(BIN)/python -m bench.db_connections --rounds 3 --seconds 8

# Probe latency (ping, alive, ready, check) under load (needs PostgreSQL and wrk).
bench-health: $(VENV)/.runtime-installed
	$(BIN)/python -m bench.health_probes --rounds 3 --seconds 6

# gunicorn sync workers vs threads per worker, production configuration (PostgreSQL and wrk).
bench-threads: $(VENV)/.runtime-installed
	$(BIN)/python -m bench.threads --rounds 3 --seconds 6

# Probe latency under slow clients, long exports and a password flood; BEFORE=REV serves an
# earlier commit beside this tree (PostgreSQL).
bench-hostile: $(VENV)/.runtime-installed
	$(BIN)/python -m bench.hostile --rounds 2 --seconds 6 $(if $(BEFORE),--before $(BEFORE))

# /metrics scrape time at start vs after a 60 s soak with worker recycling (PostgreSQL and wrk).
bench-metrics: $(VENV)/.runtime-installed
	$(BIN)/python -m bench.metrics_soak --seconds 60 --max-requests 100

# The cost of each observability piece in CPU instructions per request, under valgrind's
# callgrind: deterministic where wrk's throughput drifts (needs PostgreSQL and valgrind).
bench-instructions: $(VENV)/.runtime-installed
	$(BIN)/python -m bench.instructions --requests 40

# Reliability, longer than CI runs it (tests/reliability; PostgreSQL as for `make test`).
# A randomised fuzzing session: schemathesis' coverage phase too, many examples per operation,
# and the Hypothesis property tests with their thorough profile. Minutes, not seconds.
fuzz: $(VENV)/.dev-installed
	DATABASE_URL=$${DATABASE_URL:-$(PG_FALLBACK_URL)} DJANGO_SECRET_KEY=test-only-secret-key \
	FUZZ_PHASES=examples,coverage,fuzzing FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-300} \
	FUZZ_SEED=$${FUZZ_SEED:-random} HYPOTHESIS_PROFILE=thorough \
	$(BIN)/pytest tests/reliability/test_fuzz.py tests/reliability/test_properties.py $(PYTEST_ARGS)

# The soak test for a full minute (CI runs 20 s); prints requests, rps, p95, 5xx, lost writes.
soak: $(VENV)/.dev-installed
	DATABASE_URL=$${DATABASE_URL:-$(PG_FALLBACK_URL)} DJANGO_SECRET_KEY=test-only-secret-key \
	SOAK_SECONDS=$${SOAK_SECONDS:-60} $(BIN)/pytest tests/reliability/test_soak.py $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
