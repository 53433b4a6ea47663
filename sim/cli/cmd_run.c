/* bridgesim run: load a scenario, run it, write summary.json, exit by its checks. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/cryptopool.h"
#include "engine/world.h"
#include "report/settlement_report.h"
#include "report/summary.h"
#include "scenario/scenario.h"

#define MAX_SETS 64

static void run_usage(FILE *out)
{
    fprintf(out,
            "usage: bridgesim run SCENARIO [--seed N] [--out DIR] [--realtime] [--json]\n"
            "                     [--set path.to.key=value]... [--no-journals] [--quiet]\n"
            "                     [--force] [--crypto-threads N]\n\n"
            "Runs SCENARIO (a YAML file, see configs/README.md) and writes a run directory:\n"
            "  journals/<node>.jsonl   every message in and out of each node, PAN masked\n"
            "  summary.json            outcomes, latency percentiles, invariants, expectations\n"
            "  settlement.json         settlement windows, net positions, reconciliation\n\n"
            "  --seed N        override the scenario's seed (same seed: identical journals)\n"
            "  --out DIR       run directory (default runs/<scenario>-<seed>); an earlier\n"
            "                  run's files there are removed first, so journals never mix\n"
            "  --force         write into --out even when it holds other files (they stay)\n"
            "  --realtime      run on libuv timers in wall-clock time (default: virtual time)\n"
            "  --json          print summary.json instead of the tables (settlement: the file)\n"
            "  --set K=V       override one scenario value, e.g. --set workload.rate_tps=100\n"
            "  --no-journals   skip per-node journals (faster; summary only)\n"
            "  --quiet         print nothing on success\n"
            "  --crypto-threads N  realtime: threads that sign and verify off the event loop\n"
            "                  (default auto: one per core for ed25519 and ecdsa-p256, none for\n"
            "                  MACs; 0: on the loop)\n\n"
            "SIGINT (Ctrl-C) stops the run: journals are completed and the summary is written,\n"
            "marked interrupted, with unfinished transactions reported as in flight.\n\n"
            "exit: 0 every invariant and expectation held, 1 one failed or the run was\n"
            "interrupted, 2 usage or input error\n");
}

static volatile int stop_flag;

static void on_sigint(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    int ok;

    if (!f)
        return -1;
    ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    return ok ? 0 : -1;
}

/* The files a run writes at the top of its directory (journals/ holds the rest). */
static const char *const own_files[] = { "summary.json", "settlement.json" };

static bool is_own_file(const char *name)
{
    for (size_t i = 0; i < sizeof(own_files) / sizeof(own_files[0]); i++)
        if (strcmp(name, own_files[i]) == 0)
            return true;
    return false;
}

/* What a run writes in journals/: <node>.jsonl and manifest.json. */
static bool is_journal_name(const char *name)
{
    size_t n = strlen(name);

    return (n > 6 && strcmp(name + n - 6, ".jsonl") == 0) || strcmp(name, "manifest.json") == 0;
}

/*
 * Make @dir ready for a run, so that no journal of an earlier run mixes with this one's:
 * a missing or empty directory is fine; a previous run's files (summary.json,
 * settlement.json, journals/<node>.jsonl and journals/manifest.json) are removed; any other file
 * makes the directory someone else's, refused unless @force (which still removes only the run's own
 * files). Return: 0, or -1 with the reason printed.
 */
static int prepare_out_dir(const char *dir, bool force)
{
    char path[1024], foreign[3][256];
    size_t nforeign = 0, nmore = 0;
    struct dirent *de;
    DIR *d = opendir(dir), *jd;

    if (!d) {
        if (errno == ENOENT)
            return 0;
        fprintf(stderr, "bridgesim run: --out %s: %s; give a directory\n", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d))) {
        const char *name = de->d_name;

        if (!strcmp(name, ".") || !strcmp(name, "..") || is_own_file(name))
            continue;
        if (!strcmp(name, "journals")) {
            snprintf(path, sizeof(path), "%s/journals", dir);
            jd = opendir(path);
            for (struct dirent *je; jd && (je = readdir(jd));) {
                if (!strcmp(je->d_name, ".") || !strcmp(je->d_name, "..") ||
                    is_journal_name(je->d_name))
                    continue;
                if (nforeign < 3)
                    snprintf(foreign[nforeign++], sizeof(foreign[0]), "journals/%s", je->d_name);
                else
                    nmore++;
            }
            if (jd)
                closedir(jd);
            continue;
        }
        if (nforeign < 3)
            snprintf(foreign[nforeign++], sizeof(foreign[0]), "%s", name);
        else
            nmore++;
    }
    if (nforeign && !force) {
        closedir(d);
        fprintf(stderr, "bridgesim run: --out %s holds files that are not from a bridgesim run (",
                dir);
        for (size_t i = 0; i < nforeign; i++)
            fprintf(stderr, "%s'%s'", i ? ", " : "", foreign[i]);
        if (nmore)
            fprintf(stderr, " and %zu more", nmore);
        fprintf(stderr, "); give an empty or new directory, or --force to write there anyway "
                        "(a run removes only its own files)\n");
        return -1;
    }
    /* Remove the earlier run's files: every journal, so none is left from other nodes. */
    rewinddir(d);
    while ((de = readdir(d))) {
        if (!is_own_file(de->d_name))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (unlink(path) != 0 && errno != ENOENT)
            goto unlink_failed;
    }
    closedir(d);
    snprintf(path, sizeof(path), "%s/journals", dir);
    jd = opendir(path);
    for (struct dirent *je; jd && (je = readdir(jd));) {
        if (!is_journal_name(je->d_name))
            continue;
        snprintf(path, sizeof(path), "%s/journals/%s", dir, je->d_name);
        if (unlink(path) != 0 && errno != ENOENT) {
            closedir(jd);
            fprintf(stderr, "bridgesim run: cannot remove %s of an earlier run: %s\n", path,
                    strerror(errno));
            return -1;
        }
    }
    if (jd)
        closedir(jd);
    return 0;

unlink_failed:
    fprintf(stderr, "bridgesim run: cannot remove %s of an earlier run: %s\n", path,
            strerror(errno));
    closedir(d);
    return -1;
}

int bs_cli_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "seed", required_argument, NULL, 's' },
        { "out", required_argument, NULL, 'o' },
        { "realtime", no_argument, NULL, 'r' },
        { "json", no_argument, NULL, 'j' },
        { "set", required_argument, NULL, 'S' },
        { "no-journals", no_argument, NULL, 'n' },
        { "quiet", no_argument, NULL, 'q' },
        { "force", no_argument, NULL, 'f' },
        { "crypto-threads", required_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *sets[MAX_SETS + 1];
    size_t nsets = 0;
    char seedset[64], errbuf[8192], out_dir[512] = "", path[640];
    const char *out_opt = NULL;
    bool realtime = false, json_out = false, journals = true, quiet = false, force = false;
    unsigned crypto_threads = BS_CPOOL_AUTO;
    struct bs_scenario *sc = NULL;
    struct bs_world *w = NULL;
    struct bs_run_opts ro;
    json_t *summary = NULL, *settlement = NULL;
    char *text;
    int c, rc, failed = 0, exit_code = BS_EXIT_USAGE;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno || *end || !*optarg || optarg[0] == '-') {
                fprintf(stderr, "bridgesim run: --seed takes a whole number 0..2^64-1, not '%s'\n",
                        optarg);
                return BS_EXIT_USAGE;
            }
            snprintf(seedset, sizeof(seedset), "seed=%llu", v);
            if (nsets < MAX_SETS)
                sets[nsets++] = seedset;
            break;
        }
        case 'o':
            out_opt = optarg;
            break;
        case 'r':
            realtime = true;
            break;
        case 'j':
            json_out = true;
            break;
        case 'S':
            if (nsets >= MAX_SETS) {
                fprintf(stderr, "bridgesim run: at most %d --set options\n", MAX_SETS);
                return BS_EXIT_USAGE;
            }
            sets[nsets++] = optarg;
            break;
        case 'n':
            journals = false;
            break;
        case 'q':
            quiet = true;
            break;
        case 'f':
            force = true;
            break;
        case 'T':
            if (bs_cli_crypto_threads("run", optarg, &crypto_threads) != 0)
                return BS_EXIT_USAGE;
            break;
        case 'h':
            run_usage(stdout);
            return BS_EXIT_OK;
        default:
            run_usage(stderr);
            return BS_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "bridgesim run: expected one SCENARIO file\n");
        run_usage(stderr);
        return BS_EXIT_USAGE;
    }
    errbuf[0] = '\0';
    rc = bs_scenario_load(argv[optind], sets, nsets, &sc, errbuf, sizeof(errbuf));
    if (rc == 0)
        rc = bs_scenario_check_dialects(sc, bs_cli_dialect_dir(), errbuf, sizeof(errbuf));
    if (rc) {
        fprintf(stderr, "%s%s", errbuf[0] ? errbuf : bs_strerror(rc),
                errbuf[0] && errbuf[strlen(errbuf) - 1] == '\n' ? "" : "\n");
        bs_scenario_free(sc);
        return BS_EXIT_USAGE;
    }
    if (realtime)
        sc->realtime = true;
    if (out_opt && !*out_opt) {
        fprintf(stderr, "bridgesim run: --out needs a directory name\n");
        goto out;
    }
    if (out_opt)
        snprintf(out_dir, sizeof(out_dir), "%s", out_opt);
    else
        snprintf(out_dir, sizeof(out_dir), "runs/%s-%llu", sc->name, (unsigned long long)sc->seed);
    if (prepare_out_dir(out_dir, force) != 0)
        goto out;

    memset(&ro, 0, sizeof(ro));
    ro.out_dir = out_dir;
    ro.dialect_dir = bs_cli_dialect_dir();
    ro.realtime = sc->realtime;
    ro.journals = journals;
    ro.progress = sc->realtime && !quiet && isatty(STDERR_FILENO);
    ro.stop = &stop_flag;
    ro.crypto_threads = crypto_threads;
    /* SIGINT stops the run cleanly: journals closed with their checkpoints, the summary
     * written and marked interrupted (in real time the libuv loop takes the signal while
     * it runs). */
    signal(SIGINT, on_sigint);

    rc = bs_world_new(sc, &ro, &w, errbuf, sizeof(errbuf));
    if (rc) {
        fprintf(stderr, "bridgesim run: %s\n", errbuf[0] ? errbuf : bs_strerror(rc));
        goto out;
    }
    rc = bs_world_run(w);
    if (rc) {
        fprintf(stderr, "bridgesim run: %s while running (journals in %s may be incomplete)\n",
                bs_strerror(rc), out_dir);
        exit_code = BS_EXIT_FAILED;
        goto out;
    }
    summary = bs_summary_build(sc, w, &failed);
    if (!summary) {
        fprintf(stderr, "bridgesim run: out of memory building the summary\n");
        goto out;
    }
    text = json_dumps(summary, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    snprintf(path, sizeof(path), "%s/summary.json", out_dir);
    if (!text || write_file(path, text) != 0) {
        fprintf(stderr, "bridgesim run: cannot write %s: %s\n", path, strerror(errno));
        free(text);
        goto out;
    }
    /* settlement.json: the windows, positions, instruction and reconciliation. */
    settlement = bs_settlement_report_build(sc, w);
    {
        char *stext =
            settlement ? json_dumps(settlement, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        snprintf(path, sizeof(path), "%s/settlement.json", out_dir);
        if (!stext || write_file(path, stext) != 0) {
            fprintf(stderr, "bridgesim run: cannot write %s: %s\n", path,
                    stext ? strerror(errno) : "out of memory");
            free(stext);
            free(text);
            goto out;
        }
        free(stext);
    }
    if (json_out)
        printf("%s\n", text);
    else if (!quiet || failed)
        bs_summary_print(summary, failed && quiet ? stderr : stdout);
    if (!json_out && !quiet)
        bs_settlement_report_print(settlement, stdout);
    if (!json_out && !quiet)
        printf("  run directory: %s\n", out_dir);
    free(text);
    exit_code = failed || stop_flag ? BS_EXIT_FAILED : BS_EXIT_OK;
    /* The report went to stdout; with both streams on one file (> f 2>&1) an unflushed
     * stdout would be cut by the stderr line below. */
    fflush(stdout);
    if (stop_flag && !failed)
        fprintf(stderr,
                "bridgesim run: interrupted; what ended was checked, the rest is reported as in "
                "flight (summary in %s)\n",
                out_dir);
    if (failed) {
        /* The replay command carries every --set, so it reproduces this very run. */
        fprintf(stderr,
                "bridgesim run: %d check(s) failed; replay with: bridgesim run %s --seed %llu",
                failed, argv[optind], (unsigned long long)sc->seed);
        for (size_t i = 0; i < nsets; i++)
            if (sets[i] != seedset)
                fprintf(stderr, " --set '%s'", sets[i]);
        fprintf(stderr, "\n");
    }
out:
    json_decref(settlement);
    json_decref(summary);
    bs_world_free(w);
    bs_scenario_free(sc);
    return exit_code;
}
