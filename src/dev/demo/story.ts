/**
 * The day from the story, as data: the PRs that land on a GPU-kernel repository in one day.
 * Each step edits files of the demo repository; three of them break something that only a
 * post-land GPU job (or, without a GPU, the host execution of the same kernel code) catches.
 */

export type Expectation = "good" | "bad" | "flaky";

export interface StoryStep {
  author: string;
  title: string;
  body: string;
  /** New contents per path, computed from the current ones. */
  edit: (read: (path: string) => string) => Record<string, string>;
  expect: Expectation;
  /** Which suite a bad step breaks (the revert's evidence names it). */
  breaks?: string;
  /**
   * Steps with the same batch number land back to back while the GPU workers are busy,
   * so Sheriff must bisect to find which one broke the suite.
   */
  batch?: number;
  /** Landed through a `land` comment and the merge queue instead of the merge button. */
  landByComment?: boolean;
}

export class AnchorMissing extends Error {}

/** Replaces exactly one occurrence of `anchor`; the demo fails loudly if the kernel code moved. */
export function replaceOnce(text: string, anchor: string | RegExp, replacement: string, where: string): string {
  const matches = typeof anchor === "string" ? text.split(anchor).length - 1 : (text.match(new RegExp(anchor, "g")) ?? []).length;
  if (matches !== 1) throw new AnchorMissing(`${where}: expected exactly one ${String(anchor)}, found ${matches}`);
  return text.replace(anchor, replacement);
}

export const DEMO_CONFIG = `# Sheriff's config for the demo repository.
policy:
  autoRevert: on
  maxAutoRevertsPerDay: 5
suites:
  - name: varlen-attention
    kind: builtin
    builtin: varlen-attention
    paths: ["kernels/src/attn*", "kernels/include/sheriff_kernels.h"]
  - name: index-reduce
    kind: builtin
    builtin: index-reduce
    paths: ["kernels/src/index_reduce*", "kernels/include/sk_index_reduce_ops.h"]
  - name: half-precision
    kind: builtin
    builtin: half-precision
    paths: ["kernels/src/convert*", "kernels/include/sk_convert_ops.h"]
  - name: cuda-events
    kind: builtin
    builtin: cuda-events
    paths: ["kernels/src/timing*", "kernels/include/sk_timing_logic.h", "kernels/include/sheriff_timing.h"]
  - name: varlen-api
    kind: command
    command: python3 -m unittest discover -s tests -p "test_*.py"
    paths: ["kernels/api/**", "tests/**"]
    timeoutSeconds: 120
  - name: smoke
    kind: command
    command: sh tests/smoke.sh
    paths: ["tests/smoke.sh", "kernels/api/**"]
    timeoutSeconds: 60
`;

export const API_V0 = `"""Python entry points of the varlen attention kernels."""


def varlen_attn(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, *, scale=None, causal=False):
    return _launch("fa2", q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, scale=scale, causal=causal)


def _launch(backend, *args, **kwargs):
    return {"backend": backend, "args": args, **kwargs}
`;

export const API_TEST = `import unittest
import importlib.util, pathlib

spec = importlib.util.spec_from_file_location("varlen", pathlib.Path(__file__).parent.parent / "kernels/api/varlen.py")
varlen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(varlen)


class VarlenApi(unittest.TestCase):
    def test_dense_call(self):
        out = varlen.varlen_attn("q", "k", "v", [0, 4], [0, 4], 4, 4)
        self.assertEqual(out["backend"], "fa2")


if __name__ == "__main__":
    unittest.main()
`;

/** Fails every third run on a host ("page-table warm-up timed out"), whatever the commit: a real-looking flake. */
export const SMOKE_TEST = `#!/bin/sh
counter="\${SHERIFF_DEMO_STATE:-/tmp}/smoke-runs"
runs=$(( $(cat "$counter" 2>/dev/null || echo 0) + 1 ))
echo "$runs" > "$counter"
if [ $(( runs % 3 )) -eq 0 ]; then
  echo "smoke: page-table warm-up timed out"
  exit 1
fi
echo "smoke: ok"
`;

export const STORY: StoryStep[] = [
  {
    author: "alice",
    title: "varlen attention: accept seqused_k",
    body: "Only the first `seqused_k[b]` keys of sequence b are valid; the rest of its buffer is ignored.",
    expect: "good",
    edit: (read) => ({
      "kernels/api/varlen.py": replaceOnce(
        read("kernels/api/varlen.py"),
        '*, scale=None, causal=False):\n    return _launch("fa2", q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, scale=scale, causal=causal)',
        '*, scale=None, causal=False, seqused_k=None):\n    return _launch("fa2", q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, scale=scale, causal=causal, seqused_k=seqused_k)',
        "seqused_k",
      ),
      "tests/test_varlen_api.py": replaceOnce(
        read("tests/test_varlen_api.py"),
        "\n\nif __name__",
        '\n    def test_seqused_k(self):\n        out = varlen.varlen_attn("q", "k", "v", [0, 4], [0, 8], 4, 8, seqused_k=[3])\n        self.assertEqual(out["seqused_k"], [3])\n\n\nif __name__',
        "seqused_k test",
      ),
    }),
  },
  {
    author: "bob",
    title: "index_reduce: count mean rows in one pass",
    body: "Fuses the count into the reduction loop.",
    expect: "bad",
    breaks: "index-reduce",
    edit: (read) => ({
      "kernels/include/sk_index_reduce_ops.h": replaceOnce(
        read("kernels/include/sk_index_reduce_ops.h"),
        "return (float)(count + (include_self ? 1 : 0));",
        "return (float)(count + 1);  // self row counted in the same pass",
        "mean count",
      ),
    }),
  },
  {
    author: "alice",
    title: "varlen attention: paged KV through a page table",
    body: "Adds `page_table`; the FA2 backend has no paged path, so it raises a clear error there.",
    expect: "good",
    batch: 1,
    edit: (read) => ({
      "kernels/api/varlen.py": replaceOnce(
        replaceOnce(
          read("kernels/api/varlen.py"),
          "seqused_k=None):\n",
          'seqused_k=None, page_table=None, backend="fa2"):\n    if page_table is not None and backend == "fa2":\n        raise ValueError("page_table needs the paged backend; the fa2 backend has no paged KV path")\n',
          "page table signature",
        ),
        'return _launch("fa2", ',
        "return _launch(backend, ",
        "page table backend",
      ),
      "tests/test_varlen_api.py": replaceOnce(
        read("tests/test_varlen_api.py"),
        "\n\nif __name__",
        '\n    def test_page_table_needs_paged_backend(self):\n        with self.assertRaisesRegex(ValueError, "paged backend"):\n            varlen.varlen_attn("q", "k", "v", [0, 4], [0, 4], 4, 4, page_table=[[0]])\n        out = varlen.varlen_attn("q", "k", "v", [0, 4], [0, 4], 4, 4, page_table=[[0]], backend="paged")\n        self.assertEqual(out["backend"], "paged")\n\n\nif __name__',
        "page table test",
      ),
    }),
  },
  {
    author: "carol",
    title: "half-precision: faster fp32 to bf16",
    body: "Drops the rounding add from the bf16 conversion.",
    expect: "bad",
    breaks: "half-precision",
    batch: 1,
    edit: (read) => ({
      "kernels/include/sk_convert_ops.h": replaceOnce(
        read("kernels/include/sk_convert_ops.h"),
        "return (uint16_t)((x + 0x7fffu + lsb) >> 16);",
        "return (uint16_t)((x >> 16) + (lsb & 0u));",
        "bf16 rounding",
      ),
    }),
  },
  {
    author: "dave",
    title: "convert: tidy comments",
    body: "A harmless refactor.",
    expect: "good",
    batch: 1,
    edit: (read) => ({
      "kernels/include/sk_convert_ops.h": replaceOnce(
        read("kernels/include/sk_convert_ops.h"),
        "// bf16 bits -> fp32 bits (exact; NaN gets the quiet bit).",
        "// bf16 bits -> fp32 bits: exact, and NaN keeps its quiet bit.",
        "tidy",
      ),
    }),
  },
  {
    author: "alice",
    title: "varlen attention: out= variants over an _impl core",
    body: "Renames the core to `_varlen_attn_impl` and adds thin wrappers that return a new output or write into `out`.",
    expect: "good",
    edit: (read) => ({
      "kernels/api/varlen.py": replaceOnce(
        read("kernels/api/varlen.py"),
        "\n\ndef _launch(",
        "\n\ndef _varlen_attn_impl(out, *args, **kwargs):\n    result = varlen_attn(*args, **kwargs)\n    if out is not None:\n        out.update(result)\n        return out\n    return result\n\n\ndef varlen_attn_out(out, *args, **kwargs):\n    return _varlen_attn_impl(out, *args, **kwargs)\n\n\ndef _launch(",
        "out variants",
      ),
      "tests/test_varlen_api.py": replaceOnce(
        read("tests/test_varlen_api.py"),
        "\n\nif __name__",
        '\n    def test_out_variant_writes_into_out(self):\n        out = {}\n        self.assertIs(varlen.varlen_attn_out(out, "q", "k", "v", [0, 4], [0, 4], 4, 4), out)\n        self.assertEqual(out["backend"], "fa2")\n\n\nif __name__',
        "out test",
      ),
    }),
  },
  {
    author: "erin",
    title: "timing: skip the redundant synchronize before reading events",
    body: "The end event is on the same stream, so reading it directly saves a sync per sample.",
    expect: "bad",
    breaks: "cuda-events",
    edit: (read) => ({
      "kernels/include/sk_timing_logic.h": replaceOnce(
        read("kernels/include/sk_timing_logic.h"),
        "Ev s = be.synchronize(end);",
        "Ev s = Ev::Ok;  // end is stream-ordered, no sync needed",
        "event sync",
      ),
    }),
  },
  {
    author: "dave",
    title: "smoke: warm the page-table cache",
    body: "Touches the smoke test, which is known to fail on a cold cache.",
    expect: "flaky",
    edit: (read) => ({ "tests/smoke.sh": read("tests/smoke.sh") + "# warm-up is retried by the harness\n" }),
  },
  {
    author: "carol",
    title: "docs: kernel notes for the inference path",
    body: "Documentation only. Landed with `@sheriff land`.",
    expect: "good",
    landByComment: true,
    edit: () => ({ "docs/inference.md": "# Inference path\n\nVarlen attention with seqused_k and a page table.\n" }),
  },
];
