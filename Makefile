# ecs-scheduler: every developer and CI entry point.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install lint unit e2e test demo crds image clean

$(BIN)/ecs-scheduler: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/ecs-scheduler  ## create .venv with the operator and its dev tools

lint: install  ## ruff, mypy strict on the package, import-linter layers
	$(BIN)/ruff check operator tests scripts
	$(BIN)/ruff format --check operator tests scripts
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
	cp crds/scheduledecsjobs.ecs-scheduler.dev.yaml helm/ecs-scheduler/crds/

IMAGE ?= ecs-scheduler:dev
image:  ## build the container image (needs a Docker engine): make image IMAGE=registry/ecs-scheduler:tag
	docker build -t $(IMAGE) .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist operator/*.egg-info
