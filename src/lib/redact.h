/* redact.h: internal. Provider keys cut out of text that leaves the library (error messages,
 * refused lines): "sk-..." (OpenAI, Anthropic) and "AIza..." (Google), a prefix then at least 16
 * key characters, starting a word. Each becomes its first 6 characters and "[redacted]". */
#ifndef IC_REDACT_H
#define IC_REDACT_H

#include <stddef.h>

/* whether s[0..n) holds a key (the redaction itself is public: ic_redact_keys, status.h) */
int ic__has_key(const char *s, size_t n);

#endif
