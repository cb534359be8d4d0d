#!/usr/bin/env python3
"""local_kubelet.py: plays the kubelet (and cluster DNS) for the pods in some namespaces, so an
end-to-end test can run real training through the operator on one machine.

Every Pending pod in the namespaces given is started, as a kubelet would, and its phase, IP,
readiness, exit code and termination message are written back through the pod's status
subresource. Each pod is bound to the node "local-kubelet" when it starts (the node registered and
reported Ready every 10 s, as a kubelet does, or kube-controller-manager would delete and evict
the pods of a node that does not exist or does not report), so that deleting it
is graceful as in a cluster: the API server marks it terminating, the process gets SIGTERM
(then SIGKILL after the pod's grace period, at most 30 s), and once it has exited the pod is
removed (the kubelet's final delete).

How a pod runs:
- With --runtime RINGTRAIN, only TrainingJob pods (label ringtrain.io/job-name) are run, each as
  a local process of RINGTRAIN with the pod's args and environment.
- With --buildah BUILDAH (images/buildah.sh), every pod runs as a container of the image its
  spec names (ringtrain/runtime:V is looked up as localhost/ringtrain/runtime:V in the buildah
  store; nothing is pulled): the image's entrypoint (or the pod's command) with the pod's args,
  as the image's user, its ConfigMap volumes and projected volumes (of ConfigMaps and Secrets:
  a job pod's spec, public keys and own secret key) mounted read-only and its hostPath volumes as
  the pod asks (subPath, readOnly) where the pod mounts them, its persistentVolumeClaim volumes
  (below) likewise, and,
  unless the pod opts out (automountServiceAccountToken: false), its service account's token,
  the cluster CA and the namespace at /var/run/secrets/kubernetes.io/serviceaccount with
  KUBERNETES_SERVICE_HOST/PORT set, as in a cluster (--api-url and --ca-file say where the API
  server is). So `helm install` of the chart brings up the operator Deployment's pod from the
  operator image, and the job pods it creates run from the runtime image.

A persistentVolumeClaim volume stands for storage that outlives pods: the claim must exist in
the pod's namespace (nothing provisions or binds it here), and its data is the directory
<workdir>/claims/<namespace>/<claimName>, shared by every pod that mounts the claim. With
--buildah it is bind-mounted where the pod mounts it; with --runtime a process sees the host's
files, so the mount path is made a symlink to that directory (it must not exist otherwise,
and its parent must be writable: tests mount claims under their own temp dirs).

Each pod gets an address of its own on the loopback network, standing for its pod IP:
127.0.<1 for ps, 2 for workers>.<index + 1> for job pods, 127.0.3.<n> for others. What a job
pod would bind on "*" it binds there, and the in-cluster DNS names of parameter servers in
RINGTRAIN_PS_ENDPOINTS are resolved to those addresses (the cluster DNS's part); buildah's
chroot isolation shares the host's network, so containers see the same addresses. One
difference from a kubelet: chroot isolation cannot bind-mount a file into /dev, so the
termination log is a file in a mounted directory, named to the program through
RINGTRAIN_TERMINATION_LOG (the pod contract's own variable).

Usage: local_kubelet.py --kubectl K --namespace NS [--namespace NS2 ...]
                        (--runtime RINGTRAIN | --buildah BUILDAH [--api-url URL --ca-file CA])
                        --workdir DIR [--timeout SECONDS]
Stops by itself after --timeout seconds, or on SIGTERM; every process it started goes with it.
"""
import argparse
import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse

NODE = "local-kubelet"
ROLE_NET = {"ps": 1, "worker": 2}
OTHER_NET = 3
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
TERM_DIR = "/run/ringtrain-kubelet"


def kubectl(args, base, stdin=None, check=True):
    r = subprocess.run(base + args, input=stdin, capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def set_status(base, ns, name, phase, ip, image, exit_code=None, message="", ready=False):
    container = {"name": "main", "image": image, "imageID": "", "ready": ready,
                 "restartCount": 0}
    if exit_code is None:
        container["state"] = {"running": {"startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                     time.gmtime())}}
    else:
        container["state"] = {"terminated": {"exitCode": exit_code, "message": message[:4096],
                                             "reason": "Completed" if exit_code == 0 else "Error"}}
    status = {"phase": phase, "podIP": ip, "podIPs": [{"ip": ip}],
              "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
              "containerStatuses": [container]}
    kubectl(["-n", ns, "patch", "pod", name, "--subresource=status", "--type=merge", "-p",
             json.dumps({"status": status})], base, check=False)


def local_image(image):
    """The name the buildah store knows an image by: no registry in the name means localhost."""
    first = image.split("/")[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return image
    return "localhost/" + image


class Pod:
    """One running pod: its process and what is needed to report and clean up after it."""

    def __init__(self, proc, ns, name, ip, image, term, ctr):
        self.proc, self.ns, self.name, self.ip = proc, ns, name, ip
        self.image, self.term, self.ctr = image, term, ctr


class Kubelet:
    def __init__(self, a):
        self.a = a
        self.base = [a.kubectl]
        self.pods = {}  # pod uid -> Pod
        self.done = set()  # uids that ran to the end
        self.other_ips = {}  # uid -> last octet, for pods that are not a job's
        self.ready_since = None  # when the node was registered, once it is
        self.next_heartbeat = 0.0

    def pod_ip(self, pod):
        labels = pod["metadata"].get("labels", {})
        if "ringtrain.io/job-name" in labels:
            role = labels.get("ringtrain.io/role", "worker")
            return f"127.0.{ROLE_NET.get(role, OTHER_NET)}.{int(labels.get('ringtrain.io/index', '0')) + 1}"
        uid = pod["metadata"]["uid"]
        self.other_ips.setdefault(uid, len(self.other_ips) + 1)
        return f"127.0.{OTHER_NET}.{self.other_ips[uid]}"

    def pod_env(self, pod, container, ip):
        """The container's environment: values, field references, and the job pods' addresses."""
        meta = pod["metadata"]
        fields = {"metadata.name": meta["name"], "metadata.namespace": meta["namespace"],
                  "metadata.uid": meta["uid"], "status.podIP": ip,
                  "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "default")}
        env = {}
        for e in container.get("env", []):
            secret = e.get("valueFrom", {}).get("secretKeyRef")
            if secret:
                # As the kubelet resolves it: a missing Secret or key fails the pod's start
                # unless the reference is optional.
                value = self.secret_key(meta["namespace"], secret)
                if value is not None:
                    env[e["name"]] = value
                continue
            ref = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
            env[e["name"]] = fields.get(ref, "") if ref else e.get("value", "")
        for var in ("RINGTRAIN_BIND", "RINGTRAIN_STATUS_BIND"):
            if var in env:
                env[var] = env[var].replace("tcp://*:", f"tcp://{ip}:")
        if "RINGTRAIN_PS_ENDPOINTS" in env:
            # <job>-ps-<i>.<job>-ps.<ns>.svc -> that pod's address (the cluster DNS's part)
            env["RINGTRAIN_PS_ENDPOINTS"] = re.sub(
                r"tcp://[a-z0-9-]+-ps-(\d+)\.[a-z0-9.-]+:",
                lambda m: f"tcp://127.0.{ROLE_NET['ps']}.{int(m.group(1)) + 1}:",
                env["RINGTRAIN_PS_ENDPOINTS"])
        return env

    def secret_key(self, ns, ref):
        """The value of key ref["key"] of Secret ref["name"]; None if ref is optional and the
        Secret or key is missing (RuntimeError if it is not optional)."""
        r = subprocess.run(self.base + ["-n", ns, "get", "secret", ref["name"], "-o", "json"],
                           capture_output=True, text=True, timeout=60)
        data = json.loads(r.stdout).get("data", {}) if r.returncode == 0 else {}
        if ref["key"] in data:
            return base64.b64decode(data[ref["key"]]).decode()
        if ref.get("optional"):
            return None
        raise RuntimeError(f"secret {ns}/{ref['name']}: no key {ref['key']}")

    def config_map_volumes(self, pod, pod_dir):
        """Writes each ConfigMap and Secret volume's files, and each projected volume's (ConfigMap
        and Secret sources, items and defaultMode as the kubelet honours them; the files owned by the
        pod's fsGroup, as the kubelet makes them), into a directory: volume name -> directory."""
        ns = pod["metadata"]["namespace"]
        fs_group = pod["spec"].get("securityContext", {}).get("fsGroup")
        dirs = {}
        for v in pod["spec"].get("volumes", []):
            if "configMap" in v:
                sources, mode = [{"configMap": v["configMap"]}], v["configMap"].get("defaultMode")
            elif "secret" in v:
                ref = dict(v["secret"], name=v["secret"]["secretName"])
                sources, mode = [{"secret": ref}], v["secret"].get("defaultMode")
            elif "projected" in v:
                sources, mode = v["projected"]["sources"], v["projected"].get("defaultMode")
            else:
                continue
            d = os.path.join(pod_dir, "volumes", v["name"])
            os.makedirs(d, exist_ok=True)
            for source in sources:
                kind = "configMap" if "configMap" in source else "secret"
                ref = source[kind]
                obj = json.loads(kubectl(["-n", ns, "get", kind.lower(), ref["name"], "-o",
                                          "json"], self.base))
                if kind == "configMap":
                    files = {k: t.encode() for k, t in obj.get("data", {}).items()}
                else:
                    files = {k: base64.b64decode(t) for k, t in obj.get("data", {}).items()}
                items = ref.get("items")
                if items:
                    files = {i["path"]: files[i["key"]] for i in items}
                for path, data in files.items():
                    f = os.path.join(d, path)
                    with open(f, "wb") as out:
                        out.write(data)
                    if mode is not None:
                        os.chmod(f, mode)
                    if fs_group is not None and os.geteuid() == 0:
                        os.chown(f, -1, fs_group)
            dirs[v["name"]] = d
        return dirs

    def claim_volumes(self, pod):
        """The directory of each persistentVolumeClaim volume: volume name -> directory."""
        ns = pod["metadata"]["namespace"]
        dirs = {}
        for v in pod["spec"].get("volumes", []):
            if "persistentVolumeClaim" not in v:
                continue
            claim = v["persistentVolumeClaim"]["claimName"]
            kubectl(["-n", ns, "get", "pvc", claim, "-o", "name"], self.base)  # must exist
            d = os.path.join(self.a.workdir, "claims", ns, claim)
            os.makedirs(d, exist_ok=True)
            dirs[v["name"]] = d
        return dirs

    def link_claims(self, container, claims):
        """--runtime: each claim's mount path becomes a symlink to the claim's directory."""
        for m in container.get("volumeMounts", []):
            if m["name"] not in claims:
                continue
            path, target = m["mountPath"], claims[m["name"]]
            if os.path.islink(path) and os.readlink(path) == target:
                continue
            if os.path.lexists(path):
                raise RuntimeError(f"volume {m['name']}: {path} exists (a claim's mount path is "
                                   "made a symlink to its directory)")
            os.symlink(target, path)

    def heartbeat(self):
        """Registers this node (once) and reports it Ready every 10 s, as a kubelet does.

        Without the Node, kube-controller-manager's pod garbage collector deletes every pod bound
        here 40 s or so after it first sees them (orphans of a node that does not exist), even
        pods that finished, whose status tests read; without the heartbeat, its node lifecycle
        controller would mark the node unreachable and have the pods evicted."""
        now = time.time()
        if now < self.next_heartbeat:
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        if not self.ready_since:
            node = {"apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": NODE, "labels": {"kubernetes.io/hostname": NODE}}}
            kubectl(["apply", "-f", "-"], self.base, stdin=json.dumps(node))
            self.ready_since = stamp
        ready = {"type": "Ready", "status": "True", "reason": "KubeletReady",
                 "message": "local_kubelet.py is posting ready status",
                 "lastHeartbeatTime": stamp, "lastTransitionTime": self.ready_since}
        kubectl(["patch", "node", NODE, "--subresource=status", "--type=merge", "-p",
                 json.dumps({"status": {"conditions": [ready]}})], self.base)
        self.next_heartbeat = now + 10

    def bind(self, pod):
        """Assigns the pod to this node (the scheduler's part), as a Binding."""
        meta = pod["metadata"]
        if pod["spec"].get("nodeName"):
            return
        binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": meta["name"]},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": NODE}}
        kubectl(["create", "--raw",
                 f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/binding", "-f",
                 "-"], self.base, stdin=json.dumps(binding))

    def start(self, pod):
        meta = pod["metadata"]
        ns, name, uid = meta["namespace"], meta["name"], meta["uid"]
        ip = self.pod_ip(pod)
        container = pod["spec"]["containers"][0]
        env = self.pod_env(pod, container, ip)
        pod_dir = os.path.join(self.a.workdir, f"{ns}-{name}-{uid[:8]}")
        os.makedirs(pod_dir, exist_ok=True)
        volumes = self.config_map_volumes(pod, pod_dir)
        claims = self.claim_volumes(pod)
        self.bind(pod)
        if self.a.buildah:
            argv, ctr = self.container_argv(pod, container, env, volumes, claims, pod_dir)
            popen_env = None  # buildah's own; the pod's goes in through --env
        else:
            # The files the pod contract names in a mounted volume (the spec, the keys) are
            # where this process finds them.
            for m in container.get("volumeMounts", []):
                for var in ("RINGTRAIN_SPEC_PATH", "RINGTRAIN_PUBLIC_KEYS", "RINGTRAIN_SECRET_KEY"):
                    if m["name"] in volumes and env.get(var, "").startswith(m["mountPath"] + "/"):
                        env[var] = os.path.join(volumes[m["name"]],
                                                env[var][len(m["mountPath"]) + 1:])
            self.link_claims(container, claims)
            env["RINGTRAIN_TERMINATION_LOG"] = os.path.join(pod_dir, "termination-log")
            env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
            argv, ctr, popen_env = [self.a.runtime] + container.get("args", []), None, env
        try:
            # The child keeps its own copy of the log's descriptor; this one closes here.
            with open(os.path.join(self.a.workdir, f"{ns}-{name}.log"), "ab") as log:
                p = subprocess.Popen(argv, env=popen_env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        except OSError:
            self.remove(Pod(None, ns, name, ip, container["image"], None, ctr))
            raise
        self.pods[uid] = Pod(p, ns, name, ip, container["image"],
                             os.path.join(pod_dir, "termination-log"), ctr)
        set_status(self.base, ns, name, "Running", ip, container["image"], ready=True)
        print(f"kubelet: started {ns}/{name} at {ip} (pid {p.pid}"
              f"{', container ' + ctr if ctr else ''})", flush=True)

    def buildah(self, args):
        r = subprocess.run([self.a.buildah] + args, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"buildah {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout.strip()

    def service_account(self, pod, pod_dir):
        """The token, CA and namespace a pod's service account mount holds: the directory."""
        ns = pod["metadata"]["namespace"]
        sa = pod["spec"].get("serviceAccountName", "default")
        d = os.path.join(pod_dir, "serviceaccount")
        os.makedirs(d, exist_ok=True)
        token = kubectl(["-n", ns, "create", "token", sa, "--duration=2h"], self.base).strip()
        with open(self.a.ca_file) as f:
            ca = f.read()
        for key, text in (("token", token), ("ca.crt", ca), ("namespace", ns)):
            with open(os.path.join(d, key), "w") as f:
                f.write(text)
            os.chmod(os.path.join(d, key), 0o644)  # the image's user reads them
        return d

    def container_argv(self, pod, container, env, volumes, claims, pod_dir):
        """The buildah run command line for the pod's container (created here), and its name."""
        image = local_image(container["image"])
        config = json.loads(self.buildah(["inspect", "--type", "image", image]))
        entrypoint = config["OCIv1"]["config"].get("Entrypoint") or []
        os.chmod(pod_dir, 0o777)  # the image's user writes its last words there
        argv = [self.a.buildah, "run", "--isolation", "chroot", "--volume", f"{pod_dir}:{TERM_DIR}"]
        host_paths = {v["name"]: v["hostPath"]["path"]
                      for v in pod["spec"].get("volumes", []) if "hostPath" in v}
        for m in container.get("volumeMounts", []):
            if m["name"] in volumes:
                argv += ["--volume", f"{volumes[m['name']]}:{m['mountPath']}:ro"]
            elif m["name"] in claims:
                source = os.path.join(claims[m["name"]], m.get("subPath", ""))
                mode = ":ro" if m.get("readOnly") else ""
                argv += ["--volume", f"{source.rstrip('/')}:{m['mountPath']}{mode}"]
            elif m["name"] in host_paths:
                source = os.path.join(host_paths[m["name"]], m.get("subPath", ""))
                mode = ":ro" if m.get("readOnly") else ""
                argv += ["--volume", f"{source.rstrip('/') or '/'}:{m['mountPath']}{mode}"]
            else:
                raise RuntimeError(f"volume {m['name']}: only configMap, secret, projected, "
                                   "hostPath and persistentVolumeClaim volumes can be mounted "
                                   "here")
        if pod["spec"].get("automountServiceAccountToken", True) and self.a.api_url:
            # Debian's /var/run is a symlink to /run, which buildah's chroot mounts do not
            # follow: mounted at the link's target, the files show at both paths.
            argv += ["--volume", f"{self.service_account(pod, pod_dir)}:"
                     f"{SA_DIR.replace('/var/run/', '/run/', 1)}:ro"]
            url = urllib.parse.urlparse(self.a.api_url)
            env["KUBERNETES_SERVICE_HOST"] = url.hostname
            env["KUBERNETES_SERVICE_PORT"] = str(url.port or 443)
        env["RINGTRAIN_TERMINATION_LOG"] = f"{TERM_DIR}/termination-log"
        for k, v in sorted(env.items()):
            argv += ["--env", f"{k}={v}"]
        command = container.get("command") or entrypoint
        # Last, so that nothing above can fail and leave the container behind.
        ctr = f"pod-{pod['metadata']['uid'][:12]}"
        self.buildah(["from", "--pull=never", "--name", ctr, image])
        return argv + [ctr, "--"] + command + container.get("args", []), ctr

    def remove(self, pod):
        if pod.ctr:
            try:
                self.buildah(["rm", pod.ctr])
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"kubelet: {e}", file=sys.stderr, flush=True)

    def reap(self, uid):
        pod = self.pods.pop(uid)
        code = pod.proc.wait()
        if code < 0:
            code = 128 - code  # killed by a signal, as a container runtime reports it
        self.remove(pod)
        message = ""
        if os.path.exists(pod.term):
            with open(pod.term) as f:
                message = f.read().strip()
        set_status(self.base, pod.ns, pod.name, "Succeeded" if code == 0 else "Failed", pod.ip,
                   pod.image, code, message)
        self.done.add(uid)
        print(f"kubelet: {pod.ns}/{pod.name} exited {code}", flush=True)

    def stop(self, uid, grace=10.0):
        pod = self.pods.pop(uid)
        try:
            os.killpg(pod.proc.pid, signal.SIGTERM)
            pod.proc.wait(timeout=grace)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(pod.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            pod.proc.wait()
        self.remove(pod)

    def finish_deletion(self, pod):
        """A terminating pod: its process stopped, then the pod removed (as a kubelet does)."""
        meta = pod["metadata"]
        uid = meta["uid"]
        if uid in self.pods:
            grace = meta.get("deletionGracePeriodSeconds")
            self.stop(uid, grace=min(30.0, float(10 if grace is None else grace)))
            print(f"kubelet: stopped {meta['namespace']}/{meta['name']} (deleted)", flush=True)
        self.done.add(uid)
        if pod["spec"].get("nodeName") == NODE:
            kubectl(["-n", meta["namespace"], "delete", "pod", meta["name"], "--grace-period=0",
                     "--force", "--wait=false"], self.base, check=False)

    def sync(self):
        seen = set()
        for ns in self.a.namespace:
            selector = [] if self.a.buildah else ["-l", "ringtrain.io/job-name"]
            pods = json.loads(kubectl(["-n", ns, "get", "pods", "-o", "json"] + selector,
                                      self.base))["items"]
            for pod in pods:
                uid = pod["metadata"]["uid"]
                seen.add(uid)
                if pod["metadata"].get("deletionTimestamp"):
                    self.finish_deletion(pod)
                elif uid in self.pods:
                    if self.pods[uid].proc.poll() is not None:
                        self.reap(uid)
                elif uid not in self.done and \
                        pod.get("status", {}).get("phase", "Pending") == "Pending":
                    self.start(pod)
        for uid in [u for u in self.pods if u not in seen]:
            self.stop(uid)  # the pod is gone

    def run(self):
        deadline = time.time() + self.a.timeout
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
        try:
            while time.time() < deadline and not stopping:
                for step in (self.heartbeat, self.sync):  # a failed heartbeat stops no pod
                    try:
                        step()
                    except (RuntimeError, OSError, subprocess.TimeoutExpired,
                            json.JSONDecodeError) as e:
                        print(f"kubelet: {e}", file=sys.stderr, flush=True)
                time.sleep(0.2)
        finally:
            for uid in list(self.pods):
                self.stop(uid, grace=2.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubectl", required=True)
    ap.add_argument("--namespace", required=True, action="append")
    how = ap.add_mutually_exclusive_group(required=True)
    how.add_argument("--runtime", help="the ringtrain binary: job pods run as its processes")
    how.add_argument("--buildah", help="images/buildah.sh: pods run as containers of their image")
    ap.add_argument("--api-url", help="with --buildah: the API server pods' service accounts use")
    ap.add_argument("--ca-file", help="with --api-url: the cluster CA they trust")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    if a.api_url and not a.ca_file:
        ap.error("--api-url needs --ca-file")
    Kubelet(a).run()


if __name__ == "__main__":
    main()
