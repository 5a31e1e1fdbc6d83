// rounds_util.mjs: what the alternating-rounds drivers (bench/tokenizer_rounds.mjs,
// bench/chat_count.mjs) share: require() from tests/node/node_modules (where the peers are
// installed), the median of a list, and rounding to two decimals for the JSON they print.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const nm = path.join(path.dirname(fileURLToPath(import.meta.url)), "../tests/node/node_modules");
export const peerRequire = createRequire(path.join(nm, "x.js"));

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const r2 = (x) => Number(x.toFixed(2));
