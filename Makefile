# The README's commands. `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.pantau-installed
EXTRAS ?= train,dev,postgres,ray
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup browser demo test test-fast bench serve lock clean

setup: $(STAMP)  ## create .venv and install pantau with pinned versions

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[$(EXTRAS)]'
	@touch $@

browser:  ## Debian's Chromium for the reviewer-app browser tests (Playwright's own download does not work offline)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "browser tests need Chromium: sudo apt-get install -y chromium chromium-driver" >&2; exit 1; fi; }

demo: setup  ## the main job on the embedded defaults: prepare → train → evaluate → score → queue
	$(BIN)/python -m pantau.cli.demo

test: setup browser  ## import contracts, then the whole test suite, slow and real-data tests included (CI runs exactly this)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest

test-fast: setup  ## skip slow, browser and real-data tests while developing
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -m "not slow and not browser and not realdata"

bench: setup  ## benchmarks that print ratios measured side by side in one run
	$(BIN)/python benchmarks/preprocess.py
	$(BIN)/python benchmarks/lexicon.py
	$(BIN)/python benchmarks/scoring.py speed
	$(BIN)/python benchmarks/memory.py
	$(BIN)/python benchmarks/review_queue.py
	$(BIN)/python benchmarks/campaigns.py

serve: setup  ## the reviewer web app on http://127.0.0.1:8000
	$(BIN)/pantau serve

lock:  ## refresh constraints.txt from the current .venv (commit the result)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^pantau' | sed 's/^torch==2.13.0+cpu/torch==2.13.0/' > constraints.txt

clean:
	rm -rf $(VENV) data/processed models/pantau-classifier var
