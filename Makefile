# ecs-scheduler: every developer and CI entry point.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install lint unit e2e test demo crds lock image bench reliability clean

# The runtime dependencies are installed at the versions the image gets (requirements.lock).
$(BIN)/ecs-scheduler: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

install: $(BIN)/ecs-scheduler  ## create .venv with the operator and its dev tools

lint: install  ## ruff, mypy strict on the package, import-linter layers
	$(BIN)/ruff check operator tests scripts bench
	$(BIN)/ruff format --check operator tests scripts bench
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install  ## pure and table tests
	$(BIN)/pytest -q tests/unit $(PYTEST_ARGS)

e2e: install  ## operator subprocess + API server + moto server over HTTP
	$(BIN)/pytest -q tests/e2e $(PYTEST_ARGS)

test: lint  ## lint, unit and e2e tests
	$(BIN)/pytest -q tests $(PYTEST_ARGS)

demo: install  ## run the operator locally against moto and a test API server, with a live view
	$(BIN)/python scripts/demo.py

crds: install  ## regenerate crds/ (and the chart's copy) from the pydantic model
	$(BIN)/ecs-scheduler crd > crds/scheduledecsjobs.ecs-scheduler.dev.yaml
	$(BIN)/ecs-scheduler crd --kind run > crds/scheduledecsjobruns.ecs-scheduler.dev.yaml
	cp crds/*.yaml helm/ecs-scheduler/crds/

bench: install  ## benchmarks (about 60 min; set KUBEBUILDER_ASSETS for a real API server): docs/performance.md inputs
	$(BIN)/python -m bench.run --out docs
	$(BIN)/python -m bench.fullpath --jobs 1000 10000 --window 300 --out docs
	$(BIN)/python -m bench.patch_cost --jobs 1000 --rounds 5 --out docs
	$(BIN)/python -m bench.ratelimit --burst 600 5000 --sustain 300 --shrink-after 150 \
		--burst-under-load 2000 --overload 5000 --overload-minutes 5 --out docs
	$(BIN)/python -m bench.assume_role --jobs 100 --hours 3 --out docs
	$(BIN)/python -m bench.task_events --jobs 200 --out docs
	$(BIN)/python -m bench.backfill --jobs 1000 --instants 500 --parallelism 20 --window 60 --out docs

reliability: install  ## the full reliability suite (about 15 min): docs/reliability.md
	rm -f docs/reliability-results.json
	ECS_SCHEDULER_RELIABILITY_KILLS=100 ECS_SCHEDULER_RELIABILITY_OUTAGE=60 \
	ECS_SCHEDULER_RELIABILITY_FAULT_SECONDS=60 ECS_SCHEDULER_RELIABILITY_FUZZ=10000 \
	ECS_SCHEDULER_RELIABILITY_REPORT=$(CURDIR)/docs/reliability-results.json \
	$(BIN)/pytest -q -m reliability tests
	$(BIN)/python -m bench.reliability_report docs/reliability-results.json docs/reliability.md

lock: install  ## re-pin the runtime dependencies (requirements.lock) after changing pyproject.toml
	$(BIN)/python scripts/lock.py

IMAGE ?= ecs-scheduler:dev
BUILD ?= docker build
image:  ## build the container image: make image IMAGE=registry/ecs-scheduler:tag [BUILD="buildah bud"]
	$(BUILD) -t $(IMAGE) .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist operator/*.egg-info
