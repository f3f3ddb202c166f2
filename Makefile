# `make train` and `make test` create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch and torchvision are installed first and pinned, so pip takes these releases rather than
# resolving the newest one; override TORCH for another build, such as a CUDA index.
TORCH ?= torch==2.14.1 torchvision==0.29.1
STAMP := $(VENV)/.installed

.PHONY: install train test test-fast lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install $(TORCH)
	$(BIN)/python -m pip install -e ".[offline,dev]"
	touch $(STAMP)

train: $(STAMP)  ## Fine-tune MiniLM on IMDB reviews, offline, on the CPU.
	$(BIN)/python train.py $(ARGS)

test: $(STAMP)  ## All tests, end-to-end runs included.
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## Tests without the end-to-end training runs.
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests train.py

clean:
	rm -rf outputs .pytest_cache .ruff_cache
