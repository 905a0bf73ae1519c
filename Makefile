# spikeformer_mm: the two commands of the README.
#   make demo   set everything up, run the main job on the embedded data
#   make test   set everything up, run the test suite
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo demo-smoke lint test test-fast clean-venv

setup:
	@bash tools/setup_env.sh

demo: setup
	$(PY) tools/run_demos.py

# The main job in its bounded form (a few iterations per task), writing where
# `make demo` writes: CI runs it before the tests, so no test may depend on
# what the main job leaves in the checkout.
demo-smoke: setup
	$(PY) tools/run_demos.py --smoke

# What the tests may skip depends on the CPU: say which one runs them.
CPU_INFO := $(PY) -c "import torch; from spikeformer_mm.compat import cpu_bf16_supported as b; print('CPU capability:', torch.backends.cpu.get_cpu_capability(), '| native bf16:', b())"

# pytest exits 5 when it collected no test: that is a failure here.
test: setup
	@$(CPU_INFO)
	@$(PY) -m pytest tests $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; \
	exit $$rc

# Without the end-to-end runs (marker `e2e`).
# flake8's checks (pycodestyle, pyflakes) by ruff, as ruff.toml sets them;
# tests/test_lint.py runs the same in `make test`
lint: setup
	$(PY) -m ruff check .

test-fast: setup
	@$(CPU_INFO)
	@$(PY) -m pytest tests -m "not e2e" $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; \
	exit $$rc

clean-venv:
	rm -rf .venv
