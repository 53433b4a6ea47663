/*
 * bridgesim CLI: one function per subcommand. Each takes the arguments after the
 * subcommand name (argv[0] is the subcommand itself) and returns the process exit code:
 * 0 success, 1 a check failed (invariant, expectation, verification), 2 usage or input
 * error. Messages go to stderr, results to stdout.
 */
#ifndef BRIDGESIM_CLI_H
#define BRIDGESIM_CLI_H

#define BS_EXIT_OK     0
#define BS_EXIT_FAILED 1
#define BS_EXIT_USAGE  2

int bs_cli_run(int argc, char **argv);
int bs_cli_validate(int argc, char **argv);
int bs_cli_check(int argc, char **argv);
int bs_cli_msg(int argc, char **argv);
int bs_cli_log(int argc, char **argv);
int bs_cli_bench(int argc, char **argv);
int bs_cli_keygen(int argc, char **argv);

/**
 * bs_cli_dialect_dir() - the directory where `--dialect NAME` looks for NAME.yaml:
 * $BRIDGESIM_DIALECTS, else configs/dialects under the source tree the program was built
 * from, else ./configs/dialects. Never NULL.
 */
const char *bs_cli_dialect_dir(void);

/**
 * bs_cli_crypto_threads() - parse the value of `--crypto-threads` for command @cmd: a
 * whole number 0..64 (0: sign and verify on the event loop), or "auto" (BS_CPOOL_AUTO:
 * one per core for Ed25519 and ECDSA, none for MACs). On an error prints it to stderr, naming @cmd.
 * Return: 0 and *@ret; -1 on an error.
 */
int bs_cli_crypto_threads(const char *cmd, const char *arg, unsigned *ret);

#endif
