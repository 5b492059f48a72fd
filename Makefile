# kerasdl: the README's commands. A fresh machine with Python 3.10+ is enough:
# `make install` builds .venv and installs kerasdl with everything it needs, the
# PyTorch backend's CPU build included (the `torch` extra), since the tests run on it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kerasdl-installed
BACKENDS ?= tensorflow jax torch
PYTEST_ARGS ?=
# Test processes per backend pass (pytest-xdist; each test file stays in one process,
# so module fixtures are built once). Most of a test's time is single-threaded Python
# and XLA compilation, so two processes on two cores nearly halve the wall time.
TEST_WORKERS ?= 2

.PHONY: install demo test bench bench-tables bench-generative bench-rl bench-sequences bench-vision bench-tuning tune-distributed lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,torch]"
	touch $(STAMP)

# The main job: classical ML vs deep learning on the embedded digits data (5 folds).
demo: install
	$(BIN)/kerasdl compare --dataset digits --folds 5

# The whole suite once per backend. pytest's exit code 5 (nothing collected) is an error
# here, said in words, so that an empty selection is never mistaken for a green run.
test: install lint
	@for backend in $(BACKENDS); do \
		echo "== tests on KERAS_BACKEND=$$backend =="; \
		KERAS_BACKEND=$$backend $(BIN)/python -m pytest -q -n $(TEST_WORKERS) \
			--dist loadfile --durations=10 $(PYTEST_ARGS); rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "pytest collected no tests on $$backend"; exit 1; fi; \
		if [ $$rc -ne 0 ]; then exit $$rc; fi; \
	done

bench: install
	$(BIN)/python benchmarks/bench_compare.py
	$(MAKE) bench-tables
	$(BIN)/python benchmarks/bench_lr_finder.py --backends tensorflow,jax
	$(BIN)/python benchmarks/bench_generative.py --backends tensorflow,jax,torch
	$(BIN)/python benchmarks/bench_rl.py --backends tensorflow,jax,torch
	$(MAKE) bench-sequences
	$(MAKE) bench-vision
	$(MAKE) bench-tuning

# Classical ML vs deep learning on real tables (wine, breast_cancer, penguins, cars,
# diabetes, seattle_weather, digits) per backend: every model's scores, the wall time of
# the full compare and of the classical models alone (about 40 minutes on 2 cores).
bench-tables: install
	$(BIN)/python benchmarks/bench_tables.py --backends tensorflow,jax

# Sequences and transformers: hand-written cells vs Keras, the forecaster vs naive
# forecasts, the GPT-like character LM and its KV cache, the encoder-decoder on dates,
# ViT on digits, BERT-like MLM + classifier (about 1.5 hours on a 2-core CPU).
bench-sequences: install
	$(BIN)/python benchmarks/bench_rnn_cells.py --backends tensorflow,jax,torch
	$(BIN)/python benchmarks/bench_forecast.py --backends tensorflow,jax
	$(BIN)/python benchmarks/bench_gpt.py --backends tensorflow,jax,torch
	$(BIN)/python benchmarks/bench_seq2seq.py --backends tensorflow,jax
	$(BIN)/python benchmarks/bench_vit.py --backends tensorflow,jax
	$(BIN)/python benchmarks/bench_bert.py --backends tensorflow,jax

# Vision: CNN families in 5-fold CV, augmentation cost, transfer learning with few
# labels, U-Net segmentation, CenterNet detection (about an hour on a 2-core CPU).
bench-vision: install
	$(BIN)/python benchmarks/bench_convnets.py --backends tensorflow,jax
	$(BIN)/python benchmarks/bench_augmentation.py --backends tensorflow,jax,torch
	$(BIN)/python benchmarks/bench_transfer.py --backends tensorflow,jax
	$(BIN)/python benchmarks/bench_segmentation.py --backends tensorflow,jax
	$(BIN)/python benchmarks/bench_detection.py --backends tensorflow,jax

# The CNN tuned inside each training fold vs the untuned CNN, digits (about 40 minutes).
bench-tuning: install
	$(BIN)/python benchmarks/bench_tuned.py --backends tensorflow,jax

# Generative models only (about half an hour per backend on a 2-core CPU).
bench-generative: install
	$(BIN)/python benchmarks/bench_generative.py --backends tensorflow,jax,torch

# Reinforcement learning only: DQN, A2C, REINFORCE on CartPole-v1 (seeds 0-2, both
# backends) and tabular Q-learning (about 10 minutes on a 2-core CPU).
bench-rl: install
	$(BIN)/python benchmarks/bench_rl.py --backends tensorflow,jax,torch

# Keras Tuner's chief/worker protocol on the loopback address: one chief (the oracle)
# and two workers share a small search; distributed.json says which worker ran which
# trial. The same command runs across machines (README, "Distributed tuning").
tune-distributed: install
	$(BIN)/kerasdl --backend jax tune-distributed --family mlp \
		--dataset digits --max-trials 4 --workers 2 --out runs/tune-distributed

# Style and the architecture: ruff, and the layer order of CONVENTIONS.md as an
# import-linter contract (pyproject.toml, [tool.importlinter]). `make test` runs it first.
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache *.egg-info
