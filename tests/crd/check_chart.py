#!/usr/bin/env python3
"""Checks invariants of the ringtrain chart's rendered manifests (`helm template` output).

Usage: check_chart.py RENDERED.yaml CHART_DIR OVERRIDE.yaml RELEASE_NAMESPACE

Invariants (for the values = chart defaults merged with OVERRIDE):
  - every object carries app.kubernetes.io/part-of: ringtrain and a namespace when namespaced,
    and none is app.kubernetes.io/component: runtime (training pods have no identity of their
    own: the operator creates them with automountServiceAccountToken: false and pulls their
    progress from worker 0, so the chart provisions nothing for them);
  - the operator Deployment: named <fullname>-operator; args (--leader-elect iff leaderElection,
    metrics and health addresses); env exactly WATCH_NAMESPACE, RINGTRAIN_RUNTIME_IMAGE,
    POD_NAMESPACE, POD_NAME (the values the operator reads); probes /healthz and /readyz on the
    health port, non-root, read-only root file system, all capabilities dropped, no privilege
    escalation;
  - operator RBAC: a ClusterRole when watchNamespace is "", else a Role in watchNamespace; no
    wildcard; secrets only created and deleted (never read: the jobs' keys are derived again);
    `delete` on trainingjobs (ttlSecondsAfterFinished); leases only in a Role of the release
    namespace;
  - the operator's master secret: a Secret of the release, mounted read-only with mode 0440
    and given as --key-file, the pod's fsGroup its group;
  - no ClusterRole or Role but the operator's grants anything on trainingjobs/status;
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
# The environment of the operator container: what the operator binary reads.
OPERATOR_ENV = {"WATCH_NAMESPACE", "RINGTRAIN_RUNTIME_IMAGE", "POD_NAMESPACE", "POD_NAME"}


def grants(rule, group, resource):
    """Whether an RBAC rule covers `resource` of API group `group` (wildcards included)."""
    base = resource.split("/")[0]
    sub = resource.split("/", 1)[1] if "/" in resource else None
    covered = {resource, "*"} | ({f"{base}/*", f"*/{sub}"} if sub else set())
    return bool({group, "*"} & set(rule.get("apiGroups", []))) and \
        bool(covered & set(rule.get("resources", [])))


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
        check(md.get("labels", {}).get("app.kubernetes.io/component") != "runtime",
              f"{what} is not a runtime object", md.get("labels"))

    deployments = of("Deployment")
    check(len(deployments) == 1, "one Deployment", [d["metadata"]["name"] for d in deployments])
    if deployments:
        dep = deployments[0]
        if values["fullnameOverride"]:
            want_name = f"{values['fullnameOverride']}-operator"
            check(dep["metadata"]["name"] == want_name, f"Deployment named {want_name}",
                  dep["metadata"]["name"])
        pod = dep["spec"]["template"]["spec"]
        c = pod["containers"][0]
        args = c.get("args", [])
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        check(set(env) == OPERATOR_ENV, f"env is exactly {sorted(OPERATOR_ENV)}", sorted(env))
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
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        check(ports.get("health") == health["port"], "health port", ports)
        check(c["livenessProbe"]["httpGet"]["path"] == "/healthz" and
              c["readinessProbe"]["httpGet"]["path"] == "/readyz", "probes /healthz, /readyz")
        sc, psc = c.get("securityContext", {}), pod.get("securityContext", {})
        check(sc.get("readOnlyRootFilesystem") is True, "read-only root file system", sc)
        check(sc.get("allowPrivilegeEscalation") is False, "no privilege escalation", sc)
        check(sc.get("capabilities", {}).get("drop") == ["ALL"], "all capabilities dropped", sc)
        check(psc.get("runAsNonRoot") is True or sc.get("runAsNonRoot") is True, "runs as non-root")
        label_args = [a for a in args if a.startswith("--operator-labels=")]
        selector = dep["spec"]["selector"]["matchLabels"]
        check(len(label_args) == 1 and dict(kv.split("=", 1) for kv in
                                             label_args[0].split("=", 1)[1].split(",")) == selector,
              "--operator-labels are the Deployment's selector labels (the jobs' NetworkPolicies "
              "admit them)", (label_args, selector))
        key_args = [a for a in args if a.startswith("--key-file=")]
        check(len(key_args) == 1, "args has --key-file", args)
        if key_args:
            key_dir = os.path.dirname(key_args[0].split("=", 1)[1])
            mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
            mount = mounts.get(key_dir, {})
            volume = next((v for v in pod.get("volumes", []) if v["name"] == mount.get("name")), {})
            secret_name = volume.get("secret", {}).get("secretName")
            check(mount.get("readOnly") is True and volume.get("secret", {}).get("defaultMode") == 0o440,
                  "the master secret is mounted read-only, mode 0440", (mount, volume))
            check(any(s["metadata"]["name"] == secret_name for s in of("Secret")),
                  "the master secret is the release's", secret_name)
            check(psc.get("fsGroup") == psc.get("runAsGroup") and psc.get("fsGroup") is not None,
                  "the key's group (fsGroup) is the operator's", psc)
        sa_name = pod.get("serviceAccountName")
        if values["serviceAccount"]["name"]:
            check(sa_name == values["serviceAccount"]["name"], "pods use serviceAccount.name",
                  sa_name)
        if values["serviceAccount"]["create"]:
            check(any(s["metadata"]["name"] == sa_name and s["metadata"]["namespace"] == release_ns
                      for s in of("ServiceAccount")), "operator ServiceAccount exists", sa_name)

    rbac = [d for d in docs if d["kind"] in RBAC_KINDS]
    roles = [d for d in rbac if d["kind"] in ("Role", "ClusterRole")]
    op_roles = [d for d in roles if d["metadata"]["name"].endswith("-operator")]
    status_writers = [f"{d['kind']}/{d['metadata']['name']}" for d in roles if d not in op_roles
                      and any(grants(r, "ringtrain.io", "trainingjobs/status")
                              for r in d.get("rules") or [])]
    check(not status_writers, "only the operator role grants trainingjobs/status", status_writers)
    if not values["rbac"]["create"]:
        check(not rbac, "rbac.create false: no RBAC", [d["metadata"]["name"] for d in rbac])
    else:
        watch = values["watchNamespace"]
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
                if "networkpolicies" in rule["resources"]:
                    check(sorted(rule["verbs"]) == ["create", "delete"] and
                          rule["resources"] == ["networkpolicies"],
                          f"networkpolicies only created and deleted: {rule}")
                if "secrets" in rule["resources"]:
                    check(sorted(rule["verbs"]) == ["create", "delete"] and
                          rule["resources"] == ["secrets"],
                          f"secrets only created and deleted, never read: {rule}")
                check("leases" not in rule["resources"], f"no leases in the operator role {rule}")
            check(any(grants(r, "ringtrain.io", "trainingjobs") and "delete" in r["verbs"]
                      for r in role["rules"]),
                  "operator role may delete trainingjobs (ttlSecondsAfterFinished)", role["rules"])
        if values["leaderElection"]:
            le = [d for d in of("Role") if any("leases" in r["resources"] for r in d["rules"])]
            check(len(le) == 1 and le[0]["metadata"]["namespace"] == release_ns,
                  "leases only in a Role of the release namespace",
                  [(d["metadata"]["name"], d["metadata"].get("namespace")) for d in le])

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
