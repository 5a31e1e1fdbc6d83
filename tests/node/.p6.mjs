import { debianText, everyCodePoint, longRuns, synthetic, mulberry32 } from "./tokenizer_corpus.mjs";
import fs from "node:fs";
const d = debianText(); const rnd = mulberry32(1);
fs.writeFileSync("/tmp/ic3/prose.txt", d.prose); fs.writeFileSync("/tmp/ic3/code.txt", d.code);
fs.writeFileSync("/tmp/ic3/ecp.txt", everyCodePoint(rnd)); fs.writeFileSync("/tmp/ic3/long.txt", longRuns(rnd));
const words = d.prose.split(/\s+/).filter(w=>w&&w.length<40);
fs.writeFileSync("/tmp/ic3/synth.txt", synthetic(words, 5e6, rnd));
