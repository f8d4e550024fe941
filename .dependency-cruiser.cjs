/**
 * The layers of src/ and which way their imports go (CONTRIBUTING.md explains them):
 *   entry → flows, runner → core, adapters → model;  dev/ may import anything, nothing imports dev/.
 * Type-only imports count: a cycle through types is still a cycle for a reader.
 */
const layer = (name, mayImport) => ({
  name: `${name}-imports-only-${mayImport.join("-")}`,
  comment: `src/${name}/ may import only ${mayImport.map((l) => `src/${l}/`).join(", ")} and packages`,
  severity: "error",
  from: { path: `^src/${name}/` },
  to: { path: "^src/", pathNot: mayImport.map((l) => `^src/${l}/`) },
});

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "import cycles make the layers meaningless and the start-up order fragile",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    layer("model", ["model"]),
    layer("core", ["core", "model"]),
    layer("adapters", ["adapters", "model"]),
    layer("flows", ["flows", "core", "adapters", "model"]),
    layer("runner", ["runner", "flows", "core", "adapters", "model"]),
    layer("entry", ["entry", "flows", "runner", "core", "adapters", "model"]),
    {
      name: "nothing-imports-dev",
      comment: "the GitHub stand-in, the simulator and the demo are development tools: product code never imports them",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/dev/" },
      to: { path: "^src/dev/" },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".d.ts"],
    },
  },
};
