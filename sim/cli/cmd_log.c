/*
 * bridgesim log show|trace|stats|verify|export RUNDIR: argument parsing only; the work is
 * in sim/journal/ (logcmd.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "journal/logcmd.h"

static void log_usage(FILE *out)
{
    fprintf(out,
            "usage: bridgesim log show RUNDIR [filters] [--limit N] [--json]\n"
            "       bridgesim log trace RUNDIR ID [--json]\n"
            "       bridgesim log stats RUNDIR [--json]\n"
            "       bridgesim log verify RUNDIR [--json]\n"
            "       bridgesim log export RUNDIR --format csv|sqlite --out FILE\n\n"
            "Reads the journals of a run (RUNDIR/journals/*.jsonl; format: docs/journal.md).\n\n"
            "  show     records of every node in time order, as a table that fits the\n"
            "           terminal, or as JSON Lines (--json). Filters (comma lists; --node and\n"
            "           --mti take wildcards):\n"
            "             --node mir.*  --kind msg_out,timeout  --mti 02?0  --rc 00,51\n"
            "             --stan 000123  --rrn 606109000001  --trace 42  --pan-last4 7407\n"
            "             --since T  --until T   T: 2026-03-02T09:00:05Z, 09:00:05, +5s\n"
            "  trace    one transaction hop by hop: a ladder (terminal, acquirer, switch,\n"
            "           bridge, switch, issuer) and per-hop latency. ID: trace id, RRN or STAN\n"
            "  stats    counts per MTI, RC, node and link; latency percentiles per hop and end\n"
            "           to end; timeouts, stand-ins, reversals, duplicates, signature failures\n"
            "  verify   every hash chain and checkpoint signature; exit 1 names FILE:LINE\n"
            "  export   every record to CSV or to an SQLite database (table 'messages');\n"
            "           --out - writes to stdout\n\n"
            "  --color=auto|always|never   colours (default: on a terminal, unless NO_COLOR)\n"
            "  --width N                   table width (default: the terminal's, or 100)\n\n"
            "exit: 0 success, 1 verification failed (or trace found nothing), 2 usage or "
            "input error\n");
}

int bs_cli_log(int argc, char **argv)
{
    enum {
        O_NODE = 256,
        O_KIND,
        O_MTI,
        O_RC,
        O_STAN,
        O_RRN,
        O_TRACE,
        O_PAN4,
        O_SINCE,
        O_UNTIL,
        O_LIMIT,
        O_JSON,
        O_COLOR,
        O_WIDTH,
        O_FORMAT,
        O_OUT
    };
    static const struct option opts[] = {
        { "node", required_argument, NULL, O_NODE },
        { "kind", required_argument, NULL, O_KIND },
        { "mti", required_argument, NULL, O_MTI },
        { "rc", required_argument, NULL, O_RC },
        { "stan", required_argument, NULL, O_STAN },
        { "rrn", required_argument, NULL, O_RRN },
        { "trace", required_argument, NULL, O_TRACE },
        { "pan-last4", required_argument, NULL, O_PAN4 },
        { "since", required_argument, NULL, O_SINCE },
        { "until", required_argument, NULL, O_UNTIL },
        { "limit", required_argument, NULL, O_LIMIT },
        { "json", no_argument, NULL, O_JSON },
        { "color", required_argument, NULL, O_COLOR },
        { "width", required_argument, NULL, O_WIDTH },
        { "format", required_argument, NULL, O_FORMAT },
        { "out", required_argument, NULL, O_OUT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct bs_log_filter f;
    struct bs_log_out o = { .color = -1, .width = 0, .json = false };
    const char *sub, *format = NULL, *outpath = NULL, *pos[2] = { NULL, NULL };
    bool filtered = false;
    size_t npos = 0;
    int c;

    memset(&f, 0, sizeof(f));
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        log_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? BS_EXIT_USAGE : BS_EXIT_OK;
    }
    sub = argv[1];
    if (strcmp(sub, "show") && strcmp(sub, "trace") && strcmp(sub, "stats") &&
        strcmp(sub, "verify") && strcmp(sub, "export")) {
        fprintf(stderr,
                "bridgesim log: unknown subcommand '%s' (show, trace, stats, verify, "
                "export)\n",
                sub);
        return BS_EXIT_USAGE;
    }
    optind = 1;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "-h", opts, NULL)) != -1) {
        switch (c) {
        case 1:
            if (npos == 2) {
                fprintf(stderr, "bridgesim log %s: unexpected argument '%s'\n", sub, optarg);
                return BS_EXIT_USAGE;
            }
            pos[npos++] = optarg;
            break;
        case O_NODE:
            f.node = optarg;
            filtered = true;
            break;
        case O_KIND:
            f.kinds = optarg;
            filtered = true;
            break;
        case O_MTI:
            f.mti = optarg;
            filtered = true;
            break;
        case O_RC:
            f.rc = optarg;
            filtered = true;
            break;
        case O_STAN:
            f.stan = optarg;
            filtered = true;
            break;
        case O_RRN:
            f.rrn = optarg;
            filtered = true;
            break;
        case O_TRACE:
            f.trace = optarg;
            filtered = true;
            break;
        case O_PAN4:
            f.pan_last4 = optarg;
            filtered = true;
            break;
        case O_SINCE:
            f.since = optarg;
            filtered = true;
            break;
        case O_UNTIL:
            f.until = optarg;
            filtered = true;
            break;
        case O_LIMIT: {
            char *end;
            errno = 0;
            f.limit = strtoull(optarg, &end, 10);
            if (errno || *end || !*optarg || optarg[0] == '-' || f.limit == 0) {
                fprintf(stderr, "bridgesim log %s: --limit takes a count ≥ 1, not '%s'\n", sub,
                        optarg);
                return BS_EXIT_USAGE;
            }
            filtered = true;
            break;
        }
        case O_JSON:
            o.json = true;
            break;
        case O_COLOR:
            if (!strcmp(optarg, "auto"))
                o.color = -1;
            else if (!strcmp(optarg, "always"))
                o.color = 1;
            else if (!strcmp(optarg, "never"))
                o.color = 0;
            else {
                fprintf(stderr, "bridgesim log: --color takes auto, always or never\n");
                return BS_EXIT_USAGE;
            }
            break;
        case O_WIDTH: {
            char *end;
            long w = strtol(optarg, &end, 10);
            if (*end || w < 20 || w > 1000) {
                fprintf(stderr, "bridgesim log: --width takes 20..1000\n");
                return BS_EXIT_USAGE;
            }
            o.width = (int)w;
            break;
        }
        case O_FORMAT:
            format = optarg;
            break;
        case O_OUT:
            outpath = optarg;
            break;
        case 'h':
            log_usage(stdout);
            return BS_EXIT_OK;
        default:
            log_usage(stderr);
            return BS_EXIT_USAGE;
        }
    }
    if (!pos[0]) {
        fprintf(stderr, "bridgesim log %s: expected RUNDIR\n", sub);
        return BS_EXIT_USAGE;
    }
    if (filtered && strcmp(sub, "show") != 0) {
        fprintf(stderr, "bridgesim log %s: filters belong to 'log show'\n", sub);
        return BS_EXIT_USAGE;
    }
    if ((format || outpath) && strcmp(sub, "export") != 0) {
        fprintf(stderr, "bridgesim log %s: --format and --out belong to 'log export'\n", sub);
        return BS_EXIT_USAGE;
    }
    if (!strcmp(sub, "trace")) {
        if (!pos[1]) {
            fprintf(stderr, "bridgesim log trace: expected RUNDIR ID (trace id, RRN or STAN)\n");
            return BS_EXIT_USAGE;
        }
        return bs_log_trace(pos[0], pos[1], &o, stdout, stderr);
    }
    if (pos[1]) {
        fprintf(stderr, "bridgesim log %s: unexpected argument '%s'\n", sub, pos[1]);
        return BS_EXIT_USAGE;
    }
    if (!strcmp(sub, "show"))
        return bs_log_show(pos[0], &f, &o, stdout, stderr);
    if (!strcmp(sub, "stats"))
        return bs_log_stats(pos[0], &o, stdout, stderr);
    if (!strcmp(sub, "verify"))
        return bs_log_verify(pos[0], &o, stdout, stderr);
    if (!format || !outpath || (strcmp(format, "csv") && strcmp(format, "sqlite"))) {
        fprintf(stderr, "bridgesim log export: expected --format csv|sqlite --out FILE\n");
        return BS_EXIT_USAGE;
    }
    if (o.json) {
        fprintf(stderr, "bridgesim log export: --json does not apply\n");
        return BS_EXIT_USAGE;
    }
    return bs_log_export(pos[0], !strcmp(format, "csv") ? BS_LOG_CSV : BS_LOG_SQLITE, outpath,
                         stderr);
}
