import { get_encoding } from "tiktoken";
import fs from "node:fs";
const t = fs.readFileSync("/usr/include/stdlib.h", "utf8").repeat(100);
for (const e of ["o200k_base","cl100k_base","o200k_base"]) { const enc = get_encoding(e);
 for (const chunk of [1<<12, 1<<16, 1<<20]) {
 const a=performance.now(); let n=0; for (let i=0;i<t.length;i+=chunk) n+=enc.encode_ordinary(t.slice(i,i+chunk)).length; const b=performance.now(); console.log(e, chunk, ((Buffer.byteLength(t))/1e6/((b-a)/1000)).toFixed(1), "MB/s", n); }}
