// Feige–Fiat–Shamir in plain JS BigInt: the same math as src/protocol/ffs, written the way a web
// developer would — a · b % n for every modular product, Euclid's gcd with %, extended Euclid for
// the one inverse a key needs (with the same batched-inversion trick as ours), rejection sampling
// from crypto.getRandomValues. Injected into the page by bench/ffs.mjs as window.ffsBigInt.
(() => {
  const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

  // A uniform value in [1, n − 1] (rejection sampling on |n| random bits).
  function randomBelow(n, bits) {
    const bytes = new Uint8Array(Math.ceil(bits / 8));
    const topMask = 0xff >> (bytes.length * 8 - bits);
    for (;;) {
      crypto.getRandomValues(bytes);
      bytes[0] &= topMask;
      let hex = '0x';
      for (const b of bytes) hex += HEX[b];
      const v = BigInt(hex);
      if (v !== 0n && v < n) return v;
    }
  }

  function gcd(a, b) {
    while (b !== 0n) {
      const t = a % b;
      a = b;
      b = t;
    }
    return a;
  }

  // a⁻¹ mod n, or null when gcd(a, n) ≠ 1.
  function invert(a, n) {
    let r0 = n, r1 = a, t0 = 0n, t1 = 1n;
    while (r1 !== 0n) {
      const q = r0 / r1;
      const r2 = r0 - q * r1;
      r0 = r1; r1 = r2;
      const t2 = t0 - q * t1;
      t0 = t1; t1 = t2;
    }
    if (r0 !== 1n) return null;
    return t0 < 0n ? t0 + n : t0;
  }

  function randomBits(k) {
    const w = crypto.getRandomValues(new Uint32Array(2));
    const e = new Array(k);
    for (let j = 0; j < k; j++) e[j] = ((j < 32 ? w[0] >>> j : w[1] >>> (j - 32)) & 1) === 1;
    return e;
  }

  function bitLength(n) {
    return n.toString(2).length;
  }

  // k secrets s_j and identifiers I_j = ±(s_j²)⁻¹ mod n, with one inversion for all k.
  function keygen(n, k) {
    const bits = bitLength(n);
    for (;;) {
      const s = Array.from({ length: k }, () => randomBelow(n, bits));
      const neg = randomBits(k);
      const squares = s.map((v) => v * v % n);
      const prefix = new Array(k);
      prefix[0] = squares[0];
      for (let j = 1; j < k; j++) prefix[j] = prefix[j - 1] * squares[j] % n;
      let inv = invert(prefix[k - 1], n);
      if (inv === null) continue;
      const ids = new Array(k);
      for (let j = k - 1; j > 0; j--) {
        ids[j] = inv * prefix[j - 1] % n;
        inv = inv * squares[j] % n;
      }
      ids[0] = inv;
      for (let j = 0; j < k; j++) if (neg[j]) ids[j] = n - ids[j];
      return { n, bits, s, ids };
    }
  }

  // Peggy: x = ±r² mod n.
  function commit(key) {
    const r = randomBelow(key.n, key.bits);
    const negative = (crypto.getRandomValues(new Uint8Array(1))[0] & 1) === 1;
    const sq = r * r % key.n;
    return { r, x: negative ? key.n - sq : sq };
  }

  // Peggy: y = r · ∏ s_j^{e_j} mod n.
  function respond(key, r, e) {
    let y = r;
    for (let j = 0; j < e.length; j++) if (e[j]) y = y * key.s[j] % key.n;
    return y;
  }

  // Victor, on x: in range and coprime to n (as zkrelay's Verifier::receive).
  function receive(n, x) {
    if (x <= 0n || x >= n) throw new Error('x out of range');
    if (gcd(n, x) !== 1n) throw new Error('x not coprime to n');
    return x;
  }

  // Victor, on y: y² · ∏ I_j^{e_j} ≡ ±x (mod n); y's gcd only on the failing path, as ours.
  function verify(n, ids, x, e, y) {
    if (y <= 0n || y >= n) throw new Error('y out of range');
    let z = y * y % n;
    for (let j = 0; j < e.length; j++) if (e[j]) z = z * ids[j] % n;
    if (z === x || z === n - x) return true;
    if (gcd(n, y) !== 1n) throw new Error('y not coprime to n');
    return false;
  }

  const BATCH = 32;
  // Mean ms per op, timed in batches of 32 until minMs were spent (as the WASM side).
  function time(minMs, prepare, op) {
    let spent = 0, count = 0;
    while (spent < minMs || count === 0) {
      const inputs = Array.from({ length: BATCH }, prepare);
      const t0 = performance.now();
      for (const input of inputs) op(input);
      spent += performance.now() - t0;
      count += BATCH;
    }
    return spent / count;
  }

  function bench(nHex, k, minMs) {
    const n = BigInt('0x' + nHex);
    const key = keygen(n, k);
    const keygenMs = time(minMs, () => null, () => keygen(n, k));
    const commitMs = time(minMs, () => null, () => commit(key));
    const respondMs = time(minMs, () => [commit(key).r, randomBits(k)], ([r, e]) => respond(key, r, e));
    const honest = () => {
      const { r, x } = commit(key);
      const e = randomBits(k);
      return [x, e, respond(key, r, e)];
    };
    let failures = 0;
    const verifyMs = time(minMs, honest, ([x, e, y]) => {
      if (!verify(n, key.ids, receive(n, x), e, y)) failures++;
    });
    const roundMs = time(minMs, () => null, () => {
      const { r, x } = commit(key);
      receive(n, x);
      const e = randomBits(k);
      if (!verify(n, key.ids, x, e, respond(key, r, e))) failures++;
    });
    if (failures) throw new Error('an honest JS round was rejected');
    const [x, e, y] = honest();
    return {
      keygen: keygenMs, commit: commitMs, respond: respondMs, verify: verifyMs, round: roundMs,
      n: nHex, i: key.ids.map((v) => v.toString(16)),
      x: x.toString(16), e: e.map((b) => (b ? '1' : '0')).join(''), y: y.toString(16),
    };
  }

  // Checks a round made by the WASM prover with this JS verifier.
  function check(nHex, idsHex, x, e, y) {
    const n = BigInt('0x' + nHex);
    const ids = idsHex.map((v) => BigInt('0x' + v));
    const bits = [...e].map((c) => c === '1');
    return verify(n, ids, receive(n, BigInt('0x' + x)), bits, BigInt('0x' + y));
  }

  window.ffsBigInt = { bench, check };
})();
