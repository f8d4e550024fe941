// App-level routes: /app, installations, installation tokens, users.
import { issueInstallationToken } from "./auth.js";
import type { SandboxRouter } from "./ctx.js";
import { HttpError, notFound, ok, paginate } from "./http.js";
import { accountJson, appJson, installationJson, installationPermissions, repoJson } from "./shapes.js";

export function registerAppRoutes(r: SandboxRouter): void {
  r.add("GET", "/app", { auth: "app" }, (ctx) => ok(appJson(ctx.core.urls)));

  r.add("GET", "/app/installations", { auth: "app" }, (ctx) => {
    const all = [...ctx.core.state.installations.values()].map((i) => installationJson(ctx.core.urls, i));
    const { page, headers } = paginate(all, ctx.query, ctx.selfUrl);
    return ok(page, 200, headers);
  });

  r.add("GET", "/app/installations/:id", { auth: "app" }, (ctx) => {
    const inst = ctx.core.state.installations.get(Number(ctx.params.id));
    if (!inst) throw notFound();
    return ok(installationJson(ctx.core.urls, inst));
  });

  r.add("POST", "/app/installations/:id/access_tokens", { auth: "app" }, (ctx) => {
    const inst = ctx.core.state.installations.get(Number(ctx.params.id));
    if (!inst) throw notFound();
    const { token, expiresAt } = issueInstallationToken(ctx.core.state, inst);
    const repos = [...inst.repoIds].flatMap((id) => {
      const repo = ctx.core.state.repoById(id);
      return repo ? [repoJson(ctx.core.urls, repo)] : [];
    });
    return ok(
      {
        token,
        expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
        permissions: installationPermissions(),
        repository_selection: "selected",
        repositories: repos,
      },
      201,
    );
  });

  r.add("GET", "/repos/:owner/:repo/installation", { auth: "app" }, (ctx) => {
    const repo = ctx.core.state.repo(ctx.params.owner!, ctx.params.repo!);
    const inst = repo?.installationId != null ? ctx.core.state.installations.get(repo.installationId) : undefined;
    if (!inst) throw notFound();
    return ok(installationJson(ctx.core.urls, inst));
  });

  for (const kind of ["orgs", "users"]) {
    r.add("GET", `/${kind}/:login/installation`, { auth: "app" }, (ctx) => {
      for (const inst of ctx.core.state.installations.values()) {
        if (inst.account.login.toLowerCase() === ctx.params.login!.toLowerCase()) return ok(installationJson(ctx.core.urls, inst));
      }
      throw notFound();
    });
  }

  r.add("GET", "/installation/repositories", { auth: "installation" }, (ctx) => {
    if (ctx.auth.kind !== "installation") throw new HttpError(403, "Resource not accessible by integration");
    const repos = [...ctx.auth.installation.repoIds].flatMap((id) => {
      const repo = ctx.core.state.repoById(id);
      return repo ? [repoJson(ctx.core.urls, repo)] : [];
    });
    const { page, headers } = paginate(repos, ctx.query, ctx.selfUrl);
    return ok({ total_count: repos.length, repository_selection: "selected", repositories: page }, 200, headers);
  });

  r.add("GET", "/user", { auth: "any" }, (ctx) => {
    if (ctx.auth.kind !== "user") throw new HttpError(403, "Resource not accessible by integration");
    const u = ctx.auth.user;
    return ok({ ...accountJson(ctx.core.urls, u), name: u.name, email: u.email });
  });

  r.add("GET", "/users/:login", { auth: "any" }, (ctx) => {
    const login = ctx.params.login!;
    if (login.toLowerCase() === ctx.core.bot.login.toLowerCase()) return ok(accountJson(ctx.core.urls, ctx.core.bot));
    const u = ctx.core.state.user(login);
    if (u) return ok({ ...accountJson(ctx.core.urls, u), name: u.name });
    for (const repo of ctx.core.state.repos.values()) {
      if (repo.owner.login.toLowerCase() === login.toLowerCase()) return ok(accountJson(ctx.core.urls, repo.owner));
    }
    throw notFound();
  });
}
