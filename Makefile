# `make demo` and `make test` create (or reuse) .venv with every dependency pinned, then run.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# ministral_interfaces (the node's typed messages and Command action; 51 s on 2 cores), px4_msgs
# and mavros_msgs (the vehicle link's subsets), all in interfaces/, built into the venv once
# (about 3 min on 2 cores); rebuilt only when their files change.
INTERFACES_STAMP := $(VENV)/.interfaces
INTERFACE_FILES := $(shell find interfaces -type f 2>/dev/null)
PIP_FLAGS ?= -q --disable-pip-version-check

# No DDS traffic leaves the loopback interface from anything started here. ROS_DOMAIN_ID is
# left to each program unless you set it: the tests and the demo take one per process (two
# `make test` at once must not hear each other's /clock), ministral-sim 42.
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST

.PHONY: setup demo test lint format bench train eval sim detector clean

setup: $(STAMP) $(INTERFACES_STAMP)

$(INTERFACES_STAMP): $(STAMP) scripts/build_interfaces $(INTERFACE_FILES)
	$(BIN)/python scripts/build_interfaces
	@touch $@

$(STAMP): requirements/*.txt setup.py
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	  echo "error: Python 3.11 is required (the ROS 2 Kilted wheels are built for it)."; \
	  echo "       Install python3.11 and python3.11-venv, or run: make PYTHON=/path/to/python3.11"; \
	  exit 1; }
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "error: cannot create a virtual environment: sudo apt-get install python3.11-venv"; \
	  exit 1; }
	$(BIN)/python -m pip install $(PIP_FLAGS) -r requirements/dev.txt -c requirements/constraints.txt
	$(BIN)/python -m pip install $(PIP_FLAGS) --no-deps --no-build-isolation -e .
	@# setup.cfg puts entry points in lib/ministral_node (where `ros2 run` looks); put them on PATH.
	@for f in $(VENV)/lib/ministral_node/*; do ln -sf "$$(cd "$$(dirname "$$f")" && pwd)/$$(basename "$$f")" $(BIN)/; done
	@touch $@

demo: setup
	$(BIN)/ministral-demo

test: setup lint
	$(BIN)/python -m pytest -q

# scripts/ holds programs without the .py suffix, which ruff finds only when named.
LINTED := ministral_node test launch scripts $(wildcard scripts/*) examples setup.py
lint: setup
	$(BIN)/ruff check $(LINTED)

format: setup
	$(BIN)/ruff format $(LINTED)

# Onboard-model figures on this machine: real 3B shapes, random 4-bit weights (built once
# into .bench/). BENCH_ARGS=path/to/model_dir benches a real model directory instead.
BENCH_ARGS ?= --synthetic 3b --json .bench/bench.json
bench: setup
	$(BIN)/python -m ministral_node.cli.bench $(BENCH_ARGS)

# The shipped demo model from scratch: synthetic data, training in five stages (37 + 23 + 16
# + 18 + 18 min on 2 CPU cores: from scratch, tuned at a lower rate, a stage that draws missions
# and target commands more often, one that draws compass legs, negations, babble, takeoffs and
# holds more often, then one that adds moves whose verb says the direction, short commands said
# again, lower-case abbreviations and terse altitude commands, and casual speech twice as often:
# CASUAL_ARGS), 4-bit ONNX export (float32 LM
# head) checked against torch, held-out evaluation. Writes models/$(DEMO_MODEL).
DEMO_MODEL ?= ministral-3-drone-demo
TRAIN_DIR ?= .train
TRAIN_ARGS ?= --preset demo --steps 2400 --batch 12 --seed 0
TUNE_ARGS ?= --steps 1500 --batch 12 --lr 0.001 --warmup 20 --seed 2
FOCUS_ARGS ?= --steps 1000 --batch 12 --lr 0.0005 --warmup 20 --seed 3 \
	--intent-weight mission=8 --intent-weight land_on=4.5 --intent-weight goto_target=3 \
	--intent-weight follow=3 --intent-weight search=3
BROADEN_ARGS ?= --steps 1000 --batch 12 --lr 0.0004 --warmup 20 --seed 4 \
	--intent-weight mission=6 --intent-weight land_on=3 --intent-weight goto_target=2 \
	--intent-weight follow=2 --intent-weight search=2 --intent-weight fly_compass=4 \
	--intent-weight face=4 --intent-weight nonsense=3 --intent-weight negation=3 \
	--intent-weight takeoff=2.5 --intent-weight hold=2 --intent-weight hold_for=2 \
	--intent-weight home=2 --intent-weight speed=2
LAST_ARGS ?= --steps 1000 --batch 12 --lr 0.0003 --warmup 20 --seed 5 \
	--intent-weight mission=5 --intent-weight land_on=2.5 --intent-weight goto_target=2 \
	--intent-weight follow=2 --intent-weight search=2 --intent-weight fly_compass=2 \
	--intent-weight face=2 --intent-weight nonsense=2 --intent-weight negation=2 \
	--intent-weight takeoff=2 --intent-weight hold=1.5 --intent-weight hold_for=1.5 \
	--intent-weight home=1.5 --intent-weight speed=1.5 --intent-weight stop=1.5 \
	--intent-weight climb_to=1.5 --intent-weight step_forward=1.5 --intent-weight step_back=1.5 \
	--intent-weight step_left=1.5 --intent-weight step_right=1.5 \
	--intent-weight capabilities=1 --intent-weight offtopic=1 --intent-weight stunt=1 \
	$(CASUAL_ARGS)
# Casual speech (training/casual.py; every stage draws it at the default rates): the last stage
# draws it about twice as often: fillers and particles, colloquial verbs, written-instruction
# forms, radio abbreviations, typos in action and direction words, run-on missions.
CASUAL_ARGS ?= --casual-rate filler=0.15 --casual-rate particle=0.12 \
	--casual-rate colloquial=0.2 --casual-rate infinitive=0.15 --casual-rate abbreviation=0.1 \
	--casual-rate typo=0.12 --casual-rate run_on=0.5
# A stage already in $(TRAIN_DIR) with the same arguments and parent weights is skipped
# (--skip-done): make train run again after an interruption goes on from the next stage.
TRAIN := $(BIN)/ministral-train --skip-done
train: setup
	$(TRAIN) $(TRAIN_DIR)/stage1 $(TRAIN_ARGS)
	$(TRAIN) $(TRAIN_DIR)/stage2 --init $(TRAIN_DIR)/stage1 $(TUNE_ARGS)
	$(TRAIN) $(TRAIN_DIR)/stage3 --init $(TRAIN_DIR)/stage2 $(FOCUS_ARGS)
	$(TRAIN) $(TRAIN_DIR)/stage4 --init $(TRAIN_DIR)/stage3 $(BROADEN_ARGS)
	$(TRAIN) $(TRAIN_DIR)/$(DEMO_MODEL) --init $(TRAIN_DIR)/stage4 $(LAST_ARGS)
	$(BIN)/ministral-export $(TRAIN_DIR)/$(DEMO_MODEL) models/$(DEMO_MODEL) --float-head
	$(BIN)/ministral-eval models/$(DEMO_MODEL) --json $(TRAIN_DIR)/eval.json

# Held-out evaluation of a model directory beside the rule parser (EVAL_ARGS=path/to/model).
EVAL_ARGS ?= models/$(DEMO_MODEL)
eval: setup
	$(BIN)/ministral-eval $(EVAL_ARGS)

# The simulated world's object detector from scratch (ministral-detector): labelled frames the
# simulator renders (worlds of seeds 0-249, 24 views each, 5-60 m, forward to downward camera),
# training in seven stages (the plain varifocal loss; four with the other classes at an
# object's cells as hard negatives; two with each frame at the 320 or the 640 input: the object
# sizes the node's two inputs show the network), Ultralytics-layout ONNX export into
# models/$(DETECTOR_MODEL) for a 640 px input, with the training weights beside it, then
# mAP@0.5 per class on worlds of other seeds. The time caps (--max-minutes, 52 min together)
# end the stages' schedules early on slower or busy cores, so that it stays under an hour; the
# shipped model ran the same stages with looser caps (its README.md lists them).
DETECTOR_MODEL ?= sim-detector
DETECTOR_DIR ?= .detector
DETECTOR_DATA_ARGS ?= --worlds 250 --per-world 24 --first-seed 0
DETECTOR_STAGE1_ARGS ?= --steps 4000 --batch 16 --seed 0 --soft-negatives --max-minutes 16
DETECTOR_STAGE2_ARGS ?= --steps 1500 --batch 16 --lr 0.001 --warmup 20 --seed 1 --max-minutes 6
DETECTOR_STAGE3_ARGS ?= --steps 1000 --batch 16 --lr 0.0007 --warmup 20 --seed 2 --max-minutes 4
DETECTOR_STAGE4_ARGS ?= --steps 2500 --batch 16 --lr 0.0008 --warmup 20 --seed 3 --max-minutes 8
DETECTOR_STAGE5_ARGS ?= --steps 2500 --batch 16 --lr 0.0005 --warmup 20 --seed 4 --max-minutes 7
DETECTOR_STAGE6_ARGS ?= --steps 1800 --batch 16 --lr 0.0004 --warmup 20 --seed 5 \
	--input-size 320+640 --max-minutes 6
DETECTOR_STAGE7_ARGS ?= --steps 1800 --batch 16 --lr 0.0003 --warmup 20 --seed 6 \
	--input-size 320+640 --max-minutes 5
DETECTOR := $(BIN)/python -m ministral_node.cli.sim_detector
detector: setup
	$(DETECTOR) data $(DETECTOR_DIR)/train $(DETECTOR_DATA_ARGS)
	$(DETECTOR) train $(DETECTOR_DIR)/train $(DETECTOR_DIR)/stage1 $(DETECTOR_STAGE1_ARGS)
	$(DETECTOR) train $(DETECTOR_DIR)/train $(DETECTOR_DIR)/stage2 --init $(DETECTOR_DIR)/stage1 \
	  $(DETECTOR_STAGE2_ARGS)
	$(DETECTOR) train $(DETECTOR_DIR)/train $(DETECTOR_DIR)/stage3 --init $(DETECTOR_DIR)/stage2 \
	  $(DETECTOR_STAGE3_ARGS)
	$(DETECTOR) train $(DETECTOR_DIR)/train $(DETECTOR_DIR)/stage4 --init $(DETECTOR_DIR)/stage3 \
	  $(DETECTOR_STAGE4_ARGS)
	$(DETECTOR) train $(DETECTOR_DIR)/train $(DETECTOR_DIR)/stage5 --init $(DETECTOR_DIR)/stage4 \
	  $(DETECTOR_STAGE5_ARGS)
	$(DETECTOR) train $(DETECTOR_DIR)/train $(DETECTOR_DIR)/stage6 --init $(DETECTOR_DIR)/stage5 \
	  $(DETECTOR_STAGE6_ARGS)
	$(DETECTOR) train $(DETECTOR_DIR)/train $(DETECTOR_DIR)/run --init $(DETECTOR_DIR)/stage6 \
	  $(DETECTOR_STAGE7_ARGS)
	$(DETECTOR) export $(DETECTOR_DIR)/run/detector.pt models/$(DETECTOR_MODEL) --input-size 640 \
	  --commands "ministral-detector data $(DETECTOR_DIR)/train $(DETECTOR_DATA_ARGS)" \
	  --commands "ministral-detector train $(DETECTOR_DIR)/train $(DETECTOR_DIR)/stage1 $(DETECTOR_STAGE1_ARGS)" \
	  --commands "ministral-detector train $(DETECTOR_DIR)/train $(DETECTOR_DIR)/stage2 --init $(DETECTOR_DIR)/stage1 $(DETECTOR_STAGE2_ARGS)" \
	  --commands "ministral-detector train $(DETECTOR_DIR)/train $(DETECTOR_DIR)/stage3 --init $(DETECTOR_DIR)/stage2 $(DETECTOR_STAGE3_ARGS)" \
	  --commands "ministral-detector train $(DETECTOR_DIR)/train $(DETECTOR_DIR)/stage4 --init $(DETECTOR_DIR)/stage3 $(DETECTOR_STAGE4_ARGS)" \
	  --commands "ministral-detector train $(DETECTOR_DIR)/train $(DETECTOR_DIR)/stage5 --init $(DETECTOR_DIR)/stage4 $(DETECTOR_STAGE5_ARGS)" \
	  --commands "ministral-detector train $(DETECTOR_DIR)/train $(DETECTOR_DIR)/stage6 --init $(DETECTOR_DIR)/stage5 $(DETECTOR_STAGE6_ARGS)" \
	  --commands "ministral-detector train $(DETECTOR_DIR)/train $(DETECTOR_DIR)/run --init $(DETECTOR_DIR)/stage6 $(DETECTOR_STAGE7_ARGS)" \
	  --commands "ministral-detector export $(DETECTOR_DIR)/run/detector.pt models/$(DETECTOR_MODEL) --input-size 640"
	$(DETECTOR) eval models/$(DETECTOR_MODEL) --json $(DETECTOR_DIR)/eval.json

# A short showcase flown in the headless simulator (PyBullet on the CPU) against the real node:
# a mission, a ground-link loss and a lost pose, scored in the simulated world. Prints the
# table and where the pictures are. SIM_ARGS flies others (e.g. the whole suite:
# SIM_ARGS="--sources rules|onboard,rules").
SIM_ARGS ?= --set showcase --sources rules --video
sim: setup
	$(BIN)/ministral-sim $(SIM_ARGS) --out sim_output --json sim_output/summary.json

clean:
	rm -rf $(VENV) build install log *.egg-info .pytest_cache .ruff_cache sim_output $(DETECTOR_DIR)
