#!/usr/bin/env python3
"""Checks invariants of the ringtrain chart's rendered manifests (`helm template` output).

Usage: check_chart.py RENDERED.yaml CHART_DIR OVERRIDE.yaml RELEASE_NAMESPACE

Invariants (for the values = chart defaults merged with OVERRIDE):
  - every object carries app.kubernetes.io/part-of: ringtrain and a namespace when namespaced;
  - the operator Deployment: args (--leader-elect iff leaderElection, metrics and health
    addresses), env WATCH_NAMESPACE / RINGTRAIN_RUNTIME_IMAGE / RINGTRAIN_RUNTIME_SERVICE_ACCOUNT,
    probes /healthz and /readyz on the health port, non-root, read-only root file system, all
    capabilities dropped, no privilege escalation;
  - operator RBAC: a ClusterRole when watchNamespace is "", else a Role in watchNamespace; no
    wildcard, no secrets; leases only in a Role of the release namespace;
  - the runtime ClusterRole grants exactly `patch` on trainingjobs/status, bound by a RoleBinding
    next to a ServiceAccount in every runtime namespace;
  - rbac.create false renders no RBAC; metrics.enabled false renders no Service.
Prints one line per check and "N passed, M failed" last; exit 1 on failure.
"""
import os
import sys

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.stderr.write("check_chart.py: needs PyYAML; install the Debian package python3-yaml\n")
    sys.exit(2)

CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Namespace"}
RBAC_KINDS = {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}


def merge(base, over):
    out = dict(base)
    for k, v in (over or {}).items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def main(argv):
    rendered_path, chart_dir, override_path, release_ns = argv
    with open(rendered_path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    with open(os.path.join(chart_dir, "values.yaml"), encoding="utf-8") as f:
        values = yaml.safe_load(f)
    with open(os.path.join(chart_dir, "Chart.yaml"), encoding="utf-8") as f:
        app_version = str(yaml.safe_load(f)["appVersion"])
    with open(override_path, encoding="utf-8") as f:
        values = merge(values, yaml.safe_load(f) or {})
    passed = failed = 0

    def check(ok, what, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok   {what}")
        else:
            failed += 1
            print(f"FAIL {what}: {detail}")

    def of(kind):
        return [d for d in docs if d["kind"] == kind]

    for d in docs:
        md = d["metadata"]
        what = f"{d['kind']}/{md['name']}"
        check(md.get("labels", {}).get("app.kubernetes.io/part-of") == "ringtrain",
              f"{what} is labelled part-of ringtrain", md.get("labels"))
        if d["kind"] not in CLUSTER_SCOPED:
            check(bool(md.get("namespace")), f"{what} names its namespace", "no namespace")

    deployments = of("Deployment")
    check(len(deployments) == 1, "one Deployment", [d["metadata"]["name"] for d in deployments])
    if deployments:
        dep = deployments[0]
        pod = dep["spec"]["template"]["spec"]
        c = pod["containers"][0]
        args = c.get("args", [])
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        metrics, health = values["metrics"], values["health"]
        want_metrics = f"--metrics-bind-address=:{metrics['port']}" if metrics["enabled"] else \
            "--metrics-bind-address=0"
        check(("--leader-elect" in args) == values["leaderElection"],
              "--leader-elect iff leaderElection", args)
        check(want_metrics in args, f"args has {want_metrics}", args)
        check(f"--health-probe-bind-address=:{health['port']}" in args, "health address", args)
        check(dep["spec"]["replicas"] == values["replicas"], "replicas", dep["spec"]["replicas"])
        check(env.get("WATCH_NAMESPACE") == values["watchNamespace"], "env WATCH_NAMESPACE", env)
        tag = values["runtimeImage"]["tag"] or app_version
        check(env.get("RINGTRAIN_RUNTIME_IMAGE") == f"{values['runtimeImage']['repository']}:{tag}",
              "env RINGTRAIN_RUNTIME_IMAGE", env.get("RINGTRAIN_RUNTIME_IMAGE"))
        rsa = values["runtime"]["serviceAccount"]
        check(env.get("RINGTRAIN_RUNTIME_SERVICE_ACCOUNT") == (rsa["name"] if rsa["create"] else ""),
              "env RINGTRAIN_RUNTIME_SERVICE_ACCOUNT", env.get("RINGTRAIN_RUNTIME_SERVICE_ACCOUNT"))
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        check(ports.get("health") == health["port"], "health port", ports)
        check(c["livenessProbe"]["httpGet"]["path"] == "/healthz" and
              c["readinessProbe"]["httpGet"]["path"] == "/readyz", "probes /healthz, /readyz")
        sc, psc = c.get("securityContext", {}), pod.get("securityContext", {})
        check(sc.get("readOnlyRootFilesystem") is True, "read-only root file system", sc)
        check(sc.get("allowPrivilegeEscalation") is False, "no privilege escalation", sc)
        check(sc.get("capabilities", {}).get("drop") == ["ALL"], "all capabilities dropped", sc)
        check(psc.get("runAsNonRoot") is True or sc.get("runAsNonRoot") is True, "runs as non-root")
        sa_name = pod.get("serviceAccountName")
        if values["serviceAccount"]["name"]:
            check(sa_name == values["serviceAccount"]["name"], "pods use serviceAccount.name",
                  sa_name)
        if values["serviceAccount"]["create"]:
            check(any(s["metadata"]["name"] == sa_name and s["metadata"]["namespace"] == release_ns
                      for s in of("ServiceAccount")), "operator ServiceAccount exists", sa_name)

    rbac = [d for d in docs if d["kind"] in RBAC_KINDS]
    if not values["rbac"]["create"]:
        runtime_rbac = [d for d in rbac if d["metadata"]["labels"].get(
            "app.kubernetes.io/component") == "runtime"]
        check(len(rbac) == len(runtime_rbac), "rbac.create false: no operator RBAC",
              [d["metadata"]["name"] for d in rbac if d not in runtime_rbac])
    else:
        watch = values["watchNamespace"]
        op_roles = [d for d in rbac if d["kind"] in ("Role", "ClusterRole")
                    and d["metadata"]["name"].endswith("-operator")]
        check(len(op_roles) == 1, "one operator role", [d["metadata"]["name"] for d in op_roles])
        for role in op_roles:
            want_kind = "Role" if watch else "ClusterRole"
            check(role["kind"] == want_kind, f"operator rights are a {want_kind}", role["kind"])
            if watch:
                check(role["metadata"].get("namespace") == watch, "operator Role in watchNamespace",
                      role["metadata"].get("namespace"))
            for rule in role["rules"]:
                flat = rule["apiGroups"] + rule["resources"] + rule["verbs"]
                check("*" not in flat, f"no wildcard in {rule}")
                check("secrets" not in rule["resources"], f"no secrets in {rule}")
                check("leases" not in rule["resources"], f"no leases in the operator role {rule}")
        if values["leaderElection"]:
            le = [d for d in of("Role") if any("leases" in r["resources"] for r in d["rules"])]
            check(len(le) == 1 and le[0]["metadata"]["namespace"] == release_ns,
                  "leases only in a Role of the release namespace",
                  [(d["metadata"]["name"], d["metadata"].get("namespace")) for d in le])

    rsa = values["runtime"]["serviceAccount"]
    runtime_roles = [d for d in of("ClusterRole") if d["metadata"]["name"].endswith("-runtime")]
    if rsa["create"]:
        check(len(runtime_roles) == 1, "one runtime ClusterRole")
        for role in runtime_roles:
            check(role["rules"] == [{"apiGroups": ["ringtrain.io"],
                                     "resources": ["trainingjobs/status"], "verbs": ["patch"]}],
                  "runtime may only patch trainingjobs/status", role["rules"])
        namespaces = rsa.get("namespaces") or [values["watchNamespace"] or release_ns]
        for ns in namespaces:
            sas = [s for s in of("ServiceAccount")
                   if s["metadata"]["name"] == rsa["name"] and s["metadata"]["namespace"] == ns]
            rbs = [b for b in of("RoleBinding") if b["metadata"]["namespace"] == ns
                   and b["roleRef"]["kind"] == "ClusterRole"
                   and runtime_roles and b["roleRef"]["name"] == runtime_roles[0]["metadata"]["name"]
                   and b["subjects"] == [{"kind": "ServiceAccount", "name": rsa["name"],
                                          "namespace": ns}]]
            check(len(sas) == 1 and len(rbs) == 1,
                  f"runtime ServiceAccount {rsa['name']} and its RoleBinding in {ns}")
    else:
        check(not runtime_roles, "runtime.serviceAccount.create false: no runtime RBAC")

    services = of("Service")
    check(len(services) == (1 if values["metrics"]["enabled"] else 0),
          "a metrics Service iff metrics.enabled", [s["metadata"]["name"] for s in services])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
