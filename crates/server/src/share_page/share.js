// Sesame share page: fetches a shared item's ciphertext and decrypts it in the browser.
//
// The link is /s/{shareId}#{secret}. Browsers never send the fragment (#...) to the
// server, so the server holds only ciphertext and checks an access token derived from
// the secret; it can enforce expiry and view limits but cannot read the item.
// No dependencies, no build step; the page's CSP allows only this script and share.css.
// Values are never logged, and concealed values enter the DOM only while revealed.
// A share restricted to recipients first asks for the visitor's email address, has the
// server mail a one-time code to it, and opens with the address and the code.
"use strict";

(() => {
  const enc = new TextEncoder();
  const CONCEALED = new Set(["Concealed", "CreditCardNumber", "SshKey"]);
  const MASK = "••••••••";
  const HASHES = { SHA1: "SHA-1", SHA256: "SHA-256", SHA512: "SHA-512" };
  const $ = (id) => document.getElementById(id);
  const list = (x) => (Array.isArray(x) ? x : []);
  const str = (x) => (typeof x === "string" ? x : x == null ? "" : String(x));

  // Builds an element from attributes and children; text always goes in as text nodes
  // (never innerHTML), so nothing from the share or the server can inject markup.
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v != null && v !== false) el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) if (c != null && c !== false) el.append(c);
    return el;
  }

  // Unpadded base64url (padding tolerated); null when malformed.
  function b64urlDecode(s) {
    if (typeof s !== "string") return null;
    s = s.replace(/=+$/, "");
    if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return null;
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  function b64urlEncode(bytes) {
    let bin = "";
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // RFC 4648 base32, case-insensitive, spaces/dashes/padding ignored; null when malformed.
  function base32Decode(s) {
    s = s.replace(/[\s-]/g, "").replace(/=+$/, "").toUpperCase();
    if (!/^[A-Z2-7]+$/.test(s)) return null;
    const out = [];
    let acc = 0, bits = 0;
    for (const c of s) {
      acc = ((acc << 5) | "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".indexOf(c)) & 0xffff;
      bits += 5;
      if (bits >= 8) { bits -= 8; out.push((acc >>> bits) & 0xff); }
    }
    return new Uint8Array(out);
  }

  // A Totp field's value: an otpauth://totp/... URI or a bare base32 secret.
  // Returns { key, hash, digits, period } or null when it cannot be used.
  function parseOtp(value) {
    let secret = value.trim(), digits = 6, period = 30, algo = "SHA1";
    if (/^otpauth:/i.test(secret)) {
      const m = /^otpauth:\/\/totp(?:\/[^?#]*)?\?([^#]*)/i.exec(secret); // hotp is not time-based
      if (!m) return null;
      // Parameter names are case-insensitive, as the Rust client reads them.
      const q = new Map([...new URLSearchParams(m[1])].map(([k, v]) => [k.toLowerCase(), v]));
      secret = q.get("secret") || "";
      if (q.has("digits")) digits = Number(q.get("digits"));
      if (q.has("period")) period = Number(q.get("period"));
      if (q.has("algorithm")) algo = q.get("algorithm").toUpperCase().replace("-", "");
    }
    const key = base32Decode(secret);
    const hash = HASHES[algo];
    const ok = key && key.length && hash && Number.isInteger(digits) && digits >= 6 &&
      digits <= 8 && Number.isInteger(period) && period > 0;
    return ok ? { key, hash, digits, period } : null;
  }

  // RFC 4226 HOTP with WebCrypto HMAC; TOTP (RFC 6238) is hotp(otp, floor(t / period)).
  async function hotp(otp, counter) {
    otp.hmac = otp.hmac || crypto.subtle.importKey("raw", otp.key, { name: "HMAC", hash: otp.hash }, false, ["sign"]);
    const msg = new DataView(new ArrayBuffer(8));
    msg.setUint32(0, Math.floor(counter / 2 ** 32));
    msg.setUint32(4, counter >>> 0);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await otp.hmac, msg.buffer));
    const o = mac[mac.length - 1] & 0x0f;
    const bin = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
    return String(bin % 10 ** otp.digits).padStart(otp.digits, "0");
  }

  // Shows one of the page states; `data-state` is a stable hook for tests.
  function setState(state, heading, message) {
    const status = $("status");
    status.dataset.state = state;
    status.replaceChildren(...[heading && h("h1", {}, heading), message && h("p", {}, message)].filter(Boolean));
    if (state !== "ready") $("item").replaceChildren(); // no data next to an error, ever
    if (state !== "verify") { $("verify").hidden = true; $("verify").replaceChildren(); }
  }

  let announceTimer;
  function announce(message) {
    const el = $("announce");
    el.textContent = message;
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => { el.textContent = ""; }, 3000);
  }

  // The async Clipboard API first; then execCommand("copy") with the text handed to
  // the copy event, so even the fallback never puts a concealed value in the DOM.
  async function copyText(text) {
    try { await navigator.clipboard.writeText(text); return true; } catch { /* fall back */ }
    const onCopy = (e) => { e.clipboardData.setData("text/plain", text); e.preventDefault(); };
    document.addEventListener("copy", onCopy);
    try { return document.execCommand("copy"); } catch { return false; } finally {
      document.removeEventListener("copy", onCopy);
    }
  }

  function copyButton(label, getText) {
    const btn = h("button", { type: "button", class: "copy", "aria-label": `Copy ${label}` }, "Copy");
    let timer;
    btn.addEventListener("click", async () => {
      const text = getText();
      if (!text) return;
      const ok = await copyText(text);
      announce(ok ? `Copied ${label}` : `Could not copy ${label}: the browser blocked the clipboard.`);
      if (!ok) return;
      btn.textContent = "Copied";
      clearTimeout(timer);
      timer = setTimeout(() => { btn.textContent = "Copy"; }, 1500);
    });
    return btn;
  }

  const actions = (...buttons) => h("span", { class: "actions" }, buttons);

  // Only http(s) becomes a link: a javascript: or data: URL from a share must not run.
  function safeUrl(value) {
    try {
      const u = new URL(value);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch { return null; }
  }

  function plainValue(dd, value, label, isUrl) {
    if (!value) { dd.append(h("span", { class: "value empty" }, "—")); return; }
    const href = isUrl && safeUrl(value);
    const content = href ? h("a", { href, rel: "noopener noreferrer", target: "_blank" }, value) : value;
    dd.append(h("span", { class: "value" }, content), actions(copyButton(label, () => value)));
  }

  // The value lives only in this closure until the person asks to see it.
  function concealedValue(dd, value, label) {
    const out = h("span", { class: "value masked", "aria-hidden": "true" }, MASK);
    const toggle = h("button", { type: "button", class: "reveal", "aria-label": `Reveal ${label}` }, "Reveal");
    let shown = false;
    toggle.addEventListener("click", () => {
      shown = !shown;
      out.textContent = shown ? value : MASK;
      out.classList.toggle("masked", !shown);
      if (shown) out.removeAttribute("aria-hidden"); else out.setAttribute("aria-hidden", "true");
      toggle.textContent = shown ? "Hide" : "Reveal";
      toggle.setAttribute("aria-label", `${shown ? "Hide" : "Reveal"} ${label}`);
    });
    dd.append(out, actions(toggle, copyButton(label, () => value)));
  }

  // A live code, recomputed when its period rolls over; Copy takes the current code.
  function totpValue(dd, value, label) {
    const otp = parseOtp(value);
    if (!otp) { dd.append(h("span", { class: "value invalid" }, "invalid one-time password secret")); return; }
    const code = h("span", { class: "value otp" }, "…");
    const left = h("span", { class: "ttl" });
    let current = "", counter = -1;
    const tick = async () => {
      const now = Date.now() / 1000;
      left.textContent = `${otp.period - Math.floor(now % otp.period)} s left`;
      const c = Math.floor(now / otp.period);
      if (c === counter) return;
      counter = c;
      try { current = await hotp(otp, c); code.textContent = current; } catch {
        current = "";
        code.textContent = "invalid one-time password secret";
      }
    };
    tick();
    setInterval(tick, 1000);
    dd.append(code, left, actions(copyButton(label, () => current)));
  }

  function fieldRow(f) {
    const label = str(f.title) || str(f.id) || "field";
    const value = str(f.value);
    const dd = h("dd");
    if (f.fieldType === "Totp") totpValue(dd, value, label);
    else if (CONCEALED.has(f.fieldType) && value) concealedValue(dd, value, label);
    else plainValue(dd, value, label, f.fieldType === "Url");
    return h("div", { class: "field", "data-field": str(f.title) }, h("dt", {}, label), dd);
  }

  function humanSize(n) {
    const units = ["KB", "MB", "GB"];
    if (n < 1024) return `${n} ${n === 1 ? "byte" : "bytes"}`;
    let i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < units.length - 1);
    return `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
  }

  // Each file becomes a download from an in-memory Blob; nothing is fetched again.
  function fileRow(f) {
    const name = str(f.name) || "file";
    const bytes = b64urlDecode(str(f.content));
    if (!bytes) return h("li", { class: "file", "data-file": name }, name, h("span", { class: "size" }, "unreadable"));
    const href = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    return h("li", { class: "file", "data-file": name },
      h("a", { href, download: name, class: "download" }, name), " ", h("span", { class: "size" }, humanSize(bytes.length)));
  }

  // One block of fields and files; null when empty so empty sections are skipped.
  function group(title, fields, files) {
    if (!fields.length && !files.length) return null;
    const body = [
      fields.length > 0 && h("dl", { class: "fields" }, fields.map(fieldRow)),
      files.length > 0 && h("ul", { class: "files" }, files.map(fileRow)),
    ];
    return title == null ? h("div", { class: "group" }, body) : h("section", {}, title && h("h2", {}, title), body);
  }

  function formatTime(seconds) {
    const d = new Date(seconds * 1000);
    return h("time", { datetime: d.toISOString() }, d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }));
  }

  function render(item, files, meta) {
    const fields = list(item.fields), sections = list(item.sections);
    const known = new Set(sections.map((s) => s.id));
    const loose = (x) => x.sectionId == null || !known.has(x.sectionId);
    const shared = new Date(str(item.sharedAt));
    const subtitle = [str(item.category), !isNaN(shared) && `shared ${shared.toLocaleDateString()}`];
    const websites = list(item.websites).map((w) => ({ title: str(w.label) || "website", fieldType: "Url", value: w.url }));
    const tags = list(item.tags).map(str).filter(Boolean);
    const views = meta.viewsLeft == null ? null : meta.viewsLeft === 0
      ? h("p", { class: "last" }, "This was the last view of this link; it no longer works.")
      : h("p", {}, `Views left: ${meta.viewsLeft}`);
    $("item").replaceChildren(...[
      h("header", {}, h("h1", {}, str(item.title) || "Untitled item"),
        h("p", { class: "subtitle" }, subtitle.filter(Boolean).join(" · "))),
      group(null, fields.filter(loose), []),
      ...sections.map((s) => group(str(s.title), fields.filter((f) => f.sectionId === s.id), files.filter((f) => f.sectionId === s.id))),
      group("Websites", websites, []),
      group("Files", [], files.filter(loose)),
      item.notes && h("section", { class: "notes" }, h("h2", {}, "Notes"),
        h("pre", { class: "value" }, str(item.notes)), actions(copyButton("notes", () => str(item.notes)))),
      tags.length > 0 && h("ul", { class: "tags", "aria-label": "Tags" }, tags.map((t) => h("li", {}, t))),
      h("footer", {}, h("p", {}, "Expires ", formatTime(meta.expiresAt)), views),
    ].filter(Boolean));
    $("item").hidden = false;
  }

  // The link's access token (proof of holding it, for the server) and the AES-256-GCM
  // key of its ciphertext: HKDF-SHA256(secret, salt empty, info "sesame/v1/share/…/{id}").
  async function shareKeys(secret, id) {
    const hkdf = (label) => ({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: enc.encode(`sesame/v1/share/${label}/${id}`) });
    const ikm = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveBits", "deriveKey"]);
    const access = new Uint8Array(await crypto.subtle.deriveBits(hkdf("access"), ikm, 256));
    const key = await crypto.subtle.deriveKey(hkdf("key"), ikm, { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
    return { access, key };
  }

  // nonce (12) || AES-256-GCM ciphertext and tag, with `aad`.
  async function openBox(key, b64, aad) {
    const bytes = b64urlDecode(b64);
    if (!bytes || bytes.length < 12 + 16) throw new Error("short ciphertext");
    const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData: enc.encode(aad) },
      key, bytes.subarray(12));
    return new Uint8Array(pt);
  }

  async function main() {
    const m = /\/s\/([a-z0-9]{26})\/?$/.exec(location.pathname);
    const secret = b64urlDecode(location.hash.slice(1));
    if (!m) return setState("not-found", "Share not found", "This share link does not exist, or the part after # is wrong.");
    if (!secret || secret.length !== 32) {
      return setState("incomplete", "Incomplete link",
        "This link is incomplete: the part after # is missing or damaged. Ask the sender for the full link.");
    }
    if (!window.crypto || !crypto.subtle) {
      return setState("error", "This page needs a secure connection",
        "Your browser decrypts only on secure (https) pages. Open the link with https://.");
    }
    const id = m[1];
    const { access, key } = await shareKeys(secret, id);
    secret.fill(0);

    // POSTs JSON to the share's public API; { res, body } or null when the server is unreachable.
    async function post(what, payload) {
      try {
        const res = await fetch(`/v1/shares/${id}/${what}`, {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ access: b64urlEncode(access), ...payload }),
          cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
        });
        return { res, body: await res.json().catch(() => null) };
      } catch {
        return null;
      }
    }

    // The answers that end the visit whatever was asked; true when one was shown.
    function final(reply) {
      if (!reply) {
        setState("error", "Could not reach the server", "Check your connection, then reload this page.");
        return true;
      }
      const { res, body } = reply;
      if (res.status === 404) {
        setState("not-found", "Share not found", "This share link does not exist, or the part after # is wrong.");
        return true;
      }
      if (res.status === 410) {
        setState("gone", "This share is no longer available", str(body && body.message) ||
          "It expired, was revoked, or was viewed the most times it allows. Ask the sender for a new link.");
        return true;
      }
      if (res.status === 503) {
        setState("error", "This share cannot be opened here", str(body && body.message) ||
          "The server cannot send the code this share needs. Ask the sender for another link.");
        return true;
      }
      return false;
    }

    async function show(body) {
      let itemBytes, filesBytes = null;
      try {
        itemBytes = await openBox(key, body.item, `sesame/v1/share/item/${id}`);
        if (body.files != null) filesBytes = await openBox(key, body.files, `sesame/v1/share/files/${id}`);
      } catch {
        return setState("tampered", "This share could not be decrypted",
          "This share could not be decrypted: the link or the stored data was tampered with. No data is shown.");
      }
      // Authentic plaintext that does not parse means a client this page does not understand.
      let item, files;
      try {
        const dec = new TextDecoder("utf-8", { fatal: true });
        item = JSON.parse(dec.decode(itemBytes));
        files = filesBytes ? list(JSON.parse(dec.decode(filesBytes)).files) : [];
        if (!item || item.v !== 1) throw new Error("version");
      } catch {
        return setState("error", "This share cannot be shown", "It was made by a newer or unknown version of Sesame.");
      }
      render(item, files, body);
      setState("ready", null, "Decrypted in your browser; the server cannot read this item.");
    }

    // A share restricted to recipients: ask for the visitor's address, have a code
    // mailed to it, then open with both. The server answers the same for any address,
    // so this page cannot tell (and does not say) whether the address is a recipient.
    function verify() {
      setState("verify", "This item was shared with named people",
        "To open it, confirm your email address: if the sender shared it with you, we mail you a one-time code.");
      const form = $("verify");
      form.hidden = false;
      let email = "", busy = false;
      const error = h("p", { id: "verify-error", class: "error", role: "alert" });
      const fail = (message, input) => {
        // The server's messages start in lower case; this is a sentence on its own.
        error.textContent = message.charAt(0).toUpperCase() + message.slice(1);
        if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
      };
      const working = (button, on) => { busy = on; button.disabled = on; };

      async function sendCode(button, input) {
        working(button, true);
        const reply = await post("challenge", { email });
        working(button, false);
        if (final(reply)) return false;
        const { res, body } = reply;
        if (res.status === 202) return true;
        if (res.status === 429) {
          const wait = Number(res.headers.get("Retry-After")) || 600;
          fail(`Too many codes were asked for this share. Try again in ${Math.ceil(wait / 60)} minute${wait > 60 ? "s" : ""}.`, input);
        } else {
          fail(str(body && body.message) || `The code could not be sent (HTTP ${res.status}).`, input);
        }
        return false;
      }

      function emailStep(message) {
        const input = h("input", { id: "verify-email", type: "email", name: "email", autocomplete: "email",
          inputmode: "email", required: true, spellcheck: "false", value: email || null });
        const button = h("button", { type: "submit" }, "Send code");
        error.textContent = message || "";
        form.replaceChildren(
          h("label", { for: "verify-email" }, "Your email address"),
          h("div", { class: "row" }, input, button),
          error);
        form.onsubmit = async (e) => {
          e.preventDefault();
          if (busy) return;
          input.removeAttribute("aria-invalid");
          const value = input.value.trim();
          if (!value || !input.checkValidity() || !value.includes("@")) {
            return fail("Enter your email address, such as name@example.com.", input);
          }
          email = value;
          if (await sendCode(button, input)) codeStep();
        };
        input.focus();
      }

      function codeStep(message) {
        const input = h("input", { id: "verify-code", class: "code", name: "code", type: "text", inputmode: "numeric",
          autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6", required: true, spellcheck: "false" });
        const button = h("button", { type: "submit" }, "Open");
        const resend = h("button", { type: "button", "data-action": "resend" }, "Send a new code");
        const other = h("button", { type: "button", "data-action": "change-email" }, "Use another address");
        error.textContent = message || "";
        form.replaceChildren(
          h("p", { class: "hint", id: "verify-hint" },
            `If ${email} may open this share, a code is on its way to it. It works once, for 10 minutes.`),
          h("label", { for: "verify-code" }, "Code from the mail"),
          h("div", { class: "row" }, input, button),
          h("div", { class: "links" }, resend, other),
          error);
        input.setAttribute("aria-describedby", "verify-hint verify-error");
        resend.addEventListener("click", async () => {
          if (busy) return;
          if (await sendCode(resend, input)) codeStep("A new code was sent; the previous one no longer works.");
        });
        other.addEventListener("click", () => { if (!busy) emailStep(); });
        form.onsubmit = async (e) => {
          e.preventDefault();
          if (busy) return;
          input.removeAttribute("aria-invalid");
          const code = input.value.replace(/\s+/g, "");
          if (!/^[0-9]{6}$/.test(code)) return fail("The code is the 6 digits from the mail.", input);
          working(button, true);
          const reply = await post("open", { email, code });
          working(button, false);
          if (final(reply)) return;
          const { res, body } = reply;
          if (res.ok && body && typeof body.item === "string") return show(body);
          if (res.status === 403) {
            input.value = "";
            return fail(str(body && body.message) || "This code does not work; ask for a new one.", input);
          }
          fail(`The share could not be opened (HTTP ${res.status}). Try again.`, input);
        };
        input.focus();
      }

      emailStep();
    }

    const reply = await post("open", {});
    if (final(reply)) return;
    const { res, body } = reply;
    if (res.status === 401) return verify();
    if (res.status === 429) {
      return setState("error", "Too many attempts (HTTP 429)", "The server is limiting requests. Wait a minute, then reload this page.");
    }
    if (!res.ok || !body || typeof body.item !== "string") {
      return setState("error", `The server could not open this share (HTTP ${res.status})`, "Try again later, or ask the sender for a new link.");
    }
    await show(body);
  }

  if (typeof module === "object" && module.exports) {
    // Under Node (unit tests), export the pure helpers instead of touching a DOM.
    module.exports = { b64urlDecode, b64urlEncode, base32Decode, parseOtp, hotp, shareKeys, openBox };
  } else {
    // A fixed-up fragment does not reload the page by itself; the person expects it to.
    window.addEventListener("hashchange", () => location.reload());
    main().catch(() => setState("error", "Something went wrong", "This page could not show the share."));
  }
})();
