# BandSync: `make run` builds and serves on the embedded store; `make test`
# installs what is missing, builds everything and runs every test.
SHELL := /bin/bash
.DELETE_ON_ERROR:

JOBS      ?= $(shell nproc)
BUILD     ?= build
ASAN      ?= build-asan
FUZZ      ?= build-fuzz
FUZZ_SECONDS ?= 30
PORT      ?= 3001
# Debug info of the release tree (build/): full (-g) for a developer's
# `make run`; in CI (CI set, as CI services do) line tables and function
# names only (-g1: backtraces with file:line, no locals), which at -O2 costs
# about a third less compile time (no variable tracking).
RELEASE_DEBUG ?= $(if $(CI),-g1,-g)

DEBIAN_PACKAGES := build-essential cmake ninja-build pkg-config \
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev \
  libhiredis-dev libspdlog-dev libfmt-dev libcli11-dev libgtest-dev \
  clang-14 libclang-rt-14-dev redis-server nginx-light nodejs npm chromium

BIN := $(BUILD)/app/bandsync

.PHONY: all deps build server run test unit asan fuzz integration clean format

all: build

# apt-get only when a package is missing, so a second `make test` is offline.
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  if [ "$$p" = nodejs ] || [ "$$p" = npm ]; then command -v $${p/nodejs/node} >/dev/null && continue; fi; \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

NPM_STAMP := tests/node_modules/.package-lock.json

# The binary embeds the socket.io-client bundle from tests/node_modules
# (src/web), so every configure needs `npm ci` to have run.
$(BUILD)/build.ninja: | $(NPM_STAMP)
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 $(RELEASE_DEBUG) -DNDEBUG"

build: deps $(NPM_STAMP) $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BIN) serve --port $(PORT)

$(NPM_STAMP): tests/package.json tests/package-lock.json | deps
	cd tests && npm ci --no-audit --no-fund --loglevel=error

$(ASAN)/build.ninja: | $(NPM_STAMP)
	cmake -S . -B $(ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBANDSYNC_SANITIZE=ON

$(FUZZ)/build.ninja:
	CXX=clang++-14 cmake -S . -B $(FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBANDSYNC_FUZZ=ON

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps $(ASAN)/build.ninja
	cmake --build $(ASAN) -j $(JOBS) --target unit_tests
	cd $(ASAN) && ctest -L unit --output-on-failure -j $(JOBS)

# Each fuzzer runs for FUZZ_SECONDS (wall time) from the checked-in seed
# corpus, all of them at once (on 2 cores each gets about 2/3 of one: 20 s of
# CPU, the -print_final_stats exec counts show it); a failing one prints its
# whole log (the crash and the reproducer's file name) and fails the target.
fuzz: deps $(FUZZ)/build.ninja
	cmake --build $(FUZZ) -j $(JOBS)
	@ls $(FUZZ)/tests/fuzz/fuzz_* | xargs -P 0 -I{} bash -c '\
	  f={}; name=$$(basename $$f); work=$(FUZZ)/corpus-$$name; log=$(FUZZ)/$$name.log; mkdir -p $$work; \
	  echo "fuzzing $$name for $(FUZZ_SECONDS) s"; \
	  if $$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 $$work tests/fuzz/corpus/$$name >$$log 2>&1; \
	  then out=$$(echo "== $$name"; tail -n 12 $$log); printf "%s\n" "$$out"; \
	  else out=$$(echo "== $$name FAILED"; cat $$log); printf "%s\n" "$$out"; exit 1; fi'

# `make test` runs every test once: the unit tests (label `unit`: the gtest
# cases, the client's node:test suites, layers.enforced) in the sanitizer tree,
# the integration suites against the release server. So the release tree
# builds the server only (its unit-test binaries are then missing, and
# gtest_discover_tests stands in an unlabelled <target>_NOT_BUILT test for
# each); `make build` and `ctest` in build/ still build and run everything.
server: deps $(NPM_STAMP) $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target bandsync

test: server asan fuzz
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE unit -E '_NOT_BUILT$$'

format:
	find src app tests bench -name '*.cpp' -o -name '*.hpp' | grep -v node_modules | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
