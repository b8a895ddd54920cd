# Every target installs what it needs into .venv first (once, and again when pyproject.toml
# changes), so a fresh clone needs no separate setup step.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Selections, passed through to the harness when set:
#   make interop LIBS="pyjwt joserfc" SUITES="JWS ES*,JWE RSA-OAEP*" SCENARIOS=jwe MODES=enabled
LIBS      ?=
SUITES    ?=
SCENARIOS ?=
MODES     ?=
JOBS      ?=
ARGS      ?=
# Other releases as peers, each in a venv of its own: make interop WITH="pyjwt==2.10.0 authlib==1.6.4"
WITH      ?=
# Every peer on this machine joins the Python libraries; the Python libraries alone: PEERS=0
PEERS     ?=
# make report RUN=<run folder>; make compare A=<run> B=<run>
RUN       ?=
A         ?=
B         ?=

# The report's browser test renders report.html in headless Chromium (Debian's package),
# installed only when absent (as root, which CI is), so repeated runs stay fast.
CHROMIUM  := /usr/bin/chromium
# `make loadtest ARGS=--instructions` counts instructions under Debian's valgrind, installed
# the same way when ARGS asks for it.
VALGRIND  := /usr/bin/valgrind

# make loadtest LIBS=joserfc SUITES="HS256,RSA-OAEP-256+A256GCM" OPS="sign decrypt" DURATION=5 PROCESSES=2
OPS       ?=
DURATION  ?=
PROCESSES ?=
# `make loadtest` loads every cell with one Locust process per usable core (PROCESSES=1 for one):
# measured here, the two processes' figures repeat run to run where one process's do not
# (overhead within ±5 % in 106 of 116 cells against 93), since each process adds its own bias.
CORES     := $(shell nproc 2>/dev/null || echo 1)
# make loadtest-ui: Locust's web UI on 127.0.0.1:$(UI_PORT)
UI_PORT   ?= 8089

SELECT = $(if $(LIBS),--library "$(LIBS)") $(if $(SUITES),--suite "$(SUITES)") \
         $(if $(SCENARIOS),--scenario "$(SCENARIOS)") $(if $(MODES),--mode "$(MODES)") \
         $(if $(JOBS),--jobs $(JOBS)) $(foreach pin,$(WITH),--with '$(pin)') $(if $(filter 0 no,$(PEERS)),--no-peers)

LOADTEST_SELECT = $(if $(LIBS),--library "$(LIBS)") $(if $(SUITES),--suite "$(SUITES)") \
                  $(if $(OPS),--operation "$(OPS)") $(if $(DURATION),--duration $(DURATION)) \
                  --processes $(or $(PROCESSES),$(CORES)) $(foreach pin,$(WITH),--with '$(pin)')

.PHONY: setup interop test lint clean-venv loadtest loadtest-ui loadtest-http

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "jose-harness needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

interop: $(STAMP) node-peers
	$(BIN)/harness interop $(SELECT) $(ARGS)

loadtest: $(STAMP) node-peers $(if $(findstring --instructions,$(ARGS)),$(VALGRIND))
	$(BIN)/harness loadtest $(LOADTEST_SELECT) $(ARGS)

# make loadtest-http LIBS=joserfc SUITES="none,RS256,RSA-OAEP-256+A256GCM" DURATION=3 PROCESSES=2
loadtest-http: $(STAMP)
	$(BIN)/harness loadtest --http $(if $(LIBS),--library "$(LIBS)") \
		$(if $(SUITES),--suite "$(SUITES)") $(if $(DURATION),--duration $(DURATION)) \
		$(if $(PROCESSES),--processes $(PROCESSES)) $(ARGS)

loadtest-ui: $(STAMP)
	HARNESS_LOADTEST_OUT=.cache/loadtest-ui $(BIN)/locust -f harness/loadtest/locustfile.py \
		--web-host 127.0.0.1 --web-port $(UI_PORT) \
		$(if $(PROCESSES),--processes $(PROCESSES) --master-bind-host 127.0.0.1) $(ARGS)

# Tests run on TEST_JOBS pytest-xdist workers (make test TEST_JOBS=1 for one process).
TEST_JOBS ?= 2
test: $(STAMP) node-peers $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_JOBS) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean-venv:
	rm -rf $(VENV)

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else echo "note: $(CHROMIUM) is missing and installing it needs root (apt-get install chromium); the browser test will be skipped"; fi

$(VALGRIND):
	@if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y valgrind; \
	else echo "note: $(VALGRIND) is missing and installing it needs root (apt-get install valgrind); --instructions will refuse to run"; fi

.PHONY: report compare chromium
chromium: $(CHROMIUM)

report: $(STAMP)
	$(BIN)/harness report $(RUN) $(if $(wildcard $(CHROMIUM)),--screenshot) $(ARGS)

compare: $(STAMP)
	@$(if $(and $(A),$(B)),:,echo 'usage: make compare A=<older run> B=<newer run>' >&2; exit 2)
	$(BIN)/harness compare $(A) $(B) $(ARGS)

# Peers in node (peers/DRIVERS.md): each folder pins its package by a committed package-lock.json
# and is installed with `npm ci` once (again when the lock file changes), whenever node and npm
# exist; without them one line says so and the harness skips those peers.
NODE_PEER_DIRS   := peers/jose6 peers/jose5 peers/node-jose
NODE_PEER_STAMPS := $(NODE_PEER_DIRS:%=%/node_modules/.installed)
HAVE_NODE        := $(and $(shell command -v node 2>/dev/null),$(shell command -v npm 2>/dev/null))

.PHONY: node-peers
ifneq ($(HAVE_NODE),)
node-peers: $(NODE_PEER_STAMPS)
else
node-peers:
	@echo "note: node/npm not found, so the node peers (jose, jose@5, node-jose) are skipped; apt-get install nodejs npm"
endif

# A failed install (no registry reachable) skips that peer with a line and stops nothing else.
peers/%/node_modules/.installed: peers/%/package.json peers/%/package-lock.json
	@if (cd peers/$* && npm ci --no-audit --no-fund --loglevel=error); then touch $@; \
	else echo "note: npm ci failed in peers/$*, so that peer is skipped"; fi

# Peers from Debian packages (Go, C, Perl, Rust): installed as root, built offline into
# .cache/peers/; without root, one line says what to install. See peers/DRIVERS.md.
.PHONY: peers
peers:
	@sh peers/debian-peers.sh
