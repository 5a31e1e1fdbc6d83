/* command.h: how a subcommand joins the infercost command. Each src/cli/cmd_*.c (and the
 * gateway's serve/mock-provider files) declares itself with IC_COMMAND(name, summary, fn); the
 * linker gathers the declarations into one section that main.c walks, so adding a command edits
 * no shared table. A command returns the process exit status: 0 ok, 1 some input failed,
 * 2 usage or setup error. It prints results on stdout and one clear line per error on stderr. */
#ifndef IC_CLI_COMMAND_H
#define IC_CLI_COMMAND_H

typedef struct ic_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} ic_command;

#define IC_COMMAND(ident, name_, summary_, fn_)                                          \
    __attribute__((used, section("ic_commands"), aligned(sizeof(void *))))              \
    const ic_command ic_command_##ident = {name_, summary_, fn_}

#endif
