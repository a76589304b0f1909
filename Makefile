# customer-sync: every command sets itself up (virtualenv + pinned dev dependencies) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= eu-west-1

.PHONY: install demo chaos template test unit integration e2e lint typecheck validate build lock schema openapi bench clean

$(STAMP): requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ## create .venv and install everything pinned

demo: build ## the whole flow on the local stack: moto, simulators, the Lambda emulator running the built artifact
	$(BIN)/custsync demo

chaos: build ## 2,000 changes over 200 customers while vendors, processes and DynamoDB fail; ends with one line of counts
	$(BIN)/custsync chaos

# The suite runs on every core (pytest-xdist): each worker has its own moto server and emulators.
PYTEST_WORKERS ?= auto

test: lint typecheck validate build ## every check CI runs, then the tests (e2e ones on the built artifact)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration

e2e: build
	$(BIN)/python -m pytest tests/e2e

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ruff check --target-version py313 --select E,F,W,PLE layers/shared functions devkit/stack/lambda_bootstrap.py

typecheck: $(STAMP) ## mypy strict; what deploys is checked for python3.13 (the Lambda runtime) too
	$(BIN)/mypy layers/shared/custsync layers/shared/compile_layer.py layers/shared/routing_json.py functions devkit tests benchmarks
	$(BIN)/mypy --python-version 3.13 layers/shared/custsync layers/shared/compile_layer.py layers/shared/routing_json.py functions devkit/stack/lambda_bootstrap.py

template: $(STAMP) ## template.yaml's per-vendor parts (from vendors.yaml and functions/<vendor>/vendor.yaml), then openapi.yaml
	$(BIN)/python -m devkit.vendors
	$(BIN)/python -m devkit.openapi

validate: $(STAMP) ## sam validate --lint (cfn-lint)
	$(BIN)/sam validate --lint

# The local runtime's Python: the Lambda runtime's minor version (3.13) where this machine has one, else this one.
LOCAL_PYTHON = $(or $(shell $(MAKE) -s --no-print-directory -C layers/shared lambda-python),$(CURDIR)/$(BIN)/python)

build: $(STAMP) ## sam build (the layer for python3.13/arm64, no Docker), the same layer for this machine, the local runtime
	$(BIN)/sam build
	$(eval PYTHON_HERE := $(LOCAL_PYTHON))
	$(MAKE) --no-print-directory -C layers/shared build-SharedLayer PLATFORM=local \
		ARTIFACTS_DIR=$(CURDIR)/.aws-sam/local/SharedLayer PYTHON=$(PYTHON_HERE)
	$(BIN)/python -m devkit.stack.artifact --python $(PYTHON_HERE)

lock: $(STAMP) ## layers/shared/requirements.in -> the layer's hashed lock, pinned to requirements-dev.lock
	$(MAKE) --no-print-directory -C layers/shared lock UV=$(CURDIR)/$(BIN)/uv

schema: $(STAMP) ## regenerate schemas/customer-change.json from the model
	$(BIN)/python -c "import json; from custsync.model import customer_change_json_schema as s; \
	open('schemas/customer-change.json', 'w').write(json.dumps(s(), indent=2, sort_keys=True) + '\n')"

openapi: $(STAMP) ## regenerate openapi.yaml (the webhook and the sync API) from the routes' docs
	$(BIN)/python -m devkit.openapi

bench: build ## benchmarks/ -> BENCHMARKS.md
	$(BIN)/python -m benchmarks.run --write BENCHMARKS.md

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
