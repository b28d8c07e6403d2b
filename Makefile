# Two commands on a fresh machine:   make book   (build the site)   make test   (run every test)
# Both create the virtual environment .venv from requirements.txt when it is missing or stale.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export PYTHONHASHSEED := 0
JB_FLAGS := -W -n --keep-going

.PHONY: install book test unit lint format sync student bench experiments clean
CHAPTERS = $(shell grep -l '^jupytext:' book/*.md)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -e .
	touch $@

install: $(STAMP)

# Build the website into _build/html. Chapters are executed (and cached by jupyter-cache:
# only changed chapters run again); their checkpoints go to a fresh folder so that a
# re-executed chapter trains from scratch and the page shows the whole run.
book: $(STAMP)
	rm -rf _build/checkpoints
	GENMODELS_CHECKPOINT_DIR=$(abspath _build/checkpoints) $(BIN)/jupyter-book build . $(JB_FLAGS)

# The chapters' code is linted through their notebooks (same code cells as the .md sources).
lint: $(STAMP)
	$(BIN)/ruff check src tests tools book/*.ipynb
	$(BIN)/ruff format --check src tests tools book/*.ipynb

# Format the package and the chapters' code cells (in the .md sources), then re-sync the notebooks.
format: $(STAMP)
	$(BIN)/ruff format src tests tools
	$(BIN)/jupytext --pipe "ruff format {}" $(CHAPTERS)
	$(MAKE) sync

# Every test: lint, the book built with warnings as errors, then one pytest run with the unit
# tests, the structure tests, the browser tests of the built site and every chapter's .ipynb
# executed by nbval. nbval reuses the checkpoints the book build just wrote, so each chapter's
# training runs once per test run: the notebooks take the resume path (tests/test_training.py
# proves it restores the same model) and assert the same numbers as the built pages.
test: lint book
	GENMODELS_CHECKPOINT_DIR=$(abspath _build/checkpoints) $(BIN)/pytest --nbval-lax -p no:cacheprovider tests book

# Only the fast unit tests (no training, no site): for quick iterations.
unit: $(STAMP)
	$(BIN)/pytest -m "not slow and not site" tests

# Compatibility run: a second environment with the oldest TensorFlow/Keras pair the package supports
# (pyproject.toml's `oldest` extra; every other pin from requirements.txt), where the unit tests and
# the two fastest chapters run.
.PHONY: compat
COMPAT := .venv-compat
$(COMPAT)/.installed: requirements.txt pyproject.toml
	test -x $(COMPAT)/bin/python || $(PYTHON) -m venv $(COMPAT)
	$(COMPAT)/bin/python -m pip install -q --upgrade pip
	grep -vE '^(tensorflow-cpu|keras|numpy)==' requirements.txt > $(COMPAT)/requirements.txt
	$(COMPAT)/bin/python -m pip install -q -r $(COMPAT)/requirements.txt -e '.[oldest]'
	touch $@

compat: $(COMPAT)/.installed
	$(COMPAT)/bin/python -c 'import keras, numpy, tensorflow as tf; print("compat: TensorFlow", tf.__version__, "| Keras", keras.__version__, "| NumPy", numpy.__version__)'
	PATH=$(abspath $(COMPAT)/bin):$$PATH $(COMPAT)/bin/pytest -p no:cacheprovider -m "not slow and not site" tests
	rm -rf _build/compat-checkpoints
	PATH=$(abspath $(COMPAT)/bin):$$PATH GENMODELS_CHECKPOINT_DIR=$(abspath _build/compat-checkpoints) \
	  $(COMPAT)/bin/pytest --nbval-lax -p no:cacheprovider book/01_background.ipynb book/02_concepts.ipynb

# Generate every chapter's .ipynb (what Colab opens) from its .md (the source, left untouched):
# MyST turned into CommonMark/HTML, no outputs, genmodels pinned to the last commit of src/.
sync: $(STAMP)
	$(BIN)/python tools/colab_notebooks.py $(CHAPTERS)

# Coursework: student/ becomes an nbgrader course directory with every chapter released without
# solutions (student/release/NN_name/NN_name.ipynb) beside its instructor version (student/source/).
student: $(STAMP)
	$(BIN)/python tools/grading.py student book student

# Speed and memory of the chapters' models: a table, not a test (the machine is noisy).
bench: $(STAMP)
	$(BIN)/python tools/bench.py

# The long experiments behind the pitfall chapters, one results file each under book/results/
# (headed by the command, date and package versions; the chapters read them, a test re-runs a row):
#   mode_collapse.csv       the five-seed table of "Mode collapse" (every method, ring and grid)
#   posterior_collapse.csv  the beta sweep and the collapse remedies of "Posterior collapse"
#   generalisation.csv      data size, model size and augmentation of "Generalisation"
# Each is also one command: python -m genmodels.experiments NAME. Interrupted runs resume.
EXPERIMENTS := mode_collapse posterior_collapse generalisation
experiments: $(STAMP)
	for name in $(EXPERIMENTS); do $(BIN)/python -m genmodels.experiments $$name || exit 1; done

clean:
	rm -rf _build student
