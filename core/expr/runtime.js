// wangge expression runtime W: the JavaScript twin of core/expr/values.py and functions.py (ES2017, no deps).
var W = (() => {
  "use strict";
  const A = Array.isArray, N = x => typeof x === "number", S = x => typeof x === "string";
  const O = x => x !== null && typeof x === "object" && !A(x);
  const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  const fin = x => isFinite(x) ? x : null;
  const t = x => x == null ? false : typeof x === "boolean" ? x : N(x) ? x !== 0 && x === x :
    S(x) || A(x) ? x.length > 0 : O(x) ? Object.keys(x).length > 0 : true;
  const eq = (a, b) => {
    if (a == null || b == null) return a == null && b == null;
    if (A(a) || A(b)) return A(a) && A(b) && a.length === b.length && a.every((x, i) => eq(x, b[i]));
    if (O(a) || O(b)) {
      if (!O(a) || !O(b)) return false;
      const ka = Object.keys(a);
      return ka.length === Object.keys(b).length && ka.every(k => own(b, k) && eq(a[k], b[k]));
    }
    return a === b;
  };
  // UTF-16 units sort U+E000..U+FFFF after surrogates; shift them so strings order by code point.
  const cu = c => c < 0xD800 ? c : c < 0xE000 ? c + 0x2000 : c - 0x800;
  const cmp = (a, b) => {
    if (N(a) && N(b)) return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN;
    if (!S(a) || !S(b)) return NaN;
    for (let i = 0, n = Math.min(a.length, b.length); i < n; i++) {
      const x = a.charCodeAt(i), y = b.charCodeAt(i);
      if (x !== y) return cu(x) < cu(y) ? -1 : 1;
    }
    return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
  };
  const isIn = (x, c) => A(c) ? c.some(y => eq(x, y)) : S(c) && S(x) && c.includes(x);
  const choices = x => A(x) ? x : S(x) ? x.split(" ").filter(p => p !== "") : null;
  const num = x => {
    if (N(x)) return x;
    const m = S(x) && /^[ \t\n\r]*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)[ \t\n\r]*$/.exec(x);
    return m ? fin(Number(m[1])) : null;
  };
  // [year, month, day] of an ISO date or date-time string, or null
  const ymd = x => {
    if (!S(x) || x.length < 10 || (x.length > 10 && x[10] !== "T" && x[10] !== " ")) return null;
    const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(x.slice(0, 10));
    if (!m) return null;
    const y = +m[1], mo = +m[2], d = +m[3], leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
    return y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1] ? [y, mo, d] : null;
  };
  const dayNo = ([Y, m, d]) => { // days from a proleptic Gregorian civil date
    const y = Y - (m <= 2), era = Math.floor(y / 400), yoe = y - era * 400;
    return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  };
  const text = x => x == null || O(x) ? "" : A(x) ? x.map(text).join(" ") : String(x);
  const extreme = sign => (...xs) => {
    xs = (xs.length === 1 && A(xs[0]) ? xs[0] : xs).filter(x => x != null);
    return xs.length && (xs.every(N) || xs.every(S)) ? xs.reduce((a, b) => cmp(b, a) * sign > 0 ? b : a) : null;
  };
  const ascii = (re, f) => x => S(x) ? x.replace(re, c => c[f]()) : null;
  const arith = f => (a, b) => N(a) && N(b) ? f(a, b) : null;
  const cache = Object.create(null);
  const W = {
    t, eq, in: isIn,
    ne: (a, b) => !eq(a, b),
    lt: (a, b) => cmp(a, b) < 0,
    le: (a, b) => cmp(a, b) <= 0,
    gt: (a, b) => cmp(a, b) > 0,
    ge: (a, b) => cmp(a, b) >= 0,
    add: arith((a, b) => fin(a + b)),
    sub: arith((a, b) => fin(a - b)),
    mul: arith((a, b) => fin(a * b)),
    div: arith((a, b) => b === 0 ? null : fin(a / b)),
    mod: arith((a, b) => { // floored, like Python
      if (b === 0) return null;
      const m = a % b;
      return fin(m !== 0 && (b < 0) !== (m < 0) ? m + b : m);
    }),
    neg: a => N(a) ? -a : null,
    n: x => x === undefined ? null : x,
    path: (x, ks) => {
      for (const k of ks) { if (!O(x) || !own(x, k)) return null; x = x[k]; }
      return x === undefined ? null : x;
    },
    regex: (s, src) => S(s) && (cache[src] || (cache[src] = new RegExp(src, "u"))).test(s),
    // a runtime whose today()/now() are fixed: W.at("2024-05-01", "2024-05-01T08:00:00")
    at: (day, time) => Object.assign(Object.create(W), { today: () => day, now: () => time || day + "T00:00:00" }),
    today: () => W.now().slice(0, 10),
    now: () => { // local wall-clock time, no zone
      const d = new Date();
      return new Date(d - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
    },
    date: x => ymd(x) ? x.slice(0, 10) : null,
    days_between: (a, b) => { const p = ymd(a), q = ymd(b); return p && q ? dayNo(q) - dayNo(p) : null; },
    age: (w, b) => {
      const p = ymd(b), q = ymd(w.today());
      return p && q ? q[0] - p[0] - (q[1] < p[1] || (q[1] === p[1] && q[2] < p[2])) : null;
    },
    len: x => x == null ? 0 : S(x) ? Array.from(x).length : A(x) ? x.length : O(x) ? Object.keys(x).length : null,
    contains: (s, p) => S(s) && S(p) && s.includes(p),
    starts_with: (s, p) => S(s) && S(p) && s.startsWith(p),
    ends_with: (s, p) => S(s) && S(p) && s.endsWith(p),
    count: x => x == null ? 0 : A(x) ? x.length : null,
    sum: x => {
      if (x == null) return 0;
      if (!A(x)) return null;
      let s = 0;
      for (const y of x) {
        if (y == null) continue;
        if (!N(y) || (s = fin(s + y)) === null) return null;
      }
      return s;
    },
    pluck: (xs, k) => xs == null ? [] : !A(xs) || !S(k) ? null : xs.map(x => O(x) && own(x, k) && x[k] !== undefined ? x[k] : null),
    count_selected: x => x == null ? 0 : (x = choices(x)) ? x.length : null,
    selected: (x, v) => (x = choices(x)) !== null && isIn(v, x),
    coalesce: (...xs) => { for (const x of xs) if (x != null && x !== "") return x; return null; },
    int: x => (x = num(x)) === null ? null : Math.trunc(x),
    number: num,
    round: (x, k = 0) => { // half away from zero on the shortest decimal digits, as Python's repr gives them
      if (!N(x) || !N(k) || Math.floor(k) !== k) return null;
      k = Math.max(-400, Math.min(400, k));
      if (x === 0) return x;
      const e = Math.abs(x).toExponential(), at = e.indexOf("e");
      const digits = e.slice(0, at).replace(".", ""), keep = +e.slice(at + 1) + 1 + k;
      if (keep >= digits.length) return x;
      let kept = keep < 0 ? "0" : digits.slice(0, keep) || "0";
      if (keep >= 0 && digits[keep] >= "5") { // add one to the digit string
        let i = kept.length - 1;
        while (i >= 0 && kept[i] === "9") i--;
        kept = (i < 0 ? "1" : kept.slice(0, i) + (+kept[i] + 1)) + "0".repeat(kept.length - i - 1);
      }
      const r = fin(Number(kept + "e" + -k));
      return r === null ? null : x < 0 ? -r + 0 : r;
    },
    min: extreme(-1),
    max: extreme(1),
    abs: x => N(x) ? Math.abs(x) : null,
    lower: ascii(/[A-Z]/g, "toLowerCase"),
    upper: ascii(/[a-z]/g, "toUpperCase"),
    concat: (...xs) => xs.map(text).join("")
  };
  return W;
})();
