# `make run` starts everything; `make test` runs the whole suite. Both set up first:
# the virtualenv, the Python packages, and ffmpeg and redis-server where missing.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help setup test-setup system port redis run worker autoscale flower test lint format clean bench faults fuzz mutants bytecode

help:
	@echo "make run     set up, then start Redis (if none answers), one worker and the web app"
	@echo "make worker  start one more worker against the same Redis and storage (QUEUES=parts: encodes only)"
	@echo "make autoscale  workers on this machine follow the queue (MAX=4 PER_WORKER=2)"
	@echo "make flower  Celery's monitor on http://127.0.0.1:5555/ (FLOWER_PORT=...)"
	@echo "make test    set up, then run the whole test suite"
	@echo "make faults  the fault trials, 20 runs each on Redis, RabbitMQ and SQS, with a table of counts (into docs/reliability.md)"
	@echo "make fuzz    every parser of client input fed 20,000 hostile values (make test: 1,000)"
	@echo "make mutants each guarantee's mechanism switched off in turn: its trials and tests must fail; mutmut over the pure modules"
	@echo "make bench   footage against encodes by hand (wall, CPU by phase, outputs); 1, 2, 4 workers; /healthz while encoding; live streams; each broker's round trip"
	@echo "make lint    ruff check and format check; mypy over the core (transcoder/)"

# `make run` needs only the service's packages; the suites and tools add the test extras.
setup: system $(VENV)/.installed

test-setup: setup $(VENV)/.tested

system:
	@infra/setup-system.sh

$(VENV)/.installed: pyproject.toml
	@echo "Installing the service's Python packages into $(VENV) (log: var/log/setup.log)"
	@mkdir -p var/log
	@{ python3 -m venv $(VENV) && $(BIN)/pip install --upgrade pip && $(BIN)/pip install -e .; } \
	  >var/log/setup.log 2>&1 || { tail -n 20 var/log/setup.log; exit 1; }
	@touch $@

$(VENV)/.tested: $(VENV)/.installed pyproject.toml
	@echo "Installing the test extras into $(VENV) (log: var/log/setup.log)"
	@$(BIN)/pip install -e '.[test]' >>var/log/setup.log 2>&1 || { tail -n 20 var/log/setup.log; exit 1; }
	@touch $@

redis: system
	@infra/ensure-redis.sh

# The port is checked first, so a taken one stops `make run` before anything is installed or started.
port:
	@infra/check-port.sh

run: port setup
	@infra/run.sh

# QUEUES=parts gives a machine only encoding work; QUEUES=finalize only the short closing tasks.
QUEUES ?= parts,finalize

worker: setup redis
	$(BIN)/celery -A tasks worker --loglevel INFO --queues "$(QUEUES)" --hostname "worker-$$$$@%h"

MIN ?= 1
MAX ?= 4
PER_WORKER ?= 2

autoscale: setup redis
	$(BIN)/transcoder autoscale --min $(MIN) --max $(MAX) --per-worker $(PER_WORKER)

FLOWER_PORT ?= 5555

flower: setup redis
	$(BIN)/celery -A tasks flower --address=127.0.0.1 --port=$(FLOWER_PORT)

# The suite runs in lanes side by side, each test file whole in one (tests/support/lanes.py).
LANES ?= 3

test: test-setup redis lint bytecode
	@infra/setup-system.sh chromium iproute2 postgresql rabbitmq-server
	@infra/ensure-postgres.sh
	@infra/ensure-rabbitmq.sh
	$(BIN)/pytest -n $(LANES) --dist loadfile

lint: $(VENV)/.tested
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.tested
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Where PYTHONDONTWRITEBYTECODE is set, Python compiles our modules again in every process
# a run starts (each worker, web app, CLI call and nested pytest: a quarter of a second
# each); they are compiled once here instead, and a changed file is still read afresh.
bytecode: $(VENV)/.installed
	@$(BIN)/python -m compileall -q transcoder web tasks tests >/dev/null

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# Writes its table of counts into docs/reliability.md.
faults: test-setup redis bytecode
	@infra/setup-system.sh postgresql rabbitmq-server
	@infra/ensure-postgres.sh
	@infra/ensure-rabbitmq.sh
	TRANSCODER_FAULT_TRIALS=20 TRANSCODER_FAULT_BROKERS=redis,rabbitmq,sqs TRANSCODER_FAULTS_WRITE_DOCS=1 \
	  $(BIN)/pytest tests/faults/test_faults.py tests/faults/test_catalog_faults.py

# Twenty times the hostile values `make test` sends to every parser of client input.
fuzz: test-setup redis bytecode
	TRANSCODER_FUZZ_EXAMPLES=20000 $(BIN)/pytest tests/integration/test_fuzz.py

# Every mechanism switched off in turn must be caught (table in docs/reliability.md); then
# mutmut over each pure module against its own unit tests (table in docs/testing.md).
mutants: test-setup redis bytecode
	$(BIN)/python -m tests.mutants.run --write-docs
	$(BIN)/python -m tests.mutants.pure --write-docs

bench: test-setup redis bytecode
	@infra/setup-system.sh postgresql rabbitmq-server
	@infra/ensure-postgres.sh
	@infra/ensure-rabbitmq.sh
	$(BIN)/python -m tests.bench.pipeline
	$(BIN)/python -m tests.bench.scaling
	$(BIN)/python -m tests.bench.responsive
	$(BIN)/python -m tests.bench.streams
	$(BIN)/python -m tests.bench.sign_in_flood
	$(BIN)/python -m tests.bench.library
	$(BIN)/python -m tests.bench.brokers
	$(BIN)/python -m tests.bench.uploads
