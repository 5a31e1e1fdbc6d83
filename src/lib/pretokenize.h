/* pretokenize.h: internal. The pre-split step of tiktoken: cuts text into the pieces that the
 * o200k_base and cl100k_base regexes find, by hand-written scanners (pretokenize.c) that follow
 * the regexes' leftmost-first backtracking semantics exactly in linear time. It does not know
 * token ids; the byte-pair merge (bpe.c) runs on each piece. */
#ifndef IC_PRETOKENIZE_H
#define IC_PRETOKENIZE_H

#include <stddef.h>

typedef enum ic__pretok_kind { IC_PRETOK_O200K, IC_PRETOK_CL100K } ic__pretok_kind;

/* Split s[start..n) (n is the end of the text as the regex sees it) into up to max pieces;
 * ends[k] receives the end offset of piece k (the first starts at start, each next at the
 * previous end). Returns the number of pieces written (0 only when start == n). */
size_t ic__pretok_split(ic__pretok_kind kind, const unsigned char *s, size_t n, size_t start,
                        size_t *ends, size_t max);

/* Whether the scanners of this thread met bytes that are not UTF-8 since the last call (which
 * clears it). Every character of every piece goes through their classifier, so after a text is
 * split, no flag means the text was valid UTF-8. */
int ic__pretok_met_invalid(void);
/* the same, without clearing it */
int ic__pretok_seen_invalid(void);

#endif
