/*
 * bridgesim keygen SCENARIO --out DIR — write the asymmetric signing keys of every node of a
 * scenario as PKCS#8 PEM files, mode 0600, one per node, key and epoch:
 * DIR/<owner>.<epoch>.pem, where the owner is the node's name, or "<node>@<alg>" for an
 * algorithm other than the scenario's default (bs_scenario_key_owner()). A run reads them
 * with `signing: {key_dir: DIR}`. By default the keys are the ones a run derives from the
 * seed (HKDF), so a run with the files replays a run without them byte for byte; --random
 * draws fresh keys from the operating system's generator instead.
 *
 * HMAC and CMAC zone keys have no PKCS#8 form and stay derived from the seed. Every private
 * key is wiped from memory after it is written (bs_key_free(), OPENSSL_cleanse()).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <bridgesim/crypto.h>

#include "cli/cli.h"
#include "scenario/scenario.h"

#define MAX_SETS 64

static void usage(FILE *out)
{
    fputs("usage: bridgesim keygen SCENARIO --out DIR [--set key=value]... [--random] [--force]\n"
          "\n"
          "Writes the Ed25519 / ECDSA P-256 private key of every node of SCENARIO, for every\n"
          "key epoch its rotations need, as DIR/<owner>.<epoch>.pem (PKCS#8, mode 0600).\n"
          "Run the scenario with them: --set signing.key_dir=DIR (or key_dir in the file).\n"
          "\n"
          "  --out DIR      directory to write (created with mode 0700 when missing)\n"
          "  --set K=V      override one scenario value first (e.g. signing.algorithm=...)\n"
          "  --random       fresh random keys instead of the ones derived from the seed\n"
          "  --force        overwrite existing key files\n"
          "  -h, --help     show this help\n"
          "\n"
          "exit: 0 keys written, 2 usage or input error (nothing to write included)\n",
          out);
}

static bool is_asymmetric(enum bs_sig_alg alg)
{
    return alg == BS_SIG_ED25519 || alg == BS_SIG_ECDSA_P256;
}

/* Add @alg to @set (of @n) when asymmetric and new. */
static void want(enum bs_sig_alg *set, size_t *n, enum bs_sig_alg alg)
{
    if (!is_asymmetric(alg))
        return;
    for (size_t i = 0; i < *n; i++)
        if (set[i] == alg)
            return;
    set[(*n)++] = alg;
}

/*
 * The asymmetric algorithms @node may sign with: the default, its network's, every
 * network's for the bridge, and those of the signing.links entries that name it. A superset
 * of what a run needs (bs_scenario_link_signing() over its actual links), so a run never
 * misses a file.
 */
static size_t node_algs(const struct bs_scenario *sc, const char *node, enum bs_sig_alg out[8])
{
    const struct bs_sc_signing *sg = &sc->signing;
    bool bridge = strcmp(node, "bridge") == 0;
    size_t n = 0, dot = strcspn(node, ".");

    want(out, &n, sc->sig_alg);
    for (size_t i = 0; i < sc->nnetworks; i++) {
        bool mine =
            strlen(sc->networks[i].name) == dot && strncmp(sc->networks[i].name, node, dot) == 0;
        if (sg->net_set[i] && (mine || bridge))
            want(out, &n, sg->net_alg[i]);
    }
    for (size_t i = 0; i < sg->nlinks; i++)
        if (strcmp(sg->links[i].a, node) == 0 || strcmp(sg->links[i].b, node) == 0)
            want(out, &n, sg->links[i].alg);
    return n;
}

/* A fresh key of @alg from the OS generator (P-256: retry the rare scalar out of range). */
static int random_key(enum bs_sig_alg alg, const char *id, struct bs_key **ret)
{
    uint8_t raw[32];
    int rc;

    do {
        if (RAND_priv_bytes(raw, sizeof(raw)) != 1) {
            rc = BS_ECRYPTO;
            break;
        }
        rc = bs_key_from_raw(alg, raw, sizeof(raw), id, 0, ret);
    } while (rc == BS_EINVAL && alg == BS_SIG_ECDSA_P256);
    OPENSSL_cleanse(raw, sizeof(raw));
    return rc;
}

/* Write @text to @path with mode 0600, refusing to replace a file unless @force. */
static int write_secret(const char *path, const char *text, size_t len, bool force)
{
    int fd = open(path, O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL) | O_CLOEXEC, 0600);
    size_t done = 0;

    if (fd < 0)
        return -1;
    /* An existing file keeps its mode under O_TRUNC: make it private again. */
    if (fchmod(fd, 0600) != 0) {
        close(fd);
        return -1;
    }
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    return close(fd);
}

static int write_keys(const struct bs_scenario *sc, const char *dir, bool random, bool force,
                      size_t *ret_written)
{
    char(*names)[BS_SC_NAME_MAX] = calloc(BS_SC_MAX_NODES, sizeof(*names));
    size_t nn, written = 0;
    uint8_t seed[8];
    int rc = 0;

    if (!names)
        return BS_ENOMEM;
    for (int i = 0; i < 8; i++)
        seed[i] = (uint8_t)(sc->seed >> (56 - 8 * i));
    nn = bs_scenario_node_names(sc, names, BS_SC_MAX_NODES);
    for (size_t i = 0; i < nn && rc == 0; i++) {
        enum bs_sig_alg algs[8];
        size_t na = node_algs(sc, names[i], algs);
        uint32_t epochs = bs_scenario_rotations(sc, names[i]);

        for (size_t a = 0; a < na && rc == 0; a++) {
            char owner[BS_KEY_ID_MAX + 1];

            if (bs_scenario_key_owner(sc, names[i], NULL, algs[a], owner, sizeof(owner)) != 0) {
                fprintf(stderr, "bridgesim keygen: key id of %s is too long\n", names[i]);
                rc = BS_EINVAL;
                break;
            }
            for (uint32_t e = 0; e <= epochs && rc == 0; e++) {
                char id[BS_KEY_ID_MAX + 16], path[1200], pem[BS_KEY_PEM_MAX];
                struct bs_key *k = NULL;
                int len;

                snprintf(id, sizeof(id), "%s#%u", owner, e);
                rc = random ? random_key(algs[a], id, &k)
                            : bs_key_derive(algs[a], seed, sizeof(seed), owner, e, 0, &k);
                if (rc) {
                    fprintf(stderr, "bridgesim keygen: key %s: %s\n", id, bs_strerror(rc));
                    break;
                }
                len = bs_key_pem_write_private(k, pem, sizeof(pem));
                bs_key_free(k); /* wipes the private key */
                if (len < 0) {
                    fprintf(stderr, "bridgesim keygen: key %s: %s\n", id, bs_strerror(len));
                    rc = len;
                    break;
                }
                snprintf(path, sizeof(path), "%s/%s.%u.pem", dir, owner, e);
                if (write_secret(path, pem, (size_t)len, force) != 0) {
                    fprintf(stderr, "bridgesim keygen: %s: %s%s\n", path, strerror(errno),
                            errno == EEXIST ? " (--force replaces it)" : "");
                    rc = BS_EIO;
                }
                OPENSSL_cleanse(pem, sizeof(pem));
                written += rc == 0;
            }
        }
    }
    free(names);
    *ret_written = written;
    return rc;
}

int bs_cli_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
        { "out", required_argument, NULL, 'o' }, { "set", required_argument, NULL, 'S' },
        { "random", no_argument, NULL, 'r' },    { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },      { NULL, 0, NULL, 0 },
    };
    const char *sets[MAX_SETS], *out = NULL;
    size_t nsets = 0, written = 0;
    bool random = false, force = false;
    struct bs_scenario *sc = NULL;
    static char err[16384];
    struct stat st;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'S':
            if (nsets == MAX_SETS) {
                fprintf(stderr, "bridgesim keygen: at most %d --set options\n", MAX_SETS);
                return BS_EXIT_USAGE;
            }
            sets[nsets++] = optarg;
            break;
        case 'r':
            random = true;
            break;
        case 'f':
            force = true;
            break;
        case 'h':
            usage(stdout);
            return BS_EXIT_OK;
        default:
            usage(stderr);
            return BS_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !out) {
        fputs(optind == argc ? "bridgesim keygen: no scenario file given\n"
              : !out         ? "bridgesim keygen: --out DIR is required\n"
                             : "bridgesim keygen: one scenario at a time\n",
              stderr);
        usage(stderr);
        return BS_EXIT_USAGE;
    }
    rc = bs_scenario_load(argv[optind], sets, nsets, &sc, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "%s\n", err[0] ? err : bs_strerror(rc));
        return BS_EXIT_USAGE;
    }
    if (mkdir(out, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "bridgesim keygen: %s: %s\n", out, strerror(errno));
        bs_scenario_free(sc);
        return BS_EXIT_USAGE;
    }
    if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "bridgesim keygen: %s: not a directory\n", out);
        bs_scenario_free(sc);
        return BS_EXIT_USAGE;
    }
    rc = write_keys(sc, out, random, force, &written);
    if (rc == 0 && written == 0) {
        fprintf(stderr,
                "bridgesim keygen: %s signs with %s everywhere: no Ed25519 or ECDSA P-256 keys "
                "to write (HMAC and CMAC zone keys are derived from the seed)\n",
                argv[optind], bs_sig_alg_name(sc->sig_alg));
        rc = BS_EINVAL;
    }
    if (rc == 0)
        printf("%s: wrote %zu %s key file(s) to %s (mode 0600); run with --set "
               "signing.key_dir=%s\n",
               argv[optind], written, random ? "random" : "seed-derived", out, out);
    bs_scenario_free(sc);
    return rc == 0 ? BS_EXIT_OK : BS_EXIT_USAGE;
}
