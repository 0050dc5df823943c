# fabnet: `make demo` plans the built-in Europe network; `make test` runs every check.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/fabnet plan examples/europe/scenario.yaml --out out/demo --continuity --strike UA-PARTNER@2027-05-03+6
	$(BIN)/fabnet floor demo --out out/demo-floor
	@echo "Dashboard: run '$(BIN)/fabnet serve --demo' and open http://127.0.0.1:8000/web (one account per role, passwords printed at start)"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.national_bench
	$(BIN)/python -m benchmarks.tts_bench
	$(BIN)/python -m benchmarks.montecarlo_bench
	$(BIN)/python -m benchmarks.design_bench
	$(BIN)/python -m benchmarks.genealogy_bench
	$(BIN)/python -m benchmarks.mip_bench
	$(BIN)/python -m benchmarks.web_bench

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
