/*
 * bench: running the steps. Each step loads the scenario with the step's load as --set
 * overrides (so the loader validates the combination exactly as `run` would), builds its
 * own world and runs it in virtual or real time, observing outcomes through the world's
 * observer hooks (world.h). With cfg->isolate every step runs in a forked child that
 * sends its struct bs_bench_step back through a pipe: peak RSS is then the step's own,
 * and nothing one step allocated can influence the next.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "engine/cryptopool.h"
#include "engine/world.h"
#include "scenario/scenario.h"

#define MAX_SETS 96

static void errf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void errf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!buf || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* What the observer hooks of one step keep. */
struct step_ctx {
    const struct bs_bench_cfg *cfg;
    struct bs_world *w;
    struct bs_bench_step *st;
    size_t index;
    bool known; /* t0 and the window are known (the run has started) */
    bs_time_us t0, from, until;
    bool snapped; /* node counters copied at the end of warm-up */
    int64_t stats0[BS_STAT_COUNT];
    uint64_t qdrop0;
    uint64_t answered; /* responses received inside the window */
};

static void ensure_window(struct step_ctx *c)
{
    struct bs_run_result r;

    if (c->known)
        return;
    bs_world_result(c->w, &r);
    c->t0 = r.sim_start;
    c->from = c->t0 + c->cfg->warmup;
    c->until = c->from + c->cfg->duration;
    c->known = true;
}

/* Copy the node counters the first time the engine's clock passes the end of warm-up. */
static void snapshot(struct step_ctx *c, bs_time_us now)
{
    struct bs_run_result r;

    if (c->snapped || now < c->from)
        return;
    bs_world_result(c->w, &r);
    memcpy(c->stats0, r.stats, sizeof(c->stats0));
    c->qdrop0 = r.queue_dropped;
    c->snapped = true;
}

static void on_outcome(void *ctx, uint32_t flow, const char *rc, bs_time_us started, bs_time_us now)
{
    struct step_ctx *c = ctx;
    struct bs_bench_step *st = c->st;

    (void)flow;
    ensure_window(c);
    snapshot(c, now);
    if (rc && now >= c->from && now < c->until)
        c->answered++;
    if (started < c->from || started >= c->until)
        return;
    st->transactions++;
    bs_hist_add(&st->hist, now - started);
    if (!rc)
        st->no_response++;
    else if (rc[0] == '0' && rc[1] == '0' && !rc[2])
        st->approved++;
    else
        st->declined++;
    if (bs_bench_is_error(rc))
        st->errors++;
}

static void on_start(void *ctx, bs_time_us at)
{
    struct step_ctx *c = ctx;

    ensure_window(c);
    if (at >= c->from && at < c->until)
        c->st->started++;
}

static int64_t stat_delta(const struct step_ctx *c, const int64_t *now, enum bs_stat s)
{
    return now[s] - c->stats0[s];
}

static uint64_t timeouts_of(const struct step_ctx *c, const int64_t *stats)
{
    int64_t t =
        stat_delta(c, stats, BS_STAT_ACQ_TIMEOUT) + stat_delta(c, stats, BS_STAT_TERM_TIMEOUT) +
        stat_delta(c, stats, BS_STAT_SWITCH_TIMEOUT) + stat_delta(c, stats, BS_STAT_BRIDGE_TIMEOUT);
    return t > 0 ? (uint64_t)t : 0;
}

static double pct(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

/* The live line: rewritten in place on a terminal, at least once a second. */
static void on_progress(void *ctx, const struct bs_world *w, bs_time_us now)
{
    struct step_ctx *c = ctx;
    const struct bs_bench_cfg *cfg = c->cfg;
    const struct bs_bench_step *st = c->st;
    struct bs_run_result r;
    double elapsed, in_window;
    char load[48];

    if (!cfg->progress || !cfg->progress_tty)
        return;
    ensure_window(c);
    snapshot(c, now);
    bs_world_result(w, &r);
    elapsed = (double)(now - c->t0) / 1e6;
    in_window = (double)((now < c->until ? now : c->until) - c->from) / 1e6;
    if (cfg->closed)
        snprintf(load, sizeof(load), "%u terminals", cfg->concurrency[c->index]);
    else
        snprintf(load, sizeof(load), "%.0f tps", cfg->rates[c->index]);
    fprintf(cfg->progress,
            "\r\033[K[step %zu/%zu %s %6.1fs%s] offered %s  achieved %.0f tps  p50 %.1f ms  "
            "p99 %.1f ms  approved %llu (%.1f%%)  timeouts %llu  errors %llu",
            c->index + 1, cfg->nsteps, cfg->realtime ? "real" : "virtual", elapsed,
            now < c->from ? " warm-up" : (now >= c->until ? " drain" : ""), load,
            in_window > 0 ? (double)c->answered / in_window : 0.0,
            (double)bs_hist_quantile(&st->hist, 0.50) / 1e3,
            (double)bs_hist_quantile(&st->hist, 0.99) / 1e3, (unsigned long long)st->approved,
            pct(st->approved, st->transactions),
            (unsigned long long)(c->snapped ? timeouts_of(c, r.stats) : 0),
            (unsigned long long)st->errors);
    fflush(cfg->progress);
}

static long peak_rss_kb(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ru.ru_maxrss; /* kilobytes on Linux */
}

/* Run step @i in this process into *@st. */
static int run_step(const struct bs_bench_cfg *cfg, size_t i, struct bs_bench_step *st,
                    char *errbuf, size_t errlen)
{
    const char *sets[MAX_SETS];
    char rate[64], dur[64];
    size_t nsets = 0;
    struct bs_scenario *sc = NULL;
    struct bs_world *w = NULL;
    struct bs_run_opts ro;
    struct bs_run_observer ob;
    struct step_ctx c;
    struct bs_run_result r;
    int rc;

    memset(st, 0, sizeof(*st));
    bs_hist_init(&st->hist);
    if (cfg->nsets + 4 > MAX_SETS) {
        errf(errbuf, errlen, "at most %d --set options", MAX_SETS - 4);
        return BS_ELIMIT;
    }
    for (size_t k = 0; k < cfg->nsets; k++)
        sets[nsets++] = cfg->sets[k];
    /* The step's load last, so it wins over the file and the user's overrides. */
    snprintf(rate, sizeof(rate), "workload.rate_tps=%.17g", cfg->closed ? 1.0 : cfg->rates[i]);
    snprintf(dur, sizeof(dur), "workload.duration=%lldus",
             (long long)(cfg->warmup + cfg->duration));
    sets[nsets++] = rate;
    sets[nsets++] = dur;
    sets[nsets++] = "workload.count=0";
    errbuf[0] = '\0';
    rc = bs_scenario_load(cfg->scenario, sets, nsets, &sc, errbuf, errlen);
    if (rc)
        return rc;
    sc->realtime = cfg->realtime;
    /* --drain is the bench's own: a drain shorter than the terminal timers is fine here
     * (a window transaction still unanswered counts as an error), while a scenario file
     * must cover them (time.drain), so it is set after loading, not as an override. */
    if (cfg->drain >= 0)
        sc->drain = cfg->drain;
    if (cfg->drain < 0 && cfg->realtime) {
        /* Long enough for every window transaction to be answered or time out at its
         * terminal, so none is left uncounted; the scenario's drain is for virtual time. */
        bs_time_us t = 0;
        for (int ch = 0; ch < BS_CH_COUNT; ch++)
            if (sc->timers[ch].terminal > t)
                t = sc->timers[ch].terminal;
        sc->drain = t + 5 * BS_US_PER_SEC;
    }

    memset(&c, 0, sizeof(c));
    c.cfg = cfg;
    c.st = st;
    c.index = i;
    memset(&ob, 0, sizeof(ob));
    ob.ctx = &c;
    ob.outcome = on_outcome;
    ob.progress = on_progress;
    ob.start = on_start;
    ob.interval = 0.25;
    memset(&ro, 0, sizeof(ro));
    ro.out_dir = cfg->out_dir;
    ro.dialect_dir = cfg->dialect_dir;
    ro.realtime = cfg->realtime;
    ro.journals = false;
    ro.stop = cfg->stop;
    ro.concurrency = cfg->closed ? cfg->concurrency[i] : 0;
    ro.crypto_threads = cfg->crypto_threads;
    ro.observer = &ob;
    rc = bs_world_new(sc, &ro, &w, errbuf, errlen);
    if (rc)
        goto free_sc;
    c.w = w;
    rc = bs_world_run(w);
    if (rc) {
        errf(errbuf, errlen, "step %zu: %s while running", i + 1, bs_strerror(rc));
        goto free_world;
    }
    ensure_window(&c);
    bs_world_result(w, &r);
    if (!c.snapped) {
        /* The run never reached the window: nothing of it counts. */
        memcpy(c.stats0, r.stats, sizeof(c.stats0));
        c.qdrop0 = r.queue_dropped;
    }
    st->interrupted = cfg->stop && *cfg->stop;
    st->concurrency = cfg->closed ? cfg->concurrency[i] : 0;
    st->window_seconds = (double)cfg->duration / 1e6;
    if (st->interrupted) {
        bs_time_us end = r.sim_end < c.until ? r.sim_end : c.until;
        st->window_seconds = end > c.from ? (double)(end - c.from) / 1e6 : 0;
    }
    st->achieved_tps = st->window_seconds > 0 ? (double)c.answered / st->window_seconds : 0;
    st->offered_tps = cfg->closed
                          ? (st->window_seconds > 0 ? (double)st->started / st->window_seconds : 0)
                          : cfg->rates[i];
    /* A window transaction the run did not finish (drain too short) failed to answer. */
    st->unfinished = st->started > st->transactions ? st->started - st->transactions : 0;
    st->errors += st->unfinished;
    st->approval_rate = st->started ? (double)st->approved / (double)st->started : 0;
    st->success_rate = st->started ? 1.0 - (double)st->errors / (double)st->started : 0;
    st->timeouts = timeouts_of(&c, r.stats);
    st->stand_ins = (uint64_t)(stat_delta(&c, r.stats, BS_STAT_STAND_IN_APPROVED) +
                               stat_delta(&c, r.stats, BS_STAT_STAND_IN_DECLINED));
    st->reversals = (uint64_t)stat_delta(&c, r.stats, BS_STAT_REVERSAL_SENT);
    st->queue_drops = r.queue_dropped - c.qdrop0;
    st->in_flight_at_end = r.in_flight_at_end;
    st->p50 = bs_hist_quantile(&st->hist, 0.50);
    st->p90 = bs_hist_quantile(&st->hist, 0.90);
    st->p99 = bs_hist_quantile(&st->hist, 0.99);
    st->p999 = bs_hist_quantile(&st->hist, 0.999);
    st->max = st->hist.count ? st->hist.max : 0;
    st->mean = st->hist.count ? st->hist.sum / (double)st->hist.count : 0;
    st->cpu_seconds = r.cpu_seconds;
    st->wall_seconds = r.wall_seconds;
    st->sim_seconds = (double)(r.sim_end - r.sim_start) / 1e6;
    st->peak_rss_kb = peak_rss_kb();
    st->run_messages = r.messages;
    st->run_started = r.total->started;
    /* The ceiling's inputs again, now, in this process: under the same load as the run. */
    if (sc->sig_alg != BS_SIG_NONE && bs_bench_crypto(sc->sig_alg, &st->crypto) != 0)
        st->crypto.measured = false;
    st->cpu_tps = st->cpu_seconds > 0 ? (double)r.total->started / st->cpu_seconds : 0;
    st->crypto_threads = r.crypto_threads;
    st->crypto_cores = r.crypto_threads ? r.crypto_threads : 1;
    if (st->crypto_cores > bs_cpool_default_threads())
        st->crypto_cores = bs_cpool_default_threads();
    st->crypto_cpu_seconds = r.crypto_cpu_seconds;
    st->loop_cpu_seconds = r.cpu_seconds - r.crypto_cpu_seconds;
    if (cfg->realtime && st->wall_seconds > st->sim_seconds)
        st->lag_seconds = st->wall_seconds - st->sim_seconds;
free_world:
    bs_world_free(w);
free_sc:
    bs_scenario_free(sc);
    return rc;
}

/* Run step @i in a child process; its result comes back through a pipe. */
static int run_step_isolated(const struct bs_bench_cfg *cfg, size_t i, struct bs_bench_step *st,
                             char *errbuf, size_t errlen)
{
    int fds[2], status;
    pid_t pid;
    size_t got = 0;

    if (pipe(fds) != 0) {
        errf(errbuf, errlen, "pipe: %s", strerror(errno));
        return BS_EIO;
    }
    fflush(stdout);
    fflush(stderr);
    if (cfg->progress)
        fflush(cfg->progress);
    pid = fork();
    if (pid < 0) {
        errf(errbuf, errlen, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return BS_EIO;
    }
    if (pid == 0) {
        char err[2048];
        const uint8_t *p = (const uint8_t *)st;
        size_t left = sizeof(*st);
        int rc;

        close(fds[0]);
        rc = run_step(cfg, i, st, err, sizeof(err));
        if (rc) {
            fprintf(stderr, "bridgesim bench: %s\n", err[0] ? err : bs_strerror(rc));
            _exit(rc == BS_EFORMAT ? 2 : 1);
        }
        st->rss_per_step = true;
        while (left) {
            ssize_t n = write(fds[1], p, left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                _exit(1);
            p += n;
            left -= (size_t)n;
        }
        if (cfg->progress)
            fflush(cfg->progress);
        _exit(0);
    }
    close(fds[1]);
    while (got < sizeof(*st)) {
        ssize_t n = read(fds[0], (uint8_t *)st + got, sizeof(*st) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (got != sizeof(*st) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        errf(errbuf, errlen, "step %zu failed (its message is above)", i + 1);
        return WIFEXITED(status) && WEXITSTATUS(status) == 2 ? BS_EFORMAT : BS_EIO;
    }
    return 0;
}

int bs_bench_run(const struct bs_bench_cfg *cfg, struct bs_bench_result *ret, char *errbuf,
                 size_t errlen)
{
    struct bs_bench_result res;
    struct bs_scenario *sc = NULL;
    char line[512];
    int rc;

    memset(&res, 0, sizeof(res));
    res.knee = -1;
    if (cfg->nsteps == 0 || cfg->nsteps > BS_BENCH_MAX_STEPS || cfg->duration <= 0) {
        errf(errbuf, errlen, "no steps, too many steps, or a step without duration");
        return BS_EINVAL;
    }
    /* Load once up front: a broken scenario is reported once, before any step runs. */
    errbuf[0] = '\0';
    rc = bs_scenario_load(cfg->scenario, cfg->sets, cfg->nsets, &sc, errbuf, errlen);
    if (rc)
        return rc;
    snprintf(res.scenario_name, sizeof(res.scenario_name), "%s", sc->name);
    res.seed = sc->seed;
    snprintf(res.signing, sizeof(res.signing), "%s", bs_sig_alg_name(sc->sig_alg));
    /* The ceiling's sign and verify times, in this process, before any step runs. */
    rc = bs_bench_crypto(sc->sig_alg, &res.crypto);
    bs_scenario_free(sc);
    if (rc) {
        errf(errbuf, errlen, "timing %s for the crypto ceiling: %s", res.signing, bs_strerror(rc));
        return rc;
    }
    res.steps = bs_calloc(cfg->nsteps, sizeof(*res.steps));
    if (!res.steps)
        return BS_ENOMEM;
    for (size_t i = 0; i < cfg->nsteps; i++) {
        if (cfg->stop && *cfg->stop)
            break;
        rc = cfg->isolate ? run_step_isolated(cfg, i, &res.steps[i], errbuf, errlen)
                          : run_step(cfg, i, &res.steps[i], errbuf, errlen);
        if (rc) {
            bs_free(res.steps);
            return rc;
        }
        res.nsteps = i + 1;
        res.steps[i].meets_slo = bs_bench_slo_met(&cfg->slo, &res.steps[i]);
        if (cfg->progress) {
            bs_bench_step_line(cfg, &res.steps[i], i, cfg->nsteps, line, sizeof(line));
            fprintf(cfg->progress, "%s%s\n", cfg->progress_tty ? "\r\033[K" : "", line);
            fflush(cfg->progress);
        }
        if (res.steps[i].interrupted)
            break;
    }
    res.knee = bs_bench_knee(&cfg->slo, res.steps, res.nsteps);
    *ret = res;
    return 0;
}

void bs_bench_result_deinit(struct bs_bench_result *r)
{
    if (!r)
        return;
    bs_free(r->steps);
    r->steps = NULL;
    r->nsteps = 0;
}
