/* bridgesim bench: parse the options, run sim/bench, print the table, write --json/--plot. */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "engine/cryptopool.h"
#include "scenario/scenario.h"

#define MAX_SETS 64

static void bench_usage(FILE *out)
{
    fprintf(out,
            "usage: bridgesim bench SCENARIO [--rate TPS | --ramp START:END:STEP |\n"
            "                       --concurrency N[:END:STEP]] [--step-duration D] [--warmup D]\n"
            "                       [--slo SPEC] [--json FILE] [--plot FILE.svg] [--realtime]\n"
            "                       [--set path.to.key=value]... [--seed N] [--drain D]\n"
            "                       [--in-process] [--quiet] [--crypto-threads N]\n\n"
            "Offers load to SCENARIO step by step and reports, per step, achieved throughput,\n"
            "approvals, timeouts, stand-ins, reversals, latency percentiles, CPU and peak RSS,\n"
            "and the knee: the highest step that meets the SLO. docs/bench.md explains it all.\n\n"
            "  --rate TPS          one step at TPS (default: the scenario's workload.rate_tps)\n"
            "  --ramp A:B:S        steps at A, A+S, ... up to B transactions per second\n"
            "  --concurrency N     closed loop: N terminals, each starting its next transaction\n"
            "                      when the last is answered (N:END:STEP ramps it)\n"
            "  --step-duration D   measured time per step (default 30s; 500ms, 2min, ...)\n"
            "  --warmup D          time before each step's window, not measured (default 5s)\n"
            "  --drain D           time after each step for answers (default: the scenario's\n"
            "                      time.drain in model mode; with --realtime the longest\n"
            "                      terminal timer + 5s, so every transaction ends)\n"
            "  --slo SPEC          p50|p90|p99|p99.9|max=DURATION, success|approval=RATE,\n"
            "                      comma-separated (default p99=2000ms,success=99.5%%)\n"
            "  --json FILE         write the results as JSON ('-' for stdout)\n"
            "  --plot FILE.svg     draw latency percentiles and achieved TPS against load\n"
            "  --realtime          run on libuv in wall-clock time: what this machine achieves\n"
            "                      (default: model mode, virtual time, deterministic)\n"
            "  --set K=V           override a scenario value, e.g. --set bridge.workers=8\n"
            "  --seed N            override the scenario's seed\n"
            "  --in-process        run every step in this process (peak RSS is then the\n"
            "                      process's, not the step's)\n"
            "  --quiet             no progress lines\n"
            "  --crypto-threads N  with --realtime: threads that sign and verify off the event\n"
            "                      loop (default auto: one per core for ed25519 and ecdsa-p256,\n"
            "                      none for MACs; 0: on the loop)\n\n"
            "exit: 0 done (and, with --slo, some step met it), 1 --slo given and no step met it,\n"
            "      2 usage or input error\n");
}

static volatile int stop_flag;

static void on_sigint(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/*
 * Open @path for the results before the bench runs, so an unwritable path is a usage error
 * now rather than after the whole bench. The file keeps its old content until the results
 * replace it (truncated then); *@created says whether this call made it.
 * Return: the stream, or NULL with the reason printed.
 */
static FILE *open_output(const char *path, bool *created)
{
    struct stat st;
    FILE *f;
    int fd;

    *created = stat(path, &st) != 0;
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        fprintf(stderr, "bridgesim bench: cannot write %s: %s; give a writable path\n", path,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    return f;
}

/* Replace what @f held with the results about to be written. */
static void truncate_output(FILE *f)
{
    if (f != stdout && ftruncate(fileno(f), 0) == 0)
        rewind(f);
}

int bs_cli_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        { "rate", required_argument, NULL, 'R' },
        { "ramp", required_argument, NULL, 'A' },
        { "concurrency", required_argument, NULL, 'C' },
        { "step-duration", required_argument, NULL, 'D' },
        { "duration", required_argument, NULL, 'D' },
        { "warmup", required_argument, NULL, 'W' },
        { "drain", required_argument, NULL, 'N' },
        { "slo", required_argument, NULL, 'L' },
        { "json", required_argument, NULL, 'j' },
        { "plot", required_argument, NULL, 'p' },
        { "realtime", no_argument, NULL, 'r' },
        { "set", required_argument, NULL, 'S' },
        { "seed", required_argument, NULL, 's' },
        { "out", required_argument, NULL, 'o' },
        { "in-process", no_argument, NULL, 'I' },
        { "quiet", no_argument, NULL, 'q' },
        { "crypto-threads", required_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static struct bs_bench_cfg cfg; /* large (per-step arrays): not on the stack */
    struct bs_bench_result res;
    const char *sets[MAX_SETS + 1];
    const char *ramp = NULL, *conc = NULL, *json_path = NULL, *plot_path = NULL, *out_opt = NULL;
    FILE *json_out = NULL, *plot_out = NULL;
    bool json_created = false, plot_created = false;
    char seedset[64], errbuf[8192], tmpdir[] = "/tmp/bridgesim-bench-XXXXXX";
    double rate = 0, vals[BS_BENCH_MAX_STEPS];
    bool slo_given = false, quiet = false, made_tmp = false;
    size_t nsets = 0, nvals = 0;
    int c, rc, exit_code = BS_EXIT_USAGE;

    memset(&cfg, 0, sizeof(cfg));
    memset(&res, 0, sizeof(res));
    cfg.warmup = 5 * BS_US_PER_SEC;
    cfg.duration = 30 * BS_US_PER_SEC;
    cfg.drain = -1;
    cfg.isolate = true;
    cfg.crypto_threads = BS_CPOOL_AUTO;
    rc = bs_bench_parse_slo("p99=2000ms,success=99.5%", &cfg.slo, errbuf, sizeof(errbuf));
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'R': {
            char *end;
            errno = 0;
            rate = strtod(optarg, &end);
            if (errno || *end || !(rate > 0) || rate > 10e6) {
                fprintf(stderr, "bridgesim bench: --rate takes a number in (0, 10000000]\n");
                return BS_EXIT_USAGE;
            }
            break;
        }
        case 'A':
            ramp = optarg;
            break;
        case 'C':
            conc = optarg;
            break;
        case 'D':
        case 'W':
        case 'N': {
            bs_time_us d;
            if (bs_bench_parse_duration(optarg, &d) != 0) {
                fprintf(stderr, "bridgesim bench: '%s' is not a duration (30s, 500ms, 2min)\n",
                        optarg);
                return BS_EXIT_USAGE;
            }
            if (c == 'D')
                cfg.duration = d;
            else if (c == 'W')
                cfg.warmup = d;
            else
                cfg.drain = d;
            break;
        }
        case 'L':
            if (bs_bench_parse_slo(optarg, &cfg.slo, errbuf, sizeof(errbuf)) != 0) {
                fprintf(stderr, "bridgesim bench: %s\n", errbuf);
                return BS_EXIT_USAGE;
            }
            slo_given = true;
            break;
        case 'j':
            json_path = optarg;
            break;
        case 'p':
            plot_path = optarg;
            break;
        case 'r':
            cfg.realtime = true;
            break;
        case 'S':
            if (nsets >= MAX_SETS) {
                fprintf(stderr, "bridgesim bench: at most %d --set options\n", MAX_SETS);
                return BS_EXIT_USAGE;
            }
            sets[nsets++] = optarg;
            break;
        case 's': {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno || *end || !*optarg || optarg[0] == '-' || nsets >= MAX_SETS) {
                fprintf(stderr, "bridgesim bench: --seed takes a whole number 0..2^64-1\n");
                return BS_EXIT_USAGE;
            }
            snprintf(seedset, sizeof(seedset), "seed=%llu", v);
            sets[nsets++] = seedset;
            break;
        }
        case 'o':
            out_opt = optarg;
            break;
        case 'I':
            cfg.isolate = false;
            break;
        case 'T':
            if (bs_cli_crypto_threads("bench", optarg, &cfg.crypto_threads) != 0)
                return BS_EXIT_USAGE;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            bench_usage(stdout);
            return BS_EXIT_OK;
        default:
            bench_usage(stderr);
            return BS_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "bridgesim bench: expected one SCENARIO file\n");
        bench_usage(stderr);
        return BS_EXIT_USAGE;
    }
    if ((rate > 0) + (ramp != NULL) + (conc != NULL) > 1) {
        fprintf(stderr, "bridgesim bench: give one of --rate, --ramp, --concurrency\n");
        return BS_EXIT_USAGE;
    }
    if (cfg.duration <= 0) {
        fprintf(stderr, "bridgesim bench: --step-duration must be more than 0\n");
        return BS_EXIT_USAGE;
    }
    cfg.scenario = argv[optind];
    cfg.sets = sets;
    cfg.nsets = nsets;
    cfg.dialect_dir = bs_cli_dialect_dir();
    if (ramp || conc) {
        if (bs_bench_parse_range(ramp ? ramp : conc, vals, BS_BENCH_MAX_STEPS, &nvals, errbuf,
                                 sizeof(errbuf)) != 0) {
            fprintf(stderr, "bridgesim bench: --%s %s\n", ramp ? "ramp" : "concurrency", errbuf);
            return BS_EXIT_USAGE;
        }
        for (size_t i = 0; i < nvals; i++) {
            if (conc && (vals[i] < 1 || vals[i] > 1e6 || vals[i] != (double)(uint32_t)vals[i])) {
                fprintf(stderr, "bridgesim bench: --concurrency takes whole numbers 1..1000000\n");
                return BS_EXIT_USAGE;
            }
            if (ramp && vals[i] > 10e6) {
                fprintf(stderr, "bridgesim bench: --ramp rates go up to 10000000\n");
                return BS_EXIT_USAGE;
            }
            cfg.rates[i] = vals[i];
            cfg.concurrency[i] = conc ? (uint32_t)vals[i] : 0;
        }
        cfg.nsteps = nvals;
        cfg.closed = conc != NULL;
    } else {
        if (rate <= 0) {
            /* The scenario's own rate: one step. */
            struct bs_scenario *sc = NULL;
            errbuf[0] = '\0';
            rc = bs_scenario_load(cfg.scenario, sets, nsets, &sc, errbuf, sizeof(errbuf));
            if (rc) {
                fprintf(stderr, "%s\n", errbuf[0] ? errbuf : bs_strerror(rc));
                return BS_EXIT_USAGE;
            }
            rate = sc->workload.rate_tps;
            bs_scenario_free(sc);
        }
        cfg.rates[0] = rate;
        cfg.nsteps = 1;
    }
    /* Check the output files before minutes of benchmarking, not after. */
    if (json_path) {
        json_out = strcmp(json_path, "-") == 0 ? stdout : open_output(json_path, &json_created);
        if (!json_out)
            return BS_EXIT_USAGE;
    }
    if (plot_path) {
        plot_out = open_output(plot_path, &plot_created);
        if (!plot_out) {
            exit_code = BS_EXIT_USAGE;
            goto out;
        }
    }
    if (out_opt) {
        cfg.out_dir = out_opt;
    } else {
        /* Steps write nothing (journals are off), but a world needs a run directory. */
        if (!mkdtemp(tmpdir)) {
            fprintf(stderr, "bridgesim bench: cannot create %s: %s\n", tmpdir, strerror(errno));
            exit_code = BS_EXIT_FAILED;
            goto out;
        }
        made_tmp = true;
        cfg.out_dir = tmpdir;
    }
    cfg.progress = quiet ? NULL : stderr;
    cfg.progress_tty = !quiet && isatty(STDERR_FILENO);
    cfg.stop = &stop_flag;
    signal(SIGINT, on_sigint);

    rc = bs_bench_run(&cfg, &res, errbuf, sizeof(errbuf));
    if (rc) {
        fprintf(stderr, "bridgesim bench: %s\n", errbuf[0] ? errbuf : bs_strerror(rc));
        exit_code = rc == BS_EFORMAT || rc == BS_EINVAL ? BS_EXIT_USAGE : BS_EXIT_FAILED;
        goto out;
    }
    bs_bench_print_table(&cfg, &res, stdout);
    exit_code = slo_given && res.knee < 0 ? BS_EXIT_FAILED : BS_EXIT_OK;
    if (json_out) {
        json_t *j = bs_bench_json(&cfg, &res);

        truncate_output(json_out);
        int ok = j != NULL &&
                 json_dumpf(j, json_out,
                            JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) == 0 &&
                 fputc('\n', json_out) != EOF;

        json_decref(j);
        if (json_out != stdout && fclose(json_out) != 0)
            ok = 0;
        json_out = NULL;
        if (!ok) {
            fprintf(stderr, "bridgesim bench: cannot write %s\n", json_path);
            exit_code = BS_EXIT_FAILED;
        }
    }
    if (plot_out) {
        int wr;

        truncate_output(plot_out);
        wr = bs_bench_svg(&cfg, &res, plot_out);

        if (fclose(plot_out) != 0)
            wr = BS_EIO;
        plot_out = NULL;
        if (wr) {
            fprintf(stderr, "bridgesim bench: cannot write %s: %s\n", plot_path, strerror(errno));
            exit_code = BS_EXIT_FAILED;
        }
    }
out:
    /* The bench did not finish: leave no empty file behind that we created. */
    if (json_out && json_out != stdout) {
        fclose(json_out);
        if (json_created)
            unlink(json_path);
    }
    if (plot_out) {
        fclose(plot_out);
        if (plot_created)
            unlink(plot_path);
    }
    bs_bench_result_deinit(&res);
    if (made_tmp)
        rmdir(tmpdir);
    return exit_code;
}
