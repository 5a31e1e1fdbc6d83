import { buildCorpus } from "./tokenizer_corpus.mjs";
import fs from "node:fs";
const c = buildCorpus(); fs.writeFileSync("/tmp/ic3/corpus.txt", c.buf); console.log(c.buf.length, c.sha256);
