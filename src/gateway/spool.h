/* spool.h: the gateway's durable event spool. The request path appends each finished call's event
 * line into a memory-mapped journal (FILE.wal, MAP_SHARED): a memcpy, no system call, and the
 * bytes belong to the kernel's page cache at once, so they survive kill -9 of the gateway. A
 * writer thread copies the journal into the JSONL spool FILE (the `infercost cost` / `ingest`
 * input form) and fdatasyncs it in batches. At start, journal bytes not yet copied are replayed
 * into FILE (events already there, by id, are not written twice). Single producer: the event
 * loop thread. */
#ifndef IC_GW_SPOOL_H
#define IC_GW_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gw_spool gw_spool;

/* Open (creating) FILE and FILE.wal, replay what the journal holds, start the writer.
 * journal_bytes: ring size (rounded to pages). *replayed: events recovered. */
gw_spool *gw_spool_open(const char *path, size_t journal_bytes, bool fsync, uint64_t *replayed,
                        char *err, size_t errcap);
/* The same with the journal at journal (NULL: FILE.wal): e.g. on tmpfs, where writing into the
 * mapping never faults into the file system (a journaling file system updates the file's mtime
 * in a transaction at such faults, which can wait for a commit). */
gw_spool *gw_spool_open_at(const char *path, const char *journal, size_t journal_bytes,
                           bool fsync, uint64_t *replayed, char *err, size_t errcap);
/* Append one line (without newline; one is added). Never blocks unless the journal is full
 * (then it waits for the writer: counted in gw_spool_stalls). false if the line is too big. */
bool gw_spool_append(gw_spool *s, const char *line, size_t len);
/* Flush everything to FILE and stop the writer (the ledger sink's last pass comes after this,
 * while the spool still answers gw_spool_generation); gw_spool_close then unmaps and frees (it
 * stops first if that was not done). */
void gw_spool_stop(gw_spool *s);
void gw_spool_close(gw_spool *s);

/* Rotation: ask the writer to open FILE's path again (after logrotate renamed the file; SIGHUP).
 * It does so once the bytes it holds are in the old file and synced; events go to the new file
 * from then on, and gw_spool_generation counts one more. */
void gw_spool_reopen(gw_spool *s);
uint64_t gw_spool_generation(const gw_spool *s);
/* A read descriptor of the file generation gen was written to (the caller closes it), or -1;
 * the descriptors of earlier generations are closed. For the ledger sink, which reads every
 * generation's file to its end, however far behind it is (up to 64 rotations). */
int gw_spool_take_file(gw_spool *s, uint64_t gen);
/* Keep those descriptors from now on (the ledger sink calls it; without a sink none is kept, so
 * a rotated file deleted by logrotate does not stay pinned). */
void gw_spool_keep_files(gw_spool *s);

uint64_t gw_spool_events(const gw_spool *s);
uint64_t gw_spool_pending_bytes(const gw_spool *s);
uint64_t gw_spool_stalls(const gw_spool *s);
/* the journal's size: calls are refused (503) while more than 3/4 of it waits for the disk */
uint64_t gw_spool_capacity(const gw_spool *s);

/* Lower the calling thread to the lowest normal priority (background threads: the spool writer,
 * the ledger sink), so that their wake-ups do not preempt the event loop. */
void gw_background_priority(void);

#endif
