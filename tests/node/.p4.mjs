import { buildCorpus, debianText, everyCodePoint, longRuns, mulberry32 } from "./tokenizer_corpus.mjs";
import { get_encoding } from "tiktoken";
const enc = get_encoding("o200k_base");
const d = debianText();
const rnd = mulberry32(1);
for (const [name, s] of [["prose", d.prose.slice(0, 3e6)], ["code", d.code.slice(0, 3e6)], ["ecp", everyCodePoint(rnd).slice(0, 3e6)], ["long", longRuns(rnd)]]) {
  const t0 = performance.now(); enc.encode_ordinary(s); const t = (performance.now() - t0) / 1000;
  console.log(name, Buffer.byteLength(s), t.toFixed(2) + "s", (Buffer.byteLength(s) / 1e6 / t).toFixed(2) + " MB/s");
}
