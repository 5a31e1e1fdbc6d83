import { buildCorpus } from "./tokenizer_corpus.mjs";
const t0 = performance.now();
const c = buildCorpus();
console.log(c.buf.length, c.sha256, c.sources, c.sections, ((performance.now()-t0)/1000).toFixed(1)+"s");
