# baton: PGXS build of the extension, plus the targets for tests, benchmarks and the demo.
# `make deps` installs the build dependencies (Debian 12, as root).

EXTENSION = baton
MODULE_big = baton
CORE_SRCS = $(wildcard extension/src/core/*.cpp)
PG_SRCS = $(wildcard extension/src/pg/*.cpp)
OBJS = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)
DATA = $(wildcard extension/baton--*.sql)

PG_CONFIG ?= pg_config
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Werror -Wno-register -Wno-unused-parameter \
  -Wno-missing-field-initializers -fno-omit-frame-pointer
SHLIB_LINK += -lstdc++
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
# The LLVM bitcode rule (for JIT inlining) does not see PG_CXXFLAGS.
COMPILE.cxx.bc += -std=c++17 -Wno-register

.PHONY: deps test unit-test regress isolation stress bench demo format client client-install

# The C++ client (client/): library, headers, pkg-config file and the baton CLI. Built by
# `make`, installed by `make install` (PREFIX, default /usr/local).
all: client
client:
	$(MAKE) -C client
install: client-install
client-install: client
	$(MAKE) -C client install

DEPS = postgresql-15 postgresql-server-dev-15 postgresql-contrib-15 libpq-dev \
  nlohmann-json3-dev libgtest-dev libbenchmark-dev g++ make clang-format
deps:
	@if dpkg -s $(DEPS) >/dev/null 2>&1; then echo "deps: all installed"; else \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEPS); fi

# Every test: pure C++ unit tests, then the SQL suites against a server the harness starts.
test: all
	$(MAKE) install
	$(MAKE) unit-test
	test/run_all.sh

unit-test:
	$(MAKE) -C test/unit run

bench: all
	$(MAKE) install
	bench/run_bench.sh

demo: all
	$(MAKE) install
	demo/run_demo.sh

format:
	clang-format -i extension/src/*/*.cpp extension/src/*/*.h test/unit/*.cpp test/stress/*.cpp \
	  test/stress/*.h client/include/baton/*.h client/src/*.cpp client/src/*.h \
	  $(wildcard client/cli/*.cpp client/cli/*.h test/client/*.cpp test/client/*.h \
	  test/client/*/*.cpp test/client/*/*.h bench/*.cpp)
