/**
 * HTML for the dashboard's pages. Everything interpolated into `html` is escaped unless it is
 * itself `Html` (built by `html` or `raw`), so text from commits, PRs and results can never be markup.
 */
export class Html {
  constructor(readonly text: string) {}
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

type Part = Html | string | number | null | undefined | false | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return "";
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join("");
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0]!;
  parts.forEach((part, i) => {
    out += render(part) + strings[i + 1]!;
  });
  return new Html(out);
}

/** Markup that is already safe: only for constants of this module's callers. */
export function raw(text: string): Html {
  return new Html(text);
}

/** JSON for a `<script type="application/json">` block: `<` escaped so the data cannot close the element. */
export function jsonScript(id: string, value: unknown): Html {
  return raw(`<script type="application/json" id="${escapeHtml(id)}">${JSON.stringify(value).replace(/</g, "\\u003c")}</script>`);
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1f2328;background:#fff}
header{background:#24292f;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header a{color:#fff;text-decoration:none} header .who{margin-left:auto;opacity:.8}
main{padding:12px 16px}
table{border-collapse:collapse} th,td{padding:2px 6px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
th{font-weight:600;background:#f6f8fa;position:sticky;top:0}
.grid td.cell{width:22px;height:18px;text-align:center;padding:0 2px}
.grid td.cell a{display:block;width:18px;height:16px;border-radius:3px;text-decoration:none;color:#fff;font-size:11px}
.passed a{background:#2da44e}.failed a{background:#cf222e}.flaky a{background:#bf8700}
.crashed a{background:#6e2b8a}.timed-out a{background:#953800}.pending a{background:#8c959f}
.superseded a{background:repeating-linear-gradient(45deg,#d0d7de,#d0d7de 3px,#f6f8fa 3px,#f6f8fa 6px)}
.probed a{background:#0969da}.untested a{border:1px dashed #8c959f}.not-touched a{background:none}
.culprit a{outline:2px solid #000}
tr.revert-commit td.title{font-style:italic}
.tag{display:inline-block;padding:0 6px;border-radius:10px;font-size:12px;margin-left:4px}
.tag.culprit{background:#ffebe9;color:#cf222e}.tag.revert{background:#ddf4ff;color:#0969da}
.legend span{margin-right:10px}.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:middle;margin-right:3px}
form.filters{margin:8px 0;display:flex;gap:8px;flex-wrap:wrap} form.filters input{width:160px}
td.landed{white-space:nowrap}
code,.sha{font-family:ui-monospace,monospace;font-size:12px}
.muted{color:#656d76} .chart{max-width:1100px;height:360px}
section{margin-bottom:20px} h2{font-size:16px;margin:16px 0 6px} .ok{color:#1a7f37}.bad{color:#cf222e}
`;

export function page(options: { title: string; prefix: string; login?: string; body: Html; scripts?: Html }): string {
  const who = options.login
    ? html`<span class="who">signed in as ${options.login}</span>`
    : html`<span class="who"><a href="${options.prefix}/login">sign in</a></span>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>${options.title} · Sheriff</title>
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <style>
          ${raw(STYLE)}
        </style>
      </head>
      <body>
        <header>
          <a href="${options.prefix}/"><strong>Sheriff</strong></a
          ><span>${options.title}</span>${who}
        </header>
        <main>${options.body}</main>
        ${options.scripts}
      </body>
    </html>`.text;
}
