/*
 * bridgesim validate SCENARIO [--set key=value]... — load and check a scenario file without
 * running it. All the checking is bs_scenario_load()'s; this only parses arguments and
 * reports (GUIDE §5: thin front end).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "scenario/scenario.h"

/* Enough for the loader's 20 error lines and the "... and N more" line. */
#define ERRBUF_SIZE 16384

static void usage(FILE *out)
{
    fputs("usage: bridgesim validate SCENARIO [--set key=value]... [--help]\n"
          "\n"
          "Load SCENARIO (a YAML file, see configs/README.md), apply the overrides and check\n"
          "it strictly: unknown keys, types, units, ranges, node names in links, timer\n"
          "nesting, flows, and that every dialect exists and parses. Prints\n"
          "\"SCENARIO: ok (N nodes, M links, K flows)\" or every error found as\n"
          "file:line:column lines on stderr.\n"
          "\n"
          "  --set key=value  override a value before checking; the key is a dotted path\n"
          "                   (workload.rate_tps=100, links.list.5.loss=0.01), the value\n"
          "                   is YAML. May be repeated.\n"
          "  -h, --help       show this help\n"
          "\n"
          "Exit status: 0 valid, 2 invalid or a usage error.\n",
          out);
}

int bs_cli_validate(int argc, char **argv)
{
    /* Overrides point into argv; at most one per argument. */
    const char **sets = NULL;
    const char *path = NULL;
    size_t nsets = 0;
    struct bs_scenario *sc = NULL;
    static char err[ERRBUF_SIZE];
    bool opts_done = false;
    int rc, exit_code = BS_EXIT_USAGE;

    sets = argc > 0 ? calloc((size_t)argc, sizeof(*sets)) : NULL;
    if (argc > 0 && !sets) {
        fputs("bridgesim validate: out of memory\n", stderr);
        return BS_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!opts_done && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            usage(stdout);
            exit_code = BS_EXIT_OK;
            goto free_sets;
        } else if (!opts_done && strcmp(a, "--set") == 0) {
            if (i + 1 >= argc) {
                fputs("bridgesim validate: --set needs key=value\n", stderr);
                goto usage_error;
            }
            sets[nsets++] = argv[++i];
        } else if (!opts_done && strncmp(a, "--set=", 6) == 0) {
            sets[nsets++] = a + 6;
        } else if (!opts_done && strcmp(a, "--") == 0) {
            opts_done = true;
        } else if (!opts_done && a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "bridgesim validate: unknown option '%s'\n", a);
            goto usage_error;
        } else if (path) {
            fprintf(stderr, "bridgesim validate: one scenario at a time ('%s' and '%s')\n", path,
                    a);
            goto usage_error;
        } else {
            path = a;
        }
    }
    if (!path) {
        fputs("bridgesim validate: no scenario file given\n", stderr);
        goto usage_error;
    }

    rc = bs_scenario_load(path, sets, nsets, &sc, err, sizeof(err));
    if (rc == 0) {
        /* The dialects too, as a run loads them: an undefined one is an error. */
        rc = bs_scenario_check_dialects(sc, bs_cli_dialect_dir(), err, sizeof(err));
        if (rc) {
            bs_scenario_free(sc);
            sc = NULL;
        }
    }
    if (rc) {
        if (err[0])
            fprintf(stderr, "%s\n", err);
        else
            fprintf(stderr, "%s: %s\n", path, bs_strerror(rc));
        exit_code = BS_EXIT_USAGE;
        goto free_sets;
    }
    printf("%s: ok (%zu nodes, %zu links, %zu flows)\n", path, bs_scenario_node_names(sc, NULL, 0),
           sc->nlinks, sc->workload.nflows);
    bs_scenario_free(sc);
    exit_code = BS_EXIT_OK;
    goto free_sets;

usage_error:
    fputs("usage: bridgesim validate SCENARIO [--set key=value]... [--help]\n", stderr);
free_sets:
    free(sets);
    return exit_code;
}
