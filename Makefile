# bridgesim — the two commands a new user needs:
#   make run    install missing Debian packages, build, run the default scenario
#   make test   the same set-up, then the whole test suite
# Everything else is meson: see README.md.

BUILD    ?= build
SCENARIO ?= configs/scenarios/mir-shetab.yaml
MESON_OPTS ?=

# Debian 12 packages the build and the tests need.
PACKAGES := meson ninja-build pkg-config gcc libc6-dev libuv1-dev libssl-dev libcmocka-dev \
            libfyaml-dev libjansson-dev libsqlite3-dev

.PHONY: all deps build run test bench format format-check clean

all: build

deps:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "bridgesim needs these Debian packages:$$missing"; \
	    echo "run as root:  apt-get update && apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	  echo "installing:$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	./$(BUILD)/bridgesim run $(SCENARIO)

test: build
	meson test -C $(BUILD) --print-errorlogs

bench: build
	meson test -C $(BUILD) --benchmark --print-errorlogs

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
