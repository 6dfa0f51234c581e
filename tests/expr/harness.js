// Test harness: first stdin line is the runtime source; every further line is a JSON batch of
// {js, env, today, now} cases, answered by one line of [{value} | {error}].
"use strict";
const readline = require("readline");
let W = null;
const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (W === null) {
    W = new Function(JSON.parse(line) + "\nreturn W;")();
    process.stdout.write("ready\n");
    return;
  }
  const out = JSON.parse(line).map((c) => {
    try {
      const f = new Function("v", "W", "return " + c.js + ";");
      const env = c.env;
      const v = (name) => (Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined);
      const value = f(v, c.today ? W.at(c.today, c.now) : W);
      return { value: value === undefined ? "<undefined>" : value };
    } catch (e) {
      return { error: String(e) };
    }
  });
  process.stdout.write(JSON.stringify(out) + "\n");
});
