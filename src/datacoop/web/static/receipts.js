// Verify receipts in the browser: the same three checks as `datacoop receipt verify`
// (datacoop.algorithms.ledger.verify_receipt), with WebCrypto only. No third-party code.
//   1. leaf = SHA-256(0x00 || canonical_json(entry))
//   2. the RFC 9162 §2.1.3.2 inclusion proof leads from leaf to tree_head.root_hash
//   3. tree_head carries the log's Ed25519 signature over
//      canonical_json({"v": 1, "tree_size", "root_hash", "timestamp"})
(function () {
  "use strict";
  const enc = new TextEncoder();
  let keyPromise = null;

  // Canonical JSON (docs/ledger.md): sorted keys by code point, no whitespace, integers only.
  function canonical(value) {
    if (value === null || typeof value === "boolean") return JSON.stringify(value);
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) throw new Error("not an integer: " + value);
      return String(value);
    }
    if (typeof value === "string") return JSON.stringify(value);
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    const keys = Object.keys(value).sort((a, b) => {
      const x = Array.from(a), y = Array.from(b);
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const d = x[i].codePointAt(0) - y[i].codePointAt(0);
        if (d) return d;
      }
      return x.length - y.length;
    });
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
  }

  function hexToBytes(hex) {
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error("not a 32-byte hex hash");
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }

  function toHex(bytes) {
    return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function b64ToBytes(b64) {
    const bin = atob(b64);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  async function sha256(prefix, ...parts) {
    const total = 1 + parts.reduce((n, p) => n + p.length, 0);
    const buf = new Uint8Array(total);
    buf[0] = prefix;
    let at = 1;
    for (const p of parts) { buf.set(p, at); at += p.length; }
    return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
  }

  // RFC 9162 §2.1.3.2.
  async function rootFromInclusion(leaf, index, size, proof) {
    if (index >= size) throw new Error("leaf index is outside the tree");
    let fn = index, sn = size - 1, r = leaf;
    for (const hex of proof) {
      const p = hexToBytes(hex);
      if (sn === 0) throw new Error("inclusion proof is too long");
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(1, p, r);
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await sha256(1, r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error("inclusion proof is too short");
    return r;
  }

  function logKey() {
    if (!keyPromise) {
      keyPromise = fetch("/api/v1/log/public-key").then((r) => r.text()).then((pem) => {
        const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
        return crypto.subtle.importKey("spki", b64ToBytes(body), { name: "Ed25519" }, false, ["verify"]);
      });
    }
    return keyPromise;
  }

  async function verifyReceipt(receipt) {
    const head = receipt.tree_head;
    const leaf = await sha256(0, enc.encode(canonical(receipt.entry)));
    const root = await rootFromInclusion(leaf, receipt.leaf_index, head.tree_size, receipt.inclusion_proof);
    if (toHex(root) !== head.root_hash.toLowerCase()) {
      return "the inclusion proof does not lead to the signed root";
    }
    const message = canonical({ v: 1, tree_size: head.tree_size, root_hash: head.root_hash, timestamp: head.timestamp });
    const ok = await crypto.subtle.verify({ name: "Ed25519" }, await logKey(), b64ToBytes(head.signature), enc.encode(message));
    return ok ? null : "the tree head's signature is not the log's";
  }

  async function onVerify(button) {
    const id = button.dataset.verify;
    const out = document.getElementById("verify-result-" + id);
    out.className = "verify-result";
    out.textContent = "Checking…";
    try {
      const r = await fetch("/api/v1/submissions/" + id + "/receipt", { credentials: "same-origin" });
      if (!r.ok) throw new Error("could not fetch the receipt (HTTP " + r.status + ")");
      const receipt = await r.json();
      const problem = await verifyReceipt(receipt);
      if (problem) {
        out.classList.add("bad");
        out.textContent = "✗ Not valid: " + problem + ".";
      } else {
        const when = new Date(receipt.tree_head.timestamp).toISOString().replace("T", " ").slice(0, 19);
        out.classList.add("good");
        out.textContent = "✓ Verified: entry #" + receipt.leaf_index + " is in the log of " +
          receipt.tree_head.tree_size + " entries signed at " + when + " UTC.";
      }
    } catch (e) {
      out.classList.add("bad");
      const unsupported = e && e.name === "NotSupportedError";
      out.textContent = unsupported
        ? "This browser cannot check Ed25519 signatures: download the receipt and run `datacoop receipt verify`."
        : "Could not verify: " + e.message;
    }
  }

  document.addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-verify]");
    if (button) onVerify(button);
  });
  window.datacoopReceipts = { canonical, verifyReceipt };
})();
