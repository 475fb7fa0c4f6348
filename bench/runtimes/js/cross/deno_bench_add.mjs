// The cross-check through `deno bench`: runs add.bench.mjs with --json and prints its average ns
// per iteration (deno bench's loop calls the function once per iteration and drops its result:
// independent calls, like mitata's).
const cmd = new Deno.Command(Deno.execPath(), {
  args: ["bench", "--json", "--allow-ffi", "--allow-env", new URL("./add.bench.mjs", import.meta.url).pathname],
  stdout: "piped", stderr: "inherit",
});
const { code, stdout } = await cmd.output();
if (code !== 0) throw new Error(`deno bench exited ${code}`);
const report = JSON.parse(new TextDecoder().decode(stdout));
const ok = report.benches[0].results[0].ok;
if (!ok) throw new Error("deno bench: no result");
console.log(ok.avg.toFixed(3));
