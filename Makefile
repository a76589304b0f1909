# customer-sync: every command sets itself up (virtualenv + pinned dev dependencies) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins an older boto3 than the dev lock: it lives in a virtualenv of its own.
CHECKS := .venv-checks
CHECKS_STAMP := $(CHECKS)/.installed
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= eu-west-1

.PHONY: install demo chaos vendor template test test-bulk unit integration e2e lint imports typecheck validate security build lock schema openapi bench bench-enqueue scale clean

$(STAMP): requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ## create .venv and install everything pinned

$(CHECKS_STAMP): requirements-checks.lock
	test -x $(CHECKS)/bin/python || $(PYTHON) -m venv $(CHECKS)
	$(CHECKS)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKS)/bin/python -m pip install --quiet -r requirements-checks.lock
	touch $(CHECKS_STAMP)

demo: build ## the whole flow on the local stack: moto, simulators, the Lambda emulator running the built artifact
	$(BIN)/custsync demo

chaos: build ## 2,000 changes over 200 customers while vendors, processes and DynamoDB fail; ends with one line of counts
	$(BIN)/custsync chaos

# The suite runs on every core (pytest-xdist): each worker has its own moto server and emulators.
PYTEST_WORKERS ?= auto

test: lint typecheck validate security build ## every check CI runs, then the tests (e2e ones on the built artifact)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

test-bulk: build ## the 100,000-row CSV through custsync enqueue on the local stack, twice (minutes; CUSTSYNC_BULK_ROWS)
	$(BIN)/python -m pytest -m bulk tests/e2e/test_bulk_load.py

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration

e2e: build
	$(BIN)/python -m pytest tests/e2e

lint: imports ## ruff, the format, and the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ruff check --target-version py313 --select E,F,W,PLE layers/shared functions devkit/stack/lambda_bootstrap.py

imports: $(STAMP) ## the import contracts of .importlinter (tiers, no cycles, connectors through custsync.sdk, no devkit in what deploys)
	$(BIN)/python -m devkit.import_contracts

typecheck: $(STAMP) ## mypy strict; what deploys is checked for python3.13 (the Lambda runtime) too
	$(BIN)/mypy layers/shared/custsync layers/shared/compile_layer.py layers/shared/routing_json.py functions devkit tests benchmarks
	$(BIN)/mypy --python-version 3.13 layers/shared/custsync layers/shared/compile_layer.py layers/shared/routing_json.py functions devkit/stack/lambda_bootstrap.py

# A new vendor's every file (README, "Adding a vendor"), working as it is; then its parts of the template.
vendor: $(STAMP) ## make vendor NAME=acme PROTOCOL=rest|soap|xmlrpc: a new vendor's skeleton, its simulator, events, secret, tests
	$(BIN)/python -m devkit.scaffold "$(NAME)" --protocol "$(or $(PROTOCOL),rest)"
	$(MAKE) --no-print-directory template

template: $(STAMP) ## template.yaml's per-vendor parts (from vendors.yaml and functions/<vendor>/vendor.yaml), then openapi.yaml
	$(BIN)/python -m devkit.vendors
	$(BIN)/python -m devkit.openapi

validate: $(STAMP) ## sam validate --lint (cfn-lint)
	$(BIN)/sam validate --lint

# The roles' statements and parliament on them: tests/unit/test_security_template.py (in make test's pytest).
security: $(STAMP) $(CHECKS_STAMP) ## checkov on template.yaml (held to checkov-skips.yaml), bandit on what deploys
	$(BIN)/python -m devkit.checkov_skips --checkov $(CHECKS)/bin/checkov
	$(BIN)/bandit -ll -q -r layers/shared/custsync functions

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

bench-enqueue: $(STAMP) ## custsync enqueue of a 1,000,000-row CSV alone: rows a second and peak RSS
	$(BIN)/python -m benchmarks.enqueue

scale: $(STAMP) ## the simulation of one vendor at scale (1,000,000 updates, a thousand containers) -> SCALE.md
	$(BIN)/python -m benchmarks.scale.report --write SCALE.md

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
