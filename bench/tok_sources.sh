# bench/tok_sources.sh: sourced by the tokenizer A/B tools (tokenizer_ab.sh, tokenizer_parts.sh).
# tok_sources REV DIR: copies the tokenizer's sources (src/lib/{tokenizer,bpe,bpe_backtrack,
# pretokenize}.c and their headers) as they are at git revision REV into DIR; REV may also be
# "tree" (the working tree) or a directory holding them.
# tok_support: the rest of the library the tokenizer links against (error text, file reading,
# the Unicode tables, the embedded ranks), at the working tree's version.
tok_support="src/lib/unicode_tables.c src/lib/fileread.c src/lib/status.c src/lib/redact.c build/embedded.o"
tok_sources() {
    local rev=$1 d=$2 f
    mkdir -p "$d"
    if [ "$rev" = tree ]; then
        cp src/lib/{tokenizer.c,bpe.c,bpe.h,bpe_backtrack.c,pretokenize.c,pretokenize.h} "$d/"
    elif [ -d "$rev" ]; then
        cp "$rev"/*.c "$rev"/*.h "$d/"
    else
        for f in tokenizer.c bpe.c bpe.h bpe_backtrack.c pretokenize.c pretokenize.h; do
            git show "$rev:src/lib/$f" > "$d/$f"
        done
    fi
}
