/*
 * Reading journals: a bounded line reader per file, the list of journals in a run
 * directory, and a k-way merge of all of them in time order. Everything streams: memory is
 * one read buffer and one parsed line per file, however long the journals are.
 */
#ifndef BS_SIM_JREAD_H
#define BS_SIM_JREAD_H

#include <stdio.h>

#include <bridgesim/journal.h>

/** Most journal files one run directory may hold (BS_ELIMIT beyond). */
#define BS_JREAD_MAX_FILES 4096
/** Read buffer per file, bytes (at least one maximal line and its '\n'). */
#define BS_JREAD_BUF (64 * 1024)

/** struct bs_jreader - one journal file read line by line. */
struct bs_jreader;

/**
 * bs_jreader_open() - open @path for reading. @err receives "PATH: reason".
 * Return: 0; BS_EIO (cannot open, a directory); BS_ENOMEM.
 */
int bs_jreader_open(const char *path, struct bs_jreader **ret, char *err, size_t errlen);

/**
 * bs_jreader_next() - the next line without its '\n': *@line (valid until the next call)
 * and *@n. A last line without '\n' is returned with *@torn set (the writer was cut off).
 * Return: 1 with a line; 0 at the end; BS_ELIMIT for a line over BS_JOURNAL_LINE_MAX bytes
 * (the file cannot be read further); BS_EIO.
 */
int bs_jreader_next(struct bs_jreader *r, const char **line, size_t *n, bool *torn);

/** bs_jreader_lineno() - the 1-based number of the line last returned. */
uint64_t bs_jreader_lineno(const struct bs_jreader *r);

/** bs_jreader_path() - the path given to bs_jreader_open(). */
const char *bs_jreader_path(const struct bs_jreader *r);

/** bs_jreader_free() - close and free; NULL accepted. */
void bs_jreader_free(struct bs_jreader *r);

/**
 * struct bs_jrun - the journals of a run: RUNDIR/journals/\*.jsonl, or RUNDIR/\*.jsonl, or
 * RUNDIR itself when it is one file; sorted by name.
 */
struct bs_jrun {
    char dir[1024];
    char **paths;
    size_t n;
};

/**
 * bs_jrun_open() - list the journals of @rundir. @err receives a message naming @rundir.
 * Return: 0; BS_ENOTFOUND (no such directory, or no journal in it); BS_ELIMIT; BS_ENOMEM.
 */
int bs_jrun_open(const char *rundir, struct bs_jrun *ret, char *err, size_t errlen);

/** bs_jrun_close() - free the list. */
void bs_jrun_close(struct bs_jrun *run);

/**
 * struct bs_jmerge - every record of every journal of a run in time order: by "t_us",
 * then by file (name order), then by line. Headers are read on open (bs_jmerge_header())
 * and not returned; checkpoints are returned like records.
 */
struct bs_jmerge;

/**
 * struct bs_jmerge_item - one record from the merge.
 * @rec:  the parsed line (valid until the next bs_jmerge_next()).
 * @line, @n: its raw bytes.
 * @file: index of its file in the run (0 .. run->n - 1).
 * @lineno: its line number in that file.
 */
struct bs_jmerge_item {
    const struct bs_jline *rec;
    const char *line;
    size_t n;
    size_t file;
    uint64_t lineno;
};

/**
 * bs_jmerge_open() - open every journal of @run and read its header.
 * @warn: where torn last lines are reported (may be NULL).
 * @err:  on failure, "FILE:LINE: reason".
 * Return: 0; BS_EFORMAT (a file that is not a journal: no header on line 1); BS_EIO;
 * BS_ENOMEM.
 */
int bs_jmerge_open(const struct bs_jrun *run, FILE *warn, struct bs_jmerge **ret, char *err,
                   size_t errlen);

/**
 * bs_jmerge_next() - the next record in time order.
 * Return: 1 with *@ret; 0 when every file is done; BS_EFORMAT (a malformed line), BS_ELIMIT
 * (a line too long) or BS_EIO with @err "FILE:LINE: reason".
 */
int bs_jmerge_next(struct bs_jmerge *m, struct bs_jmerge_item *ret, char *err, size_t errlen);

/** bs_jmerge_header() - the header of file @i (NULL out of range). */
const struct bs_jline *bs_jmerge_header(const struct bs_jmerge *m, size_t i);

/** bs_jmerge_torn() - how many files ended in a torn line (reported on @warn). */
size_t bs_jmerge_torn(const struct bs_jmerge *m);

/** bs_jmerge_free() - free; NULL accepted. */
void bs_jmerge_free(struct bs_jmerge *m);

/** bs_jrun_basename() - the file name part of @path. */
const char *bs_jrun_basename(const char *path);

#endif
