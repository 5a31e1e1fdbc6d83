import { get_encoding } from "tiktoken";
import fs from "node:fs";
const t = fs.readFileSync(process.argv[3], "utf8");
const enc = get_encoding(process.argv[2]);
console.log(Array.from(enc.encode_ordinary(t)).join(" "));
