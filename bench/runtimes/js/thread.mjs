// thread.mjs — one thread of a /threads:2 benchmark (pair.mjs): what the Worker each engine starts
// runs. Its data (the shared block, the mechanism, the environment's address) comes as Node's
// workerData, or as the first message under Deno and Bun; its binding module is loaded here, in
// this thread's own isolate.
import { threadMain } from "./pair.mjs";

const engineName = typeof Deno !== "undefined" ? "deno" : typeof Bun !== "undefined" ? "bun" : "node";
const data = engineName === "node"
  ? (await import("node:worker_threads")).workerData
  : await new Promise((resolve) => {
    self.onmessage = (e) => {
      self.onmessage = null;
      resolve(e.data);
    };
  });
await threadMain(async () => (await import(`./bind_${engineName}.mjs`)).engine(), data);
