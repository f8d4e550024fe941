import { describe, expect, it } from "vitest";
import { html, jsonScript, raw } from "../../../src/entry/dashboard/html.js";
import { SessionCodec } from "../../../src/entry/dashboard/session.js";

describe("html", () => {
  it("escapes every interpolated value, nested lists included, and keeps markup it built itself", () => {
    const title = `<script>alert("x")</script> & 'quotes'`;
    const out = html`<p title="${title}">${[title, html`<b>${1}</b>`]}${null}${false}</p>`.text;
    expect(out).toBe(
      `<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;<b>1</b></p>`,
    );
    expect(html`${raw("<hr>")}`.text).toBe("<hr>");
  });

  it("keeps JSON data from closing its script element", () => {
    expect(jsonScript("c", { name: "</script><script>x()</script>" }).text).toBe(
      '<script type="application/json" id="c">{"name":"\\u003c/script>\\u003cscript>x()\\u003c/script>"}</script>',
    );
  });
});

describe("SessionCodec", () => {
  it("opens what it sealed, and nothing sealed with another secret, tampered with or expired", () => {
    const codec = new SessionCodec("one secret of enough length");
    const session = { login: "mona", token: "ghu_x", expiresAt: Date.now() + 60_000 };
    const sealed = codec.seal(session);
    expect(codec.open(sealed)).toEqual(session);
    expect(sealed).not.toContain("ghu_x");
    expect(new SessionCodec("another secret of enough length").open(sealed)).toBeNull();
    const flipped = Buffer.from(sealed, "base64url");
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 1) ^ 1, flipped.length - 1);
    expect(codec.open(flipped.toString("base64url"))).toBeNull();
    expect(codec.open(codec.seal({ ...session, expiresAt: Date.now() - 1 }))).toBeNull();
  });
});
