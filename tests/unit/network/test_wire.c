/*
 * The wire path of every node (src/network/node.c): bs_node_send() packs, signs (DE 127
 * covering every byte before it) and hands the bytes to the engine; bs_node_recv() of the
 * same bytes verifies. Any single flipped byte must be caught; a valid signature by the
 * wrong institution, an unknown key and a missing envelope are told apart.
 *
 * Runs for the Mir (BCD, binary bitmap) and Shetab (ASCII, hex bitmap) dialects and for
 * Ed25519 and HMAC-SHA256 keys derived with bs_key_derive().
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <bridgesim/network.h>

#include "net_test.h"

#define PAN    "2200701234567895"
#define TRACK2 "2200701234567895=28122011234567890"

enum { ACQ = 0, SW = 1, OTHER = 2 };

struct wire_fx {
    const char *dialect_name;
    enum bs_sig_alg alg;
    struct bs_iso_dialect *d;
    struct bs_keystore *ks;
    struct bs_key *acq_key, *sw_key, *other_key, *acq_key_epoch2;
    struct t_env env;
    struct bs_node acq, sw, other;
};

static const uint8_t seed42[8] = { 0, 0, 0, 0, 0, 0, 0, 42 };

static struct bs_key *derive(enum bs_sig_alg alg, const char *owner, uint32_t epoch)
{
    struct bs_key *k = NULL;

    assert_int_equal(bs_key_derive(alg, seed42, sizeof(seed42), owner, epoch, 0, &k), 0);
    return k;
}

static int wire_setup(void **state, const char *dialect, enum bs_sig_alg alg)
{
    struct wire_fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->dialect_name = dialect;
    f->alg = alg;
    f->d = t_load_dialect(dialect);
    assert_int_equal(bs_keystore_new(&f->ks), 0);
    /* The store holds its own copies (derivation is deterministic, so HMAC secrets match). */
    assert_int_equal(bs_keystore_add(f->ks, derive(alg, "mir.MIRACQ1", 1)), 0);
    assert_int_equal(bs_keystore_add(f->ks, derive(alg, "mir.switch", 1)), 0);
    assert_int_equal(bs_keystore_add(f->ks, derive(alg, "mir.OTHERBANK", 1)), 0);
    f->acq_key = derive(alg, "mir.MIRACQ1", 1);
    f->sw_key = derive(alg, "mir.switch", 1);
    f->other_key = derive(alg, "mir.OTHERBANK", 1);
    f->acq_key_epoch2 = derive(alg, "mir.MIRACQ1", 2); /* not in the store */
    t_env_init(&f->env, INT64_C(1749988800000000));
    f->env.secrets[0] = PAN;
    f->env.secrets[1] = TRACK2;
    t_plain_node(&f->acq, &f->env, ACQ, "mir.MIRACQ1", f->acq_key, f->ks);
    t_plain_node(&f->sw, &f->env, SW, "mir.switch", f->sw_key, f->ks);
    t_plain_node(&f->other, &f->env, OTHER, "mir.OTHERBANK", f->other_key, f->ks);
    *state = f;
    return 0;
}

static int setup_mir_ed25519(void **state)
{
    return wire_setup(state, "mir", BS_SIG_ED25519);
}

static int setup_shetab_ed25519(void **state)
{
    return wire_setup(state, "shetab", BS_SIG_ED25519);
}

static int setup_mir_hmac(void **state)
{
    return wire_setup(state, "mir", BS_SIG_HMAC_SHA256);
}

static int setup_shetab_hmac(void **state)
{
    return wire_setup(state, "shetab", BS_SIG_HMAC_SHA256);
}

static int wire_teardown(void **state)
{
    struct wire_fx *f = *state;

    t_env_deinit(&f->env);
    bs_key_free(f->acq_key);
    bs_key_free(f->sw_key);
    bs_key_free(f->other_key);
    bs_key_free(f->acq_key_epoch2);
    bs_keystore_free(f->ks);
    bs_iso_dialect_free(f->d);
    free(f);
    return 0;
}

static void make_0200(struct bs_iso_msg *m)
{
    assert_int_equal(bs_iso_msg_init(m, "0200"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 2, PAN), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 3, "000000"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 4, "000000150000"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 7, "0615123456"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 11, "000123"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 12, "153456"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 13, "0615"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 14, "2812"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 18, "5411"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 22, "051"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 32, "12345"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 35, TRACK2), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 37, "516612000123"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 41, "TERM0001"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 42, "MERCHANT0000001"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 43, "SHOP 1                  MOSCOW        RU"), 0);
    assert_int_equal(bs_iso_msg_set_str(m, 49, "643"), 0);
}

/* Send @m from @from to the switch; return the captured bytes. */
static const struct t_sent *send_from(struct wire_fx *f, struct bs_node *from)
{
    struct bs_iso_msg m;

    make_0200(&m);
    f->env.nsent = 0;
    assert_int_equal(bs_node_send(from, f->d, SW, &m, 5), 0);
    assert_int_equal(f->env.nsent, 1);
    assert_int_equal(f->env.sent[0].from, from->id);
    assert_int_equal(f->env.sent[0].to, SW);
    assert_int_equal(f->env.sent[0].trace, 5);
    return &f->env.sent[0];
}

static void send_then_recv_verifies(void **state)
{
    struct wire_fx *f = *state;
    const struct t_sent *s = send_from(f, &f->acq);
    struct bs_iso_msg m, want;
    enum bs_sig_status st = BS_SIGST_BAD;
    size_t lines = f->env.nlines;
    int64_t sigfail = f->env.stats[BS_STAT_SIG_FAILURE];

    assert_int_equal(bs_node_recv(&f->sw, f->d, ACQ, s->buf, s->n, 5, &m, &st), 0);
    assert_int_equal(st, BS_SIGST_OK);
    assert_string_equal(bs_sig_status_name(st), "ok");
    /* Every data element arrives as sent, plus the envelope in DE 127. */
    make_0200(&want);
    assert_string_equal(m.mti, "0200");
    for (unsigned de = 2; de <= 126; de++) {
        size_t a, b;
        const uint8_t *va = bs_iso_msg_get(&m, de, &a), *vb = bs_iso_msg_get(&want, de, &b);
        assert_int_equal(va != NULL, vb != NULL);
        if (va) {
            assert_int_equal(a, b);
            assert_memory_equal(va, vb, a);
        }
    }
    assert_true(bs_iso_msg_has(&m, 127));
    assert_false(bs_iso_msg_has(&m, 128));
    {
        size_t n;
        const uint8_t *v = bs_iso_msg_get(&m, 127, &n);
        struct bs_sig_envelope env;
        assert_int_equal(bs_sig_envelope_decode(v, n, &env), 0);
        assert_int_equal(env.alg, f->alg);
        assert_string_equal(env.key_id, "mir.MIRACQ1#1");
    }
    /* Journaled as msg_in with the signature status and key id; no failure counted. */
    assert_int_equal(f->env.nlines, lines + 1);
    assert_int_equal(f->env.kinds[lines], BS_J_MSG_IN);
    assert_non_null(strstr(f->env.lines[lines], "\"sig\":\"ok\""));
    assert_non_null(strstr(f->env.lines[lines], "\"key_id\":\"mir.MIRACQ1#1\""));
    assert_non_null(strstr(f->env.lines[lines], "\"pan\":\"220070******7895\""));
    assert_int_equal(f->env.stats[BS_STAT_SIG_FAILURE], sigfail);
    /* The sender journaled msg_out. */
    assert_true(t_count_kind(&f->env, BS_J_MSG_OUT) >= 1);

    /* Ed25519 is deterministic: the same message gives the same bytes. */
    if (f->alg == BS_SIG_ED25519 || f->alg == BS_SIG_HMAC_SHA256) {
        uint8_t first[BS_WIRE_MAX];
        size_t n = s->n;
        memcpy(first, s->buf, n);
        s = send_from(f, &f->acq);
        assert_int_equal(s->n, n);
        assert_memory_equal(s->buf, first, n);
    }
}

/* Flip bits of every byte: never accepted. Before DE 127 that is the signed part. */
static void any_flipped_byte_is_rejected(void **state)
{
    struct wire_fx *f = *state;
    const struct t_sent *s = send_from(f, &f->acq);
    static const uint8_t masks[] = { 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff };
    uint8_t buf[BS_WIRE_MAX];
    struct bs_iso_msg m;
    enum bs_sig_status st;
    size_t n = s->n, signed_len, tried = 0, esig = 0, eformat = 0;

    memcpy(buf, s->buf, n);
    assert_int_equal(bs_node_recv(&f->sw, f->d, ACQ, buf, n, 5, &m, &st), 0);
    signed_len = m.wire_off[127];
    assert_true(signed_len > 20 && signed_len < n);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof(masks); k++) {
            int rc;
            buf[i] ^= masks[k];
            t_env_clear(&f->env);
            st = BS_SIGST_OK;
            rc = bs_node_recv(&f->sw, f->d, ACQ, buf, n, 5, &m, &st);
            if (rc == 0)
                fail_msg("%s/%s: byte %zu of %zu (%s DE 127) ^ 0x%02x accepted", f->dialect_name,
                         bs_sig_alg_name(f->alg), i, n, i < signed_len ? "before" : "in", masks[k]);
            if (rc == BS_ESIG) {
                assert_true(st != BS_SIGST_OK && st != BS_SIGST_NONE);
                assert_int_equal(t_count_kind(&f->env, BS_J_SIG_FAILURE), 1);
                esig++;
            } else {
                assert_int_equal(rc, BS_EFORMAT);
                assert_int_equal(t_count_kind(&f->env, BS_J_FORMAT_ERROR), 1);
                eformat++;
            }
            assert_int_equal(t_count_kind(&f->env, BS_J_MSG_IN), 0);
            buf[i] ^= masks[k];
            tried++;
        }
    assert_int_equal(tried, n * sizeof(masks));
    assert_true(esig > 0);
    /* The original still verifies (nothing was left flipped). */
    assert_int_equal(bs_node_recv(&f->sw, f->d, ACQ, buf, n, 5, &m, &st), 0);
    print_message("%s/%s: %zu flips of %zu bytes: %zu ESIG, %zu EFORMAT\n", f->dialect_name,
                  bs_sig_alg_name(f->alg), tried, n, esig, eformat);
}

/* A valid signature by another institution's key is not the sender's. */
static void wrong_owner(void **state)
{
    struct wire_fx *f = *state;
    const struct t_sent *s;
    struct bs_iso_msg m;
    enum bs_sig_status st = BS_SIGST_OK;
    int64_t before = f->env.stats[BS_STAT_SIG_FAILURE];

    /* OTHERBANK signs, but the bytes arrive on the acquirer's link. */
    s = send_from(f, &f->other);
    t_env_clear(&f->env);
    assert_int_equal(bs_node_recv(&f->sw, f->d, ACQ, s->buf, s->n, 5, &m, &st), BS_ESIG);
    assert_int_equal(st, BS_SIGST_WRONG_OWNER);
    assert_int_equal(f->env.stats[BS_STAT_SIG_FAILURE], before + 1);
    assert_int_equal(t_count_kind(&f->env, BS_J_SIG_FAILURE), 1);
    assert_non_null(strstr(f->env.lines[0], "\"sig\":\"wrong-owner\""));
    assert_non_null(strstr(f->env.lines[0], "\"key_id\":\"mir.OTHERBANK#1\""));
    /* The same bytes on OTHERBANK's own link verify. */
    assert_int_equal(bs_node_recv(&f->sw, f->d, OTHER, s->buf, s->n, 5, &m, &st), 0);
    assert_int_equal(st, BS_SIGST_OK);
}

static void unknown_key(void **state)
{
    struct wire_fx *f = *state;
    const struct t_sent *s;
    struct bs_iso_msg m;
    enum bs_sig_status st = BS_SIGST_OK;

    f->acq.key = f->acq_key_epoch2; /* a rotated key the store does not know yet */
    s = send_from(f, &f->acq);
    f->acq.key = f->acq_key;
    t_env_clear(&f->env);
    assert_int_equal(bs_node_recv(&f->sw, f->d, ACQ, s->buf, s->n, 5, &m, &st), BS_ESIG);
    assert_int_equal(st, BS_SIGST_UNKNOWN_KEY);
    assert_non_null(strstr(f->env.lines[0], "\"key_id\":\"mir.MIRACQ1#2\""));
}

static void missing_envelope(void **state)
{
    struct wire_fx *f = *state;
    const struct t_sent *s;
    struct bs_iso_msg m;
    enum bs_sig_status st = BS_SIGST_OK;

    f->acq.key = NULL; /* signing off on the sender's side: no DE 127 */
    s = send_from(f, &f->acq);
    f->acq.key = f->acq_key;
    t_env_clear(&f->env);
    assert_int_equal(bs_node_recv(&f->sw, f->d, ACQ, s->buf, s->n, 5, &m, &st), BS_ESIG);
    assert_int_equal(st, BS_SIGST_MISSING);
    assert_false(bs_iso_msg_has(&m, 127));
    assert_non_null(strstr(f->env.lines[0], "\"sig\":\"missing\""));

    /* Strip the envelope from a signed message: also missing. */
    s = send_from(f, &f->acq);
    assert_int_equal(bs_iso_unpack(f->d, s->buf, s->n, &m, NULL), 0);
    bs_iso_msg_unset(&m, 127);
    {
        uint8_t buf[BS_WIRE_MAX];
        size_t n;
        assert_int_equal(bs_iso_pack(f->d, &m, buf, sizeof(buf), &n, NULL), 0);
        assert_true(n < s->n);
        assert_int_equal(bs_node_recv(&f->sw, f->d, ACQ, buf, n, 5, &m, &st), BS_ESIG);
        assert_int_equal(st, BS_SIGST_MISSING);
    }

    /* A receiver with signing off takes it as it is. */
    f->sw.keys = NULL;
    assert_int_equal(bs_node_recv(&f->sw, f->d, ACQ, s->buf, s->n, 5, &m, &st), 0);
    assert_int_equal(st, BS_SIGST_NONE);
    f->sw.keys = f->ks;
}

/* Truncated bytes and a message from another dialect are format errors, journaled once. */
static void format_errors(void **state)
{
    struct wire_fx *f = *state;
    const struct t_sent *s = send_from(f, &f->acq);
    struct bs_iso_msg m;
    enum bs_sig_status st = BS_SIGST_OK;
    int64_t before = f->env.stats[BS_STAT_FORMAT_ERROR];

    for (size_t cut = 0; cut < s->n; cut += 7) {
        t_env_clear(&f->env);
        int rc = bs_node_recv(&f->sw, f->d, ACQ, s->buf, cut, 5, &m, &st);
        if (rc == 0)
            fail_msg("%zu of %zu bytes accepted", cut, s->n);
        assert_true(rc == BS_EFORMAT || rc == BS_ESIG);
    }
    assert_true(f->env.stats[BS_STAT_FORMAT_ERROR] > before);
}

static void mti_helpers(void **state)
{
    (void)state;
    assert_string_equal(bs_sig_status_name(BS_SIGST_NONE), "none");
    assert_string_equal(bs_sig_status_name(BS_SIGST_MISSING), "missing");
    assert_string_equal(bs_sig_status_name(BS_SIGST_BAD), "bad");
    assert_string_equal(bs_sig_status_name(BS_SIGST_UNKNOWN_KEY), "unknown-key");
    assert_string_equal(bs_sig_status_name(BS_SIGST_WRONG_OWNER), "wrong-owner");
    assert_string_equal(bs_stat_name(BS_STAT_SIG_FAILURE), "signature_failures");
    assert_string_equal(bs_stat_name(BS_STAT_COUNT), "unknown");
}

/* bs_node_reject() answers a request with the given RC, signed; a response is not answered. */
static void reject_answers_requests(void **state)
{
    struct wire_fx *f = *state;
    struct bs_iso_msg req, resp;
    enum bs_sig_status st;
    char rc[3];

    make_0200(&req);
    f->env.nsent = 0;
    assert_int_equal(bs_node_reject(&f->sw, f->d, ACQ, &req, "63", 9), 0);
    assert_int_equal(f->env.nsent, 1);
    assert_int_equal(
        bs_node_recv(&f->acq, f->d, SW, f->env.sent[0].buf, f->env.sent[0].n, 9, &resp, &st), 0);
    assert_int_equal(st, BS_SIGST_OK);
    assert_string_equal(resp.mti, "0210");
    assert_int_equal(bs_iso_msg_get_str(&resp, 39, rc, sizeof(rc)), 2);
    assert_string_equal(rc, "63");
    /* Echoed: PAN, amount, STAN, DE 7, DE 32; not track 2. */
    assert_true(bs_iso_msg_has(&resp, 2) && bs_iso_msg_has(&resp, 4) && bs_iso_msg_has(&resp, 11));
    assert_true(bs_iso_msg_has(&resp, 7) && bs_iso_msg_has(&resp, 32));
    assert_false(bs_iso_msg_has(&resp, 35));
    /* A response, or a request without a STAN, is never answered. */
    f->env.nsent = 0;
    assert_int_equal(bs_node_reject(&f->sw, f->d, ACQ, &resp, "30", 9), BS_EINVAL);
    bs_iso_msg_unset(&req, 11);
    assert_int_equal(bs_node_reject(&f->sw, f->d, ACQ, &req, "30", 9), BS_EINVAL);
    assert_int_equal(f->env.nsent, 0);
}

int t_run_wire(void)
{
#define WIRE_TESTS(setup)                                                                    \
    cmocka_unit_test_setup_teardown(send_then_recv_verifies, setup, wire_teardown),          \
        cmocka_unit_test_setup_teardown(any_flipped_byte_is_rejected, setup, wire_teardown), \
        cmocka_unit_test_setup_teardown(wrong_owner, setup, wire_teardown),                  \
        cmocka_unit_test_setup_teardown(unknown_key, setup, wire_teardown),                  \
        cmocka_unit_test_setup_teardown(missing_envelope, setup, wire_teardown),             \
        cmocka_unit_test_setup_teardown(format_errors, setup, wire_teardown),                \
        cmocka_unit_test_setup_teardown(reject_answers_requests, setup, wire_teardown)

    const struct CMUnitTest mir_ed[] = { WIRE_TESTS(setup_mir_ed25519),
                                         cmocka_unit_test(mti_helpers) };
    const struct CMUnitTest shetab_ed[] = { WIRE_TESTS(setup_shetab_ed25519) };
    const struct CMUnitTest mir_hmac[] = { WIRE_TESTS(setup_mir_hmac) };
    const struct CMUnitTest shetab_hmac[] = { WIRE_TESTS(setup_shetab_hmac) };
#undef WIRE_TESTS
    int failed = 0;

    failed += cmocka_run_group_tests_name("wire_mir_ed25519", mir_ed, NULL, NULL);
    failed += cmocka_run_group_tests_name("wire_shetab_ed25519", shetab_ed, NULL, NULL);
    failed += cmocka_run_group_tests_name("wire_mir_hmac", mir_hmac, NULL, NULL);
    failed += cmocka_run_group_tests_name("wire_shetab_hmac", shetab_hmac, NULL, NULL);
    return failed;
}
