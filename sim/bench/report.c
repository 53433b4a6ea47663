/* bench: the per-step line, the final table, --json and --plot; see bench.h. */
#include <math.h>
#include <string.h>

#include "bench/bench.h"

static double ms(int64_t us)
{
    return (double)us / 1e3;
}

static const char *load_unit(const struct bs_bench_cfg *cfg)
{
    return cfg->closed ? "terminals" : "tps";
}

static double load_of(const struct bs_bench_step *st)
{
    return st->concurrency ? (double)st->concurrency : st->offered_tps;
}

/* "p99<=2000ms, success>=99.5%" */
static void slo_text(const struct bs_bench_slo *s, char *buf, size_t len)
{
    size_t o = 0;
    struct {
        bool has;
        const char *name;
        int64_t v;
    } lat[] = { { s->has_p50, "p50", s->p50 },
                { s->has_p90, "p90", s->p90 },
                { s->has_p99, "p99", s->p99 },
                { s->has_p999, "p99.9", s->p999 },
                { s->has_max, "max", s->max } };

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(lat) / sizeof(lat[0]) && o < len; i++)
        if (lat[i].has)
            o += (size_t)snprintf(buf + o, len - o, "%s%s<=%gms", o ? ", " : "", lat[i].name,
                                  ms(lat[i].v));
    if (s->has_success && o < len)
        o += (size_t)snprintf(buf + o, len - o, "%ssuccess>=%g%%", o ? ", " : "", s->success * 100);
    if (s->has_approval && o < len)
        o += (size_t)snprintf(buf + o, len - o, "%sapproval>=%g%%", o ? ", " : "",
                              s->approval * 100);
    if (o == 0)
        snprintf(buf, len, "none (every step with transactions meets it)");
}

void bs_bench_step_line(const struct bs_bench_cfg *cfg, const struct bs_bench_step *st, size_t i,
                        size_t n, char *buf, size_t len)
{
    char load[48], lag[48] = "";

    if (cfg->realtime)
        snprintf(lag, sizeof(lag), " lag %.1f s", st->lag_seconds);
    if (cfg->closed)
        snprintf(load, sizeof(load), "%u terminals (%.1f tps)", st->concurrency, st->offered_tps);
    else
        snprintf(load, sizeof(load), "%.0f tps", st->offered_tps);
    snprintf(buf, len,
             "step %zu/%zu offered %s achieved %.1f tps p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f "
             "ms approved %.2f%% success %.2f%% timeouts %llu errors %llu stand-ins %llu "
             "reversals %llu drops %llu cpu %.2f s (%.0f tps/cpu-s) rss %.1f MB%s%s%s",
             i + 1, n, load, st->achieved_tps, ms(st->p50), ms(st->p90), ms(st->p99), ms(st->p999),
             st->approval_rate * 100, st->success_rate * 100, (unsigned long long)st->timeouts,
             (unsigned long long)st->errors, (unsigned long long)st->stand_ins,
             (unsigned long long)st->reversals, (unsigned long long)st->queue_drops,
             st->cpu_seconds, st->cpu_tps, (double)st->peak_rss_kb / 1024.0, lag,
             st->meets_slo ? " slo ok" : " slo missed", st->interrupted ? " (interrupted)" : "");
}

void bs_bench_print_table(const struct bs_bench_cfg *cfg, const struct bs_bench_result *r,
                          FILE *out)
{
    char slo[256];

    fprintf(out, "bench %s  seed %llu  %s  signing %s  warm-up %.1f s  step %.1f s\n",
            r->scenario_name, (unsigned long long)r->seed,
            cfg->realtime ? "realtime (this machine)" : "model (virtual time)", r->signing,
            (double)cfg->warmup / 1e6, (double)cfg->duration / 1e6);
    fprintf(out, "%10s %10s %8s %8s %9s %9s %9s %9s %9s %8s %8s %8s %8s %7s %7s %4s\n",
            cfg->closed ? "terminals" : "offered", "achieved", "approve", "success", "p50", "p90",
            "p99", "p99.9", "max", "timeout", "standin", "reversal", "drops", "cpu", "rss", "slo");
    fprintf(out, "%10s %10s %8s %8s %9s %9s %9s %9s %9s %8s %8s %8s %8s %7s %7s %4s\n",
            load_unit(cfg), "tps", "%", "%", "ms", "ms", "ms", "ms", "ms", "", "", "", "", "s",
            "MB", "");
    for (size_t i = 0; i < r->nsteps; i++) {
        const struct bs_bench_step *st = &r->steps[i];
        fprintf(out,
                "%10.0f %10.1f %8.2f %8.2f %9.1f %9.1f %9.1f %9.1f %9.1f %8llu %8llu %8llu "
                "%8llu %7.2f %7.1f %4s%s\n",
                load_of(st), st->achieved_tps, st->approval_rate * 100, st->success_rate * 100,
                ms(st->p50), ms(st->p90), ms(st->p99), ms(st->p999), ms(st->max),
                (unsigned long long)st->timeouts, (unsigned long long)st->stand_ins,
                (unsigned long long)st->reversals, (unsigned long long)st->queue_drops,
                st->cpu_seconds, (double)st->peak_rss_kb / 1024.0, st->meets_slo ? "ok" : "-",
                (int)i == r->knee ? "  <- knee" : "");
    }
    slo_text(&cfg->slo, slo, sizeof(slo));
    if (r->knee >= 0) {
        const struct bs_bench_step *k = &r->steps[r->knee];
        fprintf(out,
                "knee: %.0f %s offered, %.1f tps achieved, p99 %.1f ms, success %.2f%% "
                "(highest step meeting %s)\n",
                load_of(k), load_unit(cfg), k->achieved_tps, ms(k->p99), k->success_rate * 100,
                slo);
    } else {
        fprintf(out, "knee: none of %zu step(s) meets %s\n", r->nsteps, slo);
    }
    if (r->crypto.measured && r->nsteps) {
        size_t best = 0;
        double ceil_best;
        for (size_t i = 1; i < r->nsteps; i++)
            if (r->steps[i].achieved_tps > r->steps[best].achieved_tps)
                best = i;
        ceil_best = bs_bench_crypto_ceiling(&r->crypto, &r->steps[best]);
        fprintf(out,
                "crypto ceiling: %s sign %.1f us, verify %.1f us (CPU medians in the best step's "
                "process), "
                "%.2f signed messages per transaction -> %.0f tps per core\n"
                "  best step: achieved %.1f tps = %.2f of the ceiling; %.1f transactions per "
                "CPU second = %.2f of it\n",
                r->crypto.algorithm,
                (r->steps[best].crypto.measured ? r->steps[best].crypto : r->crypto).sign_ns / 1e3,
                (r->steps[best].crypto.measured ? r->steps[best].crypto : r->crypto).verify_ns /
                    1e3,
                r->steps[best].run_started
                    ? (double)r->steps[best].run_messages / (double)r->steps[best].run_started
                    : 0.0,
                ceil_best, r->steps[best].achieved_tps,
                ceil_best > 0 ? r->steps[best].achieved_tps / ceil_best : 0.0,
                r->steps[best].cpu_tps, ceil_best > 0 ? r->steps[best].cpu_tps / ceil_best : 0.0);
        if (r->steps[best].crypto_threads) {
            const struct bs_bench_step *b = &r->steps[best];
            double all = bs_bench_crypto_ceiling_cores(&r->crypto, b);
            fprintf(out,
                    "  %u crypto thread(s) on %u core(s): ceiling %.0f tps, achieved = %.2f of "
                    "it; CPU s: threads %.2f, loop %.2f (loop / threads %.3f)\n",
                    b->crypto_threads, b->crypto_cores, all, all > 0 ? b->achieved_tps / all : 0.0,
                    b->crypto_cpu_seconds, b->loop_cpu_seconds,
                    b->crypto_cpu_seconds > 0 ? b->loop_cpu_seconds / b->crypto_cpu_seconds : 0.0);
        }
    }
}

/* ---- JSON ---------------------------------------------------------------------------- */

static json_t *real(double v)
{
    return json_real(isfinite(v) ? v : 0.0);
}

static json_t *step_json(const struct bs_bench_step *st, const struct bs_bench_crypto *c)
{
    json_t *o = json_object(), *lat = json_object();

    if (!o || !lat) {
        json_decref(o);
        json_decref(lat);
        return NULL;
    }
    json_object_set_new(o, "offered_tps", real(st->offered_tps));
    if (st->concurrency)
        json_object_set_new(o, "concurrency", json_integer(st->concurrency));
    json_object_set_new(o, "achieved_tps", real(st->achieved_tps));
    json_object_set_new(o, "window_seconds", real(st->window_seconds));
    json_object_set_new(o, "started", json_integer((json_int_t)st->started));
    json_object_set_new(o, "transactions", json_integer((json_int_t)st->transactions));
    json_object_set_new(o, "unfinished", json_integer((json_int_t)st->unfinished));
    json_object_set_new(o, "approved", json_integer((json_int_t)st->approved));
    json_object_set_new(o, "declined", json_integer((json_int_t)st->declined));
    json_object_set_new(o, "no_response", json_integer((json_int_t)st->no_response));
    json_object_set_new(o, "errors", json_integer((json_int_t)st->errors));
    json_object_set_new(o, "approval_rate", real(st->approval_rate));
    json_object_set_new(o, "success_rate", real(st->success_rate));
    json_object_set_new(o, "timeouts", json_integer((json_int_t)st->timeouts));
    json_object_set_new(o, "stand_ins", json_integer((json_int_t)st->stand_ins));
    json_object_set_new(o, "reversals", json_integer((json_int_t)st->reversals));
    json_object_set_new(o, "queue_drops", json_integer((json_int_t)st->queue_drops));
    json_object_set_new(o, "in_flight_at_end", json_integer((json_int_t)st->in_flight_at_end));
    json_object_set_new(lat, "p50", real(ms(st->p50)));
    json_object_set_new(lat, "p90", real(ms(st->p90)));
    json_object_set_new(lat, "p99", real(ms(st->p99)));
    json_object_set_new(lat, "p99_9", real(ms(st->p999)));
    json_object_set_new(lat, "max", real(ms(st->max)));
    json_object_set_new(lat, "mean", real(st->mean / 1e3));
    json_object_set_new(o, "latency_ms", lat);
    json_object_set_new(o, "cpu_seconds", real(st->cpu_seconds));
    json_object_set_new(o, "wall_seconds", real(st->wall_seconds));
    json_object_set_new(o, "simulated_seconds", real(st->sim_seconds));
    json_object_set_new(o, "transactions_per_cpu_second", real(st->cpu_tps));
    json_object_set_new(
        o, "transactions_per_wall_second",
        real(st->wall_seconds > 0 ? (double)st->run_started / st->wall_seconds : 0.0));
    json_object_set_new(o, "lag_seconds", real(st->lag_seconds));
    json_object_set_new(o, "crypto_threads", json_integer(st->crypto_threads));
    json_object_set_new(o, "crypto_cpu_seconds", real(st->crypto_cpu_seconds));
    json_object_set_new(o, "loop_cpu_seconds", real(st->loop_cpu_seconds));
    json_object_set_new(o, "peak_rss_kb", json_integer(st->peak_rss_kb));
    json_object_set_new(o, "peak_rss_scope", json_string(st->rss_per_step ? "step" : "process"));
    json_object_set_new(
        o, "messages_per_transaction",
        real(st->run_started ? (double)st->run_messages / (double)st->run_started : 0.0));
    if (c->measured) {
        double ceiling = bs_bench_crypto_ceiling(c, st);
        const struct bs_bench_crypto *sc = st->crypto.measured ? &st->crypto : c;
        json_object_set_new(o, "crypto_sign_ns", real(sc->sign_ns));
        json_object_set_new(o, "crypto_verify_ns", real(sc->verify_ns));
        json_object_set_new(o, "crypto_ceiling_tps", real(ceiling));
        json_object_set_new(o, "crypto_ceiling_ratio",
                            real(ceiling > 0 ? st->achieved_tps / ceiling : 0.0));
        json_object_set_new(o, "crypto_ceiling_cpu_ratio",
                            real(ceiling > 0 ? st->cpu_tps / ceiling : 0.0));
        ceiling = bs_bench_crypto_ceiling_cores(c, st);
        json_object_set_new(o, "crypto_cores", json_integer(st->crypto_cores));
        json_object_set_new(o, "crypto_ceiling_cores_tps", real(ceiling));
        json_object_set_new(o, "crypto_ceiling_cores_ratio",
                            real(ceiling > 0 ? st->achieved_tps / ceiling : 0.0));
    }
    json_object_set_new(o, "meets_slo", json_boolean(st->meets_slo));
    json_object_set_new(o, "interrupted", json_boolean(st->interrupted));
    return o;
}

static json_t *slo_json(const struct bs_bench_slo *s)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    if (s->has_p50)
        json_object_set_new(o, "p50_ms", real(ms(s->p50)));
    if (s->has_p90)
        json_object_set_new(o, "p90_ms", real(ms(s->p90)));
    if (s->has_p99)
        json_object_set_new(o, "p99_ms", real(ms(s->p99)));
    if (s->has_p999)
        json_object_set_new(o, "p99_9_ms", real(ms(s->p999)));
    if (s->has_max)
        json_object_set_new(o, "max_ms", real(ms(s->max)));
    if (s->has_success)
        json_object_set_new(o, "success_rate", real(s->success));
    if (s->has_approval)
        json_object_set_new(o, "approval_rate", real(s->approval));
    return o;
}

json_t *bs_bench_json(const struct bs_bench_cfg *cfg, const struct bs_bench_result *r)
{
    json_t *o = json_object(), *steps = json_array(), *knee;

    if (!o || !steps)
        goto fail;
    json_object_set_new(o, "scenario", json_string(r->scenario_name));
    json_object_set_new(o, "scenario_path", json_string(cfg->scenario));
    {
        char seedbuf[24]; /* a decimal string, as in summary.json */

        snprintf(seedbuf, sizeof(seedbuf), "%llu", (unsigned long long)r->seed);
        json_object_set_new(o, "seed", json_string(seedbuf));
    }
    json_object_set_new(o, "mode", json_string(cfg->realtime ? "realtime" : "model"));
    json_object_set_new(o, "signing", json_string(r->signing));
    json_object_set_new(o, "load", json_string(cfg->closed ? "closed" : "open"));
    json_object_set_new(o, "warmup_seconds", real((double)cfg->warmup / 1e6));
    json_object_set_new(o, "step_seconds", real((double)cfg->duration / 1e6));
    /* Quantiles are the upper edge of a log-linear bucket: 128 sub-buckets per power of
     * two (report/hist.h). */
    json_object_set_new(o, "latency_relative_error", real(1.0 / 128));
    json_object_set_new(o, "slo", slo_json(&cfg->slo));
    if (r->crypto.measured)
        json_object_set_new(o, "crypto",
                            json_pack("{s:s,s:f,s:f}", "algorithm", r->crypto.algorithm, "sign_ns",
                                      r->crypto.sign_ns, "verify_ns", r->crypto.verify_ns));
    for (size_t i = 0; i < r->nsteps; i++) {
        json_t *s = step_json(&r->steps[i], &r->crypto);
        if (!s || json_array_append_new(steps, s) != 0)
            goto fail;
    }
    json_object_set_new(o, "steps", steps);
    steps = NULL;
    if (r->knee >= 0) {
        const struct bs_bench_step *k = &r->steps[r->knee];
        knee = json_object();
        if (!knee)
            goto fail;
        json_object_set_new(knee, "step", json_integer(r->knee));
        json_object_set_new(knee, "offered_tps", real(k->offered_tps));
        if (k->concurrency)
            json_object_set_new(knee, "concurrency", json_integer(k->concurrency));
        json_object_set_new(knee, "achieved_tps", real(k->achieved_tps));
        json_object_set_new(knee, "p99_ms", real(ms(k->p99)));
        json_object_set_new(knee, "success_rate", real(k->success_rate));
    } else {
        knee = json_null();
    }
    json_object_set_new(o, "knee", knee);
    return o;
fail:
    json_decref(steps);
    json_decref(o);
    return NULL;
}

/* ---- SVG ----------------------------------------------------------------------------- */

#define SVG_W   900
#define SVG_H   600
#define PLOT_X0 90.0
#define PLOT_X1 760.0
#define TOP_Y0  60.0 /* achieved TPS panel */
#define TOP_Y1  260.0
#define BOT_Y0  320.0 /* latency panel */
#define BOT_Y1  540.0

struct axis {
    double lo, hi;
};

/* A "nice" tick step (1, 2 or 5 × 10^k) giving about @n ticks over @span. */
static double nice_step(double span, int n)
{
    double raw = span / n, mag, f;

    if (!(raw > 0))
        return 1;
    mag = pow(10, floor(log10(raw)));
    f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static double x_of(const struct axis *a, double v)
{
    return PLOT_X0 + (v - a->lo) / (a->hi - a->lo) * (PLOT_X1 - PLOT_X0);
}

static double ytop_of(const struct axis *a, double v)
{
    return TOP_Y1 - (v - a->lo) / (a->hi - a->lo) * (TOP_Y1 - TOP_Y0);
}

/* Latency axis: log10 of milliseconds. */
static double ybot_of(const struct axis *a, double v_ms)
{
    double l = log10(v_ms > 0.01 ? v_ms : 0.01);

    if (l < a->lo)
        l = a->lo;
    if (l > a->hi)
        l = a->hi;
    return BOT_Y1 - (l - a->lo) / (a->hi - a->lo) * (BOT_Y1 - BOT_Y0);
}

static void xml_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

static void fmt_num(double v, char *buf, size_t len)
{
    if (fabs(v) >= 1000 && fmod(v, 1000) == 0)
        snprintf(buf, len, "%gk", v / 1000);
    else
        snprintf(buf, len, "%g", v);
}

int bs_bench_svg(const struct bs_bench_cfg *cfg, const struct bs_bench_result *r, FILE *out)
{
    static const struct {
        const char *name, *color;
    } series[] = {
        { "p50", "#2ca02c" }, { "p90", "#ff7f0e" }, { "p99", "#d62728" }, { "p99.9", "#9467bd" }
    };
    struct axis ax = { 0, 1 }, ay = { 0, 1 }, al = { -1, 4 };
    double maxload = 0, minload = INFINITY, maxtps = 0, minlat = INFINITY, maxlat = 0, step;
    char slo[256], num[32];
    size_t n = r->nsteps;

    for (size_t i = 0; i < n; i++) {
        const struct bs_bench_step *st = &r->steps[i];
        double l = load_of(st);
        maxload = fmax(maxload, l);
        minload = fmin(minload, l);
        maxtps = fmax(maxtps, fmax(st->achieved_tps, st->offered_tps));
        if (st->transactions) {
            minlat = fmin(minlat, ms(st->p50));
            maxlat = fmax(maxlat, ms(st->p999));
        }
    }
    if (n == 0) {
        minload = 0;
        maxload = 1;
    }
    /* X from 0 (or just below the first step when the ramp starts far out). */
    ax.lo = minload > 0.5 * maxload ? minload - (maxload - minload) * 0.1 - maxload * 0.05 : 0;
    ax.hi = maxload * 1.05;
    if (ax.hi <= ax.lo)
        ax.hi = ax.lo + 1;
    if (ax.lo < 0)
        ax.lo = 0;
    ay.hi = (maxtps > 0 ? maxtps : 1) * 1.08;
    if (cfg->slo.has_p99)
        maxlat = fmax(maxlat, ms(cfg->slo.p99));
    if (!isfinite(minlat))
        minlat = maxlat / 100; /* no step with transactions */
    if (maxlat > 0) {
        al.lo = floor(log10(fmax(minlat, 0.01)));
        al.hi = ceil(log10(maxlat * 1.2));
        if (al.hi <= al.lo)
            al.hi = al.lo + 1;
    }

    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, sans-serif\" "
            "font-size=\"12\">\n",
            SVG_W, SVG_H, SVG_W, SVG_H);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", SVG_W,
            SVG_H);
    fprintf(out, "<text x=\"%d\" y=\"24\" font-size=\"16\" font-weight=\"bold\">bridgesim bench: ",
            SVG_W / 2 - 300);
    xml_text(out, r->scenario_name);
    fprintf(out, " (%s, signing %s, seed %llu)</text>\n",
            cfg->realtime ? "realtime" : "model, virtual time", r->signing,
            (unsigned long long)r->seed);

    /* The knee's band: loads up to the knee met the SLO. */
    if (r->knee >= 0) {
        double kx = x_of(&ax, load_of(&r->steps[r->knee]));
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#e8f5e9\"/>\n",
                PLOT_X0, TOP_Y0, kx - PLOT_X0, TOP_Y1 - TOP_Y0);
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#e8f5e9\"/>\n",
                PLOT_X0, BOT_Y0, kx - PLOT_X0, BOT_Y1 - BOT_Y0);
    }
    /* Frames and grids. */
    for (int p = 0; p < 2; p++) {
        double y0 = p ? BOT_Y0 : TOP_Y0, y1 = p ? BOT_Y1 : TOP_Y1;
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                "stroke=\"#333\"/>\n",
                PLOT_X0, y0, PLOT_X1 - PLOT_X0, y1 - y0);
        step = nice_step(ax.hi - ax.lo, 8);
        for (int k = 0; k < 40; k++) {
            double v = (ceil(ax.lo / step) + k) * step, x = x_of(&ax, v);
            if (v > ax.hi + 1e-9)
                break;
            fprintf(out,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x,
                    y0, x, y1);
            fmt_num(v, num, sizeof(num));
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x,
                    y1 + 16, num);
        }
    }
    step = nice_step(ay.hi - ay.lo, 5);
    for (int k = 0; k < 40 && k * step <= ay.hi + 1e-9; k++) {
        double v = k * step, y = ytop_of(&ay, v);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                PLOT_X0, y, PLOT_X1, y);
        fmt_num(v, num, sizeof(num));
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", PLOT_X0 - 6,
                y + 4, num);
    }
    for (int k = 0; k < 12 && al.lo + k <= al.hi + 1e-9; k++) {
        double e = al.lo + k, y = ybot_of(&al, pow(10, e));
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ccc\"/>\n",
                PLOT_X0, y, PLOT_X1, y);
        fmt_num(pow(10, e), num, sizeof(num));
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", PLOT_X0 - 6,
                y + 4, num);
        for (int m = 2; m <= 9 && e < al.hi; m++) {
            double ym = ybot_of(&al, m * pow(10, e));
            fprintf(out,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#f0f0f0\"/>\n",
                    PLOT_X0, ym, PLOT_X1, ym);
        }
    }
    /* Axis titles. */
    fprintf(out,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-weight=\"bold\">achieved "
            "vs offered (tps)</text>\n",
            (PLOT_X0 + PLOT_X1) / 2, TOP_Y0 - 8);
    fprintf(out,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-weight=\"bold\">latency "
            "percentiles (ms, log scale)</text>\n",
            (PLOT_X0 + PLOT_X1) / 2, BOT_Y0 - 8);
    fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">offered load (%s)</text>\n",
            (PLOT_X0 + PLOT_X1) / 2, SVG_H - 22,
            cfg->closed ? "closed-loop terminals" : "transactions per second");
    fprintf(
        out,
        "<text transform=\"translate(24 %.1f) rotate(-90)\" text-anchor=\"middle\">tps</text>\n",
        (TOP_Y0 + TOP_Y1) / 2);
    fprintf(out,
            "<text transform=\"translate(24 %.1f) rotate(-90)\" text-anchor=\"middle\">ms</text>\n",
            (BOT_Y0 + BOT_Y1) / 2);

    /* Offered = achieved, the line a system with spare capacity follows (open loop). */
    if (!cfg->closed && n > 0)
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" "
                "stroke-dasharray=\"6 4\"/>\n",
                x_of(&ax, ax.lo), ytop_of(&ay, fmin(ax.lo, ay.hi)), x_of(&ax, fmin(ax.hi, ay.hi)),
                ytop_of(&ay, fmin(ax.hi, ay.hi)));
    /* Achieved TPS. */
    fprintf(out, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2.5\" points=\"");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%.1f,%.1f", i ? " " : "", x_of(&ax, load_of(&r->steps[i])),
                ytop_of(&ay, r->steps[i].achieved_tps));
    fprintf(out, "\"/>\n");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#1f77b4\"/>\n",
                x_of(&ax, load_of(&r->steps[i])), ytop_of(&ay, r->steps[i].achieved_tps));
    /* Latency percentiles. */
    for (size_t s = 0; s < sizeof(series) / sizeof(series[0]); s++) {
        bool first = true;
        fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                series[s].color);
        for (size_t i = 0; i < n; i++) {
            const struct bs_bench_step *st = &r->steps[i];
            int64_t v = s == 0 ? st->p50 : s == 1 ? st->p90 : s == 2 ? st->p99 : st->p999;
            if (!st->transactions)
                continue;
            fprintf(out, "%s%.1f,%.1f", first ? "" : " ", x_of(&ax, load_of(st)),
                    ybot_of(&al, ms(v)));
            first = false;
        }
        fprintf(out, "\"/>\n");
        for (size_t i = 0; i < n; i++) {
            const struct bs_bench_step *st = &r->steps[i];
            int64_t v = s == 0 ? st->p50 : s == 1 ? st->p90 : s == 2 ? st->p99 : st->p999;
            if (st->transactions)
                fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n",
                        x_of(&ax, load_of(st)), ybot_of(&al, ms(v)), series[s].color);
        }
    }
    /* The SLO's p99 bound. */
    if (cfg->slo.has_p99) {
        double y = ybot_of(&al, ms(cfg->slo.p99));
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" "
                "stroke-dasharray=\"8 4\"/>\n",
                PLOT_X0, y, PLOT_X1, y);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#d62728\">SLO p99 %g ms</text>\n",
                PLOT_X0 + 6, y - 5, ms(cfg->slo.p99));
    }
    /* The knee. */
    if (r->knee >= 0) {
        const struct bs_bench_step *k = &r->steps[r->knee];
        double kx = x_of(&ax, load_of(k));
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#2e7d32\" "
                "stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n",
                kx, TOP_Y0, kx, BOT_Y1);
        fmt_num(round(load_of(k)), num, sizeof(num));
        fprintf(out,
                "<text x=\"%.1f\" y=\"%.1f\" fill=\"#2e7d32\" font-weight=\"bold\" "
                "text-anchor=\"%s\">knee %s %s</text>\n",
                kx + (kx > PLOT_X1 - 120 ? -4 : 4), TOP_Y0 + 16,
                kx > PLOT_X1 - 120 ? "end" : "start", num, load_unit(cfg));
    }
    /* Legend. */
    {
        double y = TOP_Y0 + 10;
        fprintf(out,
                "<line x1=\"775\" y1=\"%.1f\" x2=\"800\" y2=\"%.1f\" stroke=\"#1f77b4\" "
                "stroke-width=\"2.5\"/><text x=\"806\" y=\"%.1f\">achieved</text>\n",
                y, y, y + 4);
        if (!cfg->closed)
            fprintf(out,
                    "<line x1=\"775\" y1=\"%.1f\" x2=\"800\" y2=\"%.1f\" stroke=\"#888\" "
                    "stroke-dasharray=\"6 4\"/><text x=\"806\" y=\"%.1f\">= offered</text>\n",
                    y + 20, y + 20, y + 24);
        y = BOT_Y0 + 10;
        for (size_t s = 0; s < sizeof(series) / sizeof(series[0]); s++, y += 20)
            fprintf(out,
                    "<line x1=\"775\" y1=\"%.1f\" x2=\"800\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"2\"/><text x=\"806\" y=\"%.1f\">%s</text>\n",
                    y, y, series[s].color, y + 4, series[s].name);
    }
    slo_text(&cfg->slo, slo, sizeof(slo));
    fprintf(out, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" fill=\"#555\">SLO: ", PLOT_X0,
            SVG_H - 6);
    xml_text(out, slo);
    if (r->knee >= 0)
        fprintf(out, "; knee = highest offered load meeting it");
    else
        fprintf(out, "; no step meets it");
    fprintf(out, "</text>\n</svg>\n");
    return ferror(out) ? BS_EIO : 0;
}
