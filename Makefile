# Every target prepares .venv itself (scripts/bootstrap.py is a no-op when it is current).
PY := .venv/bin/python
BOOT := python3 scripts/bootstrap.py --dev

.PHONY: test lint typecheck unit bench bench-table venv clean

venv:
	@$(BOOT)

# The whole suite: lint, types, unit and end-to-end tests. CI runs exactly this.
test: venv
	@$(PY) -m ruff check src tests benchmarks
	@$(PY) -m mypy
	@$(PY) -m pytest -q

lint: venv
	@$(PY) -m ruff check src tests benchmarks

typecheck: venv
	@$(PY) -m mypy

unit: venv
	@$(PY) -m pytest -q tests/unit

bench: venv
	@for b in benchmarks/bench_*.py; do [ "$$b" = benchmarks/bench_table.py ] && continue; echo "== $$b"; $(PY) $$b || exit 1; done

# The fast-start table (issue figures): every row side by side with the reference Codex.
bench-table: venv
	@$(PY) benchmarks/bench_table.py

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache
