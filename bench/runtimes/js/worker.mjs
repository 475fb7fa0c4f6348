// worker.mjs — the JavaScript runtimes' worker, one file for Node, Deno and Bun
// (bench/runtimes/README.md is the protocol; common.mjs the loops and the protocol loop).
//
//   <engine> worker.mjs                     answers the driver's requests on stdin/stdout
//   <engine> worker.mjs first-call MECH     prints "LOAD_NS FIRST_NS SECOND_NS" and exits
//   <engine> worker.mjs first-call none     exits 0 without loading anything
//
// The engine is the one running this file; its binding module holds its mechanisms.
import process from "node:process";

const engineName = typeof Deno !== "undefined" ? "deno" : typeof Bun !== "undefined" ? "bun" : "node";
const args = engineName === "deno" ? Deno.args : process.argv.slice(2);

async function main() {
  if (args[0] === "first-call" && args.length === 2) {
    if (args[1] === "none") return 0;
    const { loadAbi } = await import("./common.mjs");
    const bind = await import(`./bind_${engineName}.mjs`);
    bind.prepareFirstCall(loadAbi());
    bind.firstCallMain(args[1], () => process.hrtime.bigint());
    return 0;
  }
  if (args.length) {
    process.stderr.write("usage: worker.mjs [first-call MECHANISM|none]\n");
    return 2;
  }
  const { serve } = await import("./common.mjs");
  const bind = await import(`./bind_${engineName}.mjs`);
  serve(() => bind.engine());
  return 0;
}

main().then((rc) => process.exit(rc), (e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
