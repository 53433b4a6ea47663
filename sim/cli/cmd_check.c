/*
 * bridgesim check: run one scenario over many seeds, in parallel processes, and report
 * every seed whose run breaks an invariant (or, with --expect, an expectation), each with
 * the command that replays it (issue #5 §7). A seed also picks the probability of every
 * fault declared with a range, e.g. `p: [0, 0.05]`.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/world.h"
#include "report/summary.h"
#include "scenario/scenario.h"

#define MAX_SETS 64
#define MAX_JOBS 64 /* also in the --jobs error message */

static void check_usage(FILE *out)
{
    fprintf(out,
            "usage: bridgesim check SCENARIO --seeds N [--first S] [--jobs J] [--expect]\n"
            "                       [--set path.to.key=value]...\n\n"
            "Runs SCENARIO in virtual time once per seed S .. S+N-1 (J processes at a time)\n"
            "and checks every invariant of each run. A fault probability given as a range\n"
            "(p: [0, 0.05]) is drawn per seed. Prints one line per failing seed with the\n"
            "failed check and the exact command that replays it, then a total.\n\n"
            "  --seeds N    how many seeds (required, 1..1000000)\n"
            "  --first S    the first seed, 0 .. 2^64-1 (default 1); S+N-1 must not pass 2^64-1\n"
            "  --jobs J     parallel processes (default: the number of CPUs, at most %d)\n"
            "  --expect     also fail a seed whose expectations (expect:) do not hold\n"
            "  --set K=V    override a scenario value for every seed\n\n"
            "exit: 0 every seed passed, 1 some seed failed, 2 usage or input error\n",
            MAX_JOBS);
}

/* Replay command for @seed: the same file and --set options. */
static void replay_cmd(char *buf, size_t cap, const char *file, const char *const *sets,
                       size_t nsets, uint64_t seed)
{
    size_t n =
        (size_t)snprintf(buf, cap, "bridgesim run %s --seed %llu", file, (unsigned long long)seed);

    for (size_t i = 0; i < nsets && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, " --set '%s'", sets[i]);
}

/*
 * Run one seed in this (child) process and write one line per failed check to @fd.
 * Return: the exit code for the child: 0 passed, 1 failed, 2 could not run.
 */
static int run_seed(const char *file, const char *const *sets, size_t nsets, uint64_t seed,
                    bool expect, int fd)
{
    const char *all[MAX_SETS + 1];
    char seedset[48], err[4096] = "", dir[] = "/tmp/bridgesim-check-XXXXXX", line[1536],
                      replay[1024];
    struct bs_scenario *sc = NULL;
    struct bs_world *w = NULL;
    struct bs_run_opts ro;
    json_t *s = NULL, *v;
    size_t i;
    int failed = 0, rc, code = 2;
    FILE *out = fdopen(fd, "w");

    if (!out)
        return 2;
    snprintf(seedset, sizeof(seedset), "seed=%llu", (unsigned long long)seed);
    for (i = 0; i < nsets; i++)
        all[i] = sets[i];
    all[nsets] = seedset;
    replay_cmd(replay, sizeof(replay), file, sets, nsets, seed);
    rc = bs_scenario_load(file, all, nsets + 1, &sc, err, sizeof(err));
    if (rc) {
        fprintf(out, "seed %llu: cannot load: %s\n", (unsigned long long)seed, err);
        goto out;
    }
    if (!mkdtemp(dir)) {
        fprintf(out, "seed %llu: mkdtemp: %s\n", (unsigned long long)seed, strerror(errno));
        goto out;
    }
    memset(&ro, 0, sizeof(ro));
    ro.out_dir = dir;
    ro.dialect_dir = bs_cli_dialect_dir();
    rc = bs_world_new(sc, &ro, &w, err, sizeof(err));
    if (rc == 0)
        rc = bs_world_run(w);
    if (rc) {
        fprintf(out, "seed %llu: %s; replay: %s\n", (unsigned long long)seed,
                err[0] ? err : bs_strerror(rc), replay);
        goto out_dir;
    }
    s = bs_summary_build(sc, w, &failed);
    failed = 0;
    json_array_foreach(json_object_get(s, "invariants"), i, v)
    {
        if (json_is_true(json_object_get(v, "ok")))
            continue;
        snprintf(line, sizeof(line), "seed %llu: invariant %s failed: %s; replay: %s\n",
                 (unsigned long long)seed, json_string_value(json_object_get(v, "name")),
                 json_string_value(json_object_get(v, "detail")), replay);
        fputs(line, out);
        failed++;
    }
    if (expect) {
        json_array_foreach(json_object_get(s, "expectations"), i, v)
        {
            if (json_is_true(json_object_get(v, "ok")))
                continue;
            snprintf(line, sizeof(line),
                     "seed %llu: expectation %s %s %g failed (measured %g); replay: %s\n",
                     (unsigned long long)seed, json_string_value(json_object_get(v, "metric")),
                     json_string_value(json_object_get(v, "op")),
                     json_real_value(json_object_get(v, "expected")),
                     json_real_value(json_object_get(v, "measured")), replay);
            fputs(line, out);
            failed++;
        }
    }
    code = failed ? 1 : 0;
out_dir:
    rmdir(dir);
out:
    json_decref(s);
    bs_world_free(w);
    bs_scenario_free(sc);
    fclose(out);
    return code;
}

struct child {
    pid_t pid;
    uint64_t seed;
    int fd;
};

/* Collect one finished child: copy its lines to stdout, count the verdict. */
static void reap(struct child *c, int status, uint64_t *failed, uint64_t *errors)
{
    char buf[4096];
    ssize_t n;

    while ((n = read(c->fd, buf, sizeof(buf))) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    close(c->fd);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
        (*failed)++;
    else {
        (*errors)++;
        if (WIFSIGNALED(status))
            printf("seed %llu: the run died with signal %d\n", (unsigned long long)c->seed,
                   WTERMSIG(status));
    }
    fflush(stdout);
}

int bs_cli_check(int argc, char **argv)
{
    static const struct option opts[] = {
        { "seeds", required_argument, NULL, 'n' },
        { "first", required_argument, NULL, 'f' },
        { "jobs", required_argument, NULL, 'j' },
        { "set", required_argument, NULL, 'S' },
        { "expect", no_argument, NULL, 'e' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *sets[MAX_SETS];
    size_t nsets = 0;
    unsigned long long nseeds = 0, first = 1,
                       jobs = (unsigned long long)sysconf(_SC_NPROCESSORS_ONLN);
    bool expect = false;
    struct child running[MAX_JOBS];
    size_t nrunning = 0;
    uint64_t failed = 0, errors = 0, started = 0;
    char *end;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
        case 'f':
        case 'j': {
            unsigned long long v;
            errno = 0;
            v = strtoull(optarg, &end, 10);
            if (errno || *end || !*optarg || optarg[0] == '-' ||
                (c == 'n' && (v < 1 || v > 1000000)) || (c == 'j' && (v < 1 || v > MAX_JOBS))) {
                fprintf(stderr, "bridgesim check: bad value '%s' for --%s (%s)\n", optarg,
                        c == 'n'   ? "seeds"
                        : c == 'f' ? "first"
                                   : "jobs",
                        c == 'n'   ? "a whole number 1..1000000"
                        : c == 'f' ? "a whole number 0..18446744073709551615"
                                   : "a whole number 1..64");
                return BS_EXIT_USAGE;
            }
            if (c == 'n')
                nseeds = v;
            else if (c == 'f')
                first = v;
            else
                jobs = v;
            break;
        }
        case 'S':
            if (nsets >= MAX_SETS) {
                fprintf(stderr, "bridgesim check: at most %d --set options\n", MAX_SETS);
                return BS_EXIT_USAGE;
            }
            sets[nsets++] = optarg;
            break;
        case 'e':
            expect = true;
            break;
        case 'h':
            check_usage(stdout);
            return BS_EXIT_OK;
        default:
            check_usage(stderr);
            return BS_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || nseeds == 0) {
        fprintf(stderr, "bridgesim check: expected one SCENARIO and --seeds N\n");
        check_usage(stderr);
        return BS_EXIT_USAGE;
    }
    /* Seeds are uint64 (configs/README.md): the last one, S + N - 1, must not wrap. */
    if (first > UINT64_MAX - (nseeds - 1)) {
        fprintf(stderr,
                "bridgesim check: --first %llu --seeds %llu goes past the largest seed "
                "18446744073709551615 (2^64-1); use --first %llu or fewer seeds\n",
                first, nseeds, (unsigned long long)(UINT64_MAX - (nseeds - 1)));
        return BS_EXIT_USAGE;
    }
    if (jobs < 1)
        jobs = 1;
    if (jobs > MAX_JOBS)
        jobs = MAX_JOBS;
    {
        /* Load once in the parent: a broken file is one usage error, not N. */
        struct bs_scenario *sc = NULL;
        char err[8192] = "";
        if (bs_scenario_load(argv[optind], sets, nsets, &sc, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s\n", err);
            return BS_EXIT_USAGE;
        }
        bs_scenario_free(sc);
    }
    fflush(stdout);
    /* Counted, not compared with first + nseeds: that sum wraps for the last seeds. */
    while (started < nseeds || nrunning) {
        while (nrunning < jobs && started < nseeds) {
            uint64_t next = first + started;
            int p[2];
            pid_t pid;
            if (pipe(p) != 0) {
                perror("bridgesim check: pipe");
                return BS_EXIT_USAGE;
            }
            pid = fork();
            if (pid < 0) {
                perror("bridgesim check: fork");
                return BS_EXIT_USAGE;
            }
            if (pid == 0) {
                close(p[0]);
                _exit(run_seed(argv[optind], sets, nsets, next, expect, p[1]));
            }
            close(p[1]);
            running[nrunning++] = (struct child){ pid, next, p[0] };
            started++;
        }
        {
            int status;
            pid_t done = wait(&status);
            if (done < 0)
                break;
            for (size_t i = 0; i < nrunning; i++) {
                if (running[i].pid != done)
                    continue;
                reap(&running[i], status, &failed, &errors);
                running[i] = running[--nrunning];
                break;
            }
        }
    }
    printf("%llu seed%s checked: %llu passed, %llu failed", nseeds, nseeds == 1 ? "" : "s",
           (unsigned long long)(nseeds - failed - errors), (unsigned long long)(failed + errors));
    if (errors)
        printf(" (%llu could not run)", (unsigned long long)errors);
    printf("\n");
    return failed || errors ? BS_EXIT_FAILED : BS_EXIT_OK;
}
