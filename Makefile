# infercost build. `make demo` and `make test` are the two setup commands (README.md);
# both run scripts/bootstrap first, which installs missing Debian/npm packages.
#
# Layout: src/lib/*.c -> build/libinfercost.a; src/cli/*.c + src/gateway/*.c -> build/infercost;
# tests/unit/test_*.c -> one binary each; data files are embedded by tools/embed.c.
# SAN=1 builds into build-san/ with AddressSanitizer + UBSan.

CC      ?= cc
SAN     ?= 0
ifeq ($(SAN),1)
B        := build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
OPT      := -O1 -g -fno-omit-frame-pointer $(SANFLAGS)
else
B        := build
SANFLAGS :=
OPT      := -O2 -g
endif

CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wno-missing-field-initializers -Iinclude -Isrc/lib -I$(B) \
           $(shell pkg-config --cflags libpq 2>/dev/null)
LDFLAGS += $(SANFLAGS)
LIBS    := -ljson-c -lpcre2-8 -lyaml -lsqlite3 -lpq -levent -lcurl -lcrypto -lpthread -lm

LIB_SRC := $(sort $(wildcard src/lib/*.c))
APP_SRC := $(sort $(wildcard src/cli/*.c) $(wildcard src/gateway/*.c))
TEST_SRC:= $(sort $(wildcard tests/unit/test_*.c))
EMBED   := data/genai-prices/data.json data/genai-prices/units.yml $(sort $(wildcard data/tokenizer/*.tiktoken))

LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o) $(B)/embedded.o
APP_OBJ := $(APP_SRC:%.c=$(B)/%.o)
TESTS   := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
DEPS    := $(LIB_OBJ:.o=.d) $(APP_OBJ:.o=.d) $(TEST_SRC:tests/unit/%.c=$(B)/deps/%.d)

.PHONY: all bootstrap demo test test-fast test-san bench clean
all: $(B)/infercost $(TESTS)

bootstrap:
	@scripts/bootstrap

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror $< -o $@

$(B)/embedded.c: $(B)/tools/embed $(EMBED)
	$(B)/tools/embed $@ $(EMBED)

$(B)/embedded.o: $(B)/embedded.c
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/libinfercost.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/infercost: $(APP_OBJ) $(B)/libinfercost.a
	$(CC) $(LDFLAGS) $^ $(LIBS) -o $@

$(B)/tests/%: tests/unit/%.c $(B)/libinfercost.a
	@mkdir -p $(dir $@)
	@mkdir -p $(B)/deps
	$(CC) $(CFLAGS) -Itests/unit -MMD -MP -MF $(B)/deps/$*.d -MT $@ $(LDFLAGS) $< $(B)/libinfercost.a $(LIBS) -o $@

# test_oom fails the library's allocations one by one: its own malloc and friends, by the linker
$(B)/tests/test_oom: LDFLAGS += -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc

# The two README commands.
demo: bootstrap
	@$(MAKE) --no-print-directory all
	@scripts/demo

test: bootstrap
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory SAN=1 all
	@tests/run.sh

# Without the bootstrap and the sanitizer build: the quick loop while editing.
test-fast: all
	@IC_SKIP_SAN=1 tests/run.sh

bench: bootstrap all
	@bench/run.sh

clean:
	rm -rf build build-san

-include $(DEPS)
