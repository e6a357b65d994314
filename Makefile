# stanced: one non-recursive Makefile. lib/*.c becomes libstance.a, which the
# three programs link; tests/unit/test_*.c each become a unit-test binary.
# `make SANITIZE=1 ...` builds everything with ASan+UBSan in its own tree.

CC      ?= cc
PREFIX  ?= /usr/local
PKGS    := libzmq libcjson yaml-0.1 libutf8proc
OPT     ?= -O2 -g
CFLAGS  := $(OPT) -std=c11 -D_GNU_SOURCE -Wall -Wextra -MMD -MP -Ilib \
           -I/usr/include/libsvm $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(EXTRA_CFLAGS)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lsvm -lpthread -lm
LDFLAGS :=

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
OUT     := build/san
else
OUT     := build/rel
endif
BIN     := $(OUT)/bin

LIB_SRC   := $(wildcard lib/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(OUT)/%.o)
LIBA      := $(OUT)/libstance.a
PROGS     := $(BIN)/stance-train $(BIN)/stanced $(BIN)/stance
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BIN)/%)

.PHONY: all deps run test unit bench compare models fuzz install clean
all: $(PROGS) $(UNIT_BIN)

$(OUT)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

objs = $(patsubst %.c,$(OUT)/%.o,$(wildcard $(1)/*.c))
$(BIN)/stance-train: $(call objs,training) $(LIBA)
$(BIN)/stanced: $(call objs,daemon) $(LIBA)
$(BIN)/stance: $(call objs,client) $(LIBA)
$(PROGS):
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(UNIT_BIN): $(BIN)/test_%: $(OUT)/tests/unit/test_%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Installs the Debian packages the build and tests need (prints the apt-get
# line instead when not root), then builds.
deps:
	@sh scripts/install-deps.sh

run: deps
	$(MAKE) $(PROGS)
	$(BIN)/stanced --config config/stanced.yaml

test: deps
	$(MAKE) all
	BIN=$(BIN) sh tests/run.sh

models: deps
	$(MAKE) $(BIN)/stance-train
	BIN=$(BIN) sh training/make-models.sh

bench: deps
	STANCE_EXTRA_PKGS="fasttext python3-sklearn" sh scripts/install-deps.sh
	$(MAKE) all
	BIN=$(BIN) sh bench/run.sh

compare: deps
	STANCE_EXTRA_PKGS="fasttext python3-sklearn" sh scripts/install-deps.sh
	$(MAKE) $(BIN)/stance-train
	BIN=$(BIN) sh training/compare.sh

# Bounded libFuzzer run over the request parser and the text pipeline.
fuzz: deps
	STANCE_EXTRA_PKGS="clang libclang-rt-14-dev" sh scripts/install-deps.sh
	sh tests/fuzz/run.sh

install: $(PROGS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/stanced
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin
	cp -r models config $(DESTDIR)$(PREFIX)/share/stanced

clean:
	rm -rf build

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
