/*
 * bridgesim — the program. A thin front end: it parses the subcommand and hands over to
 * the module that does the work (GUIDE §5 "Thin front end, one library").
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "engine/cryptopool.h"

#ifndef BS_SOURCE_DIR
#define BS_SOURCE_DIR "."
#endif
#ifndef BS_VERSION
#define BS_VERSION "0.0.0"
#endif

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} commands[] = {
    { "run", bs_cli_run, "run a scenario file and write journals and a summary" },
    { "validate", bs_cli_validate, "check a scenario file without running it" },
    { "check", bs_cli_check, "run a scenario over many seeds and report every failing one" },
    { "msg", bs_cli_msg, "decode, encode or translate one ISO 8583 message" },
    { "log", bs_cli_log, "inspect, trace, verify and export a run's journals" },
    { "bench", bs_cli_bench, "offer load step by step and find the saturation point" },
    { "keygen", bs_cli_keygen, "write every node's signing keys as PEM files (mode 0600)" },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: bridgesim COMMAND [OPTIONS]\n\n"
                 "Simulates card payments between a Mir-like and a Shetab-like network through\n"
                 "a clearing bridge, with signed ISO 8583 messages on every hop.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\n'bridgesim COMMAND --help' describes each command.\n"
                 "exit codes: 0 success, 1 a check failed, 2 usage or input error\n");
}

const char *bs_cli_dialect_dir(void)
{
    static char dir[1024];
    const char *env = getenv("BRIDGESIM_DIALECTS");
    struct stat st;

    if (env && *env)
        return env;
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "%s/configs/dialects", BS_SOURCE_DIR);
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
            snprintf(dir, sizeof(dir), "configs/dialects");
    }
    return dir;
}

int bs_cli_crypto_threads(const char *cmd, const char *arg, unsigned *ret)
{
    char *end;
    unsigned long v;

    if (strcmp(arg, "auto") == 0) {
        *ret = BS_CPOOL_AUTO;
        return 0;
    }
    errno = 0;
    v = strtoul(arg, &end, 10);
    if (errno || *end || !*arg || arg[0] == '-' || v > BS_CPOOL_MAX_THREADS) {
        fprintf(stderr, "bridgesim %s: --crypto-threads takes 0..%d or auto, not '%s'\n", cmd,
                BS_CPOOL_MAX_THREADS, arg);
        return -1;
    }
    *ret = (unsigned)v;
    return 0;
}

int main(int argc, char **argv)
{
    /* A closed pipe (bridgesim ... | head) must end the write, not the process. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return BS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return BS_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("bridgesim %s\n", BS_VERSION);
        return BS_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "bridgesim: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return BS_EXIT_USAGE;
}
