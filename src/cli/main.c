/* main.c: the infercost command: dispatches to the subcommands that declared themselves with
 * IC_COMMAND (command.h). It holds no command logic of its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"

extern const ic_command __start_ic_commands[];
extern const ic_command __stop_ic_commands[];

static int cmp_cmd(const void *a, const void *b)
{
    return strcmp((*(const ic_command *const *)a)->name, (*(const ic_command *const *)b)->name);
}

static void usage(FILE *f)
{
    size_t n = (size_t)(__stop_ic_commands - __start_ic_commands);
    const ic_command **list = calloc(n ? n : 1, sizeof *list);
    for (size_t i = 0; i < n && list; i++)
        list[i] = &__start_ic_commands[i];
    if (list)
        qsort(list, n, sizeof *list, cmp_cmd);
    fprintf(f, "usage: infercost COMMAND [OPTIONS]   (infercost COMMAND --help for each)\n\n"
               "commands:\n");
    for (size_t i = 0; i < n && list; i++)
        fprintf(f, "  %-16s %s\n", list[i]->name, list[i]->summary);
    free(list);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help") || !strcmp(argv[1], "--version")) {
        if (!strcmp(argc < 2 ? "" : argv[1], "--version"))
            printf("infercost 0.1.0\n");
        else
            usage(argc < 2 ? stderr : stdout);
        if (fflush(stdout) != 0 || ferror(stdout)) { /* as for every command, below */
            fprintf(stderr, "infercost: write error: the output could not be written\n");
            return 1;
        }
        return argc < 2 ? 2 : 0;
    }
    for (const ic_command *c = __start_ic_commands; c < __stop_ic_commands; c++)
        if (!strcmp(c->name, argv[1])) {
            int rc = c->run(argc - 1, argv + 1);
            /* output that could not be written (a full disk, a closed pipe) is an error, for
             * every command: one that said nothing of it is not taken as a success */
            if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0) {
                fprintf(stderr, "infercost: %s: write error: the output could not be written\n",
                        c->name);
                rc = 1;
            }
            return rc;
        }
    fprintf(stderr, "infercost: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
